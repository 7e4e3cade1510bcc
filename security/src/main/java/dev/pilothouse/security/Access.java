package dev.pilothouse.security;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a token's role and scope let it call (docs/security.md#roles). Decided from the method and
 * the path alone, before any handler runs; anything not named here needs the operator role to
 * change and the viewer role to read.
 */
public final class Access {
  private Access() {}

  /** A decision: allowed, or refused with the role it would need or the reason. */
  public record Decision(boolean allowed, String reason) {
    static final Decision YES = new Decision(true, "");

    static Decision no(String reason) {
      return new Decision(false, reason);
    }
  }

  /** Calls that change what runs, or read or change secrets: admin only. */
  private static final Pattern ADMIN =
      Pattern.compile(
          "/api/v1/(apply|shutdown|tokens(/.*)?|secrets(/.*)?|audit/host/fix|scan/update|services/[^/]+/restore"
              + "|backups/[^/]+/wal/(push|fetch))");

  /** PostgreSQL's archive_command and restore_command calls for one service's WAL. */
  public static final Pattern WAL_CALL =
      Pattern.compile("/api/v1/backups/([a-z0-9][a-z0-9-]*)/wal/(push|fetch)");

  /** Calls that send a body but only read: any role. */
  private static final Set<String> READ_POSTS =
      Set.of(
          "/api/v1/query",
          "/api/v1/query_range",
          "/api/v1/query_exemplars",
          "/api/v1/series",
          "/api/v1/labels",
          "/api/v1/validate",
          "/ofrep/v1/evaluate/flags");

  /** The service a path is about, when it names one. */
  private static final Pattern SERVICE_PATH =
      Pattern.compile("/api/v1/(services|rollouts|backups)/([^/]+)(/.*)?");

  /** Grant that lets a viewer send Prometheus remote-write. */
  public static final String REMOTE_WRITE = "remote-write";

  public static Decision decide(ApiToken t, String method, String path) {
    boolean read = isRead(method, path);
    Optional<String> service = service(path);
    if (!t.services().isEmpty()) {
      if (path.equals("/api/v1/secrets") || path.startsWith("/api/v1/secrets/")) {
        return Decision.no(
            "token '"
                + t.name()
                + "' is limited to "
                + String.join(", ", t.services())
                + "; secrets need an admin token for all services");
      }
      if (service.isPresent() && !t.services().contains(service.get())) {
        return Decision.no(
            "token '" + t.name() + "' is limited to " + String.join(", ", t.services()));
      }
      if (service.isEmpty() && !read) {
        return Decision.no(
            "token '"
                + t.name()
                + "' is limited to "
                + String.join(", ", t.services())
                + " and this call is not about one service");
      }
    }
    Role needed;
    if (ADMIN.matcher(path).matches()) {
      needed = Role.ADMIN;
    } else if (read) {
      needed = Role.VIEWER;
    } else if (path.equals("/api/v1/write") && t.grants().contains(REMOTE_WRITE)) {
      needed = Role.VIEWER;
    } else {
      needed = Role.OPERATOR;
    }
    if (!t.role().atLeast(needed)) {
      return Decision.no(
          "token '"
              + t.name()
              + "' has the role "
              + t.role().id()
              + "; "
              + method
              + " "
              + path
              + " needs "
              + needed.id());
    }
    return Decision.YES;
  }

  /** Whether the call only reads: GET, HEAD, or a POST that sends a query. */
  public static boolean isRead(String method, String path) {
    return method.equals("GET") || method.equals("HEAD") || isReadPost(method, path);
  }

  /** Whether the call is PostgreSQL archiving or fetching a service's WAL. */
  public static boolean isWalCall(String path) {
    return WAL_CALL.matcher(path).matches();
  }

  private static boolean isReadPost(String method, String path) {
    return method.equals("POST")
        && (READ_POSTS.contains(path)
            || path.startsWith("/ofrep/v1/evaluate/flags/")
            || (path.startsWith("/api/v1/label/") && path.endsWith("/values")));
  }

  static Optional<String> service(String path) {
    Matcher m = SERVICE_PATH.matcher(path);
    if (!m.matches()) {
      return Optional.empty();
    }
    String name = m.group(2);
    // /api/v1/backups/prune and /verify are about the repository, not a service
    if (m.group(1).equals("backups")
        && m.group(3) == null
        && (name.equals("prune") || name.equals("verify"))) {
      return Optional.empty();
    }
    return Optional.of(name);
  }
}
