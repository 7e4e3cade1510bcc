package dev.pilothouse.security;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;

/**
 * Who may call the API, decided before each call, and the record of it: failed authentications
 * limited per address, tokens checked against their role and scope ({@link Access}), and the
 * security events (AuthenticationFailed, AuthenticationLockout, ApiCallDenied, ApiCall) — never
 * with a secret. The server maps the outcomes to HTTP.
 */
public final class ApiGuard {
  /** Who called: a token's name and its role (null for a token that is not an API token). */
  public record Caller(String name, Role role) {}

  /** Why a call is refused. */
  public enum Refusal {
    /** Too many failed authentications from the address. */
    LOCKED_OUT,
    /** No token, or one that is wrong, expired or revoked. */
    UNAUTHENTICATED,
    /** A valid token whose role or scope does not allow the call. */
    FORBIDDEN
  }

  /** A decision: a caller, or a refusal with its reason (and when to retry, for a lockout). */
  public record Outcome(Caller caller, Refusal refusal, String reason, long retryAfterSeconds) {
    static Outcome allowed(Caller c) {
      return new Outcome(c, null, "", 0);
    }
  }

  private final Tokens tokens;
  private final FailedLogins failedLogins = new FailedLogins();
  private final EventSink events;
  private final InstantSource clock;

  public ApiGuard(Tokens tokens, EventSink events, InstantSource clock) {
    this.tokens = tokens;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Decides one call.
   *
   * @param sent whether the client sent credentials at all
   * @param secret the token it sent ("" when none could be read)
   * @param builtin the caller when the server recognised one of its own tokens (the daemon's, the
   *     flags token, a WAL token) for this call, else empty
   */
  public Outcome check(
      String address,
      String method,
      String path,
      boolean sent,
      String secret,
      Optional<Caller> builtin) {
    long blocked = failedLogins.blockedForSeconds(address);
    if (blocked > 0) {
      return new Outcome(
          null,
          Refusal.LOCKED_OUT,
          "too many failed authentications from "
              + address
              + ": its calls are refused for "
              + blocked
              + " s",
          blocked);
    }
    if (builtin.isPresent()) {
      return Outcome.allowed(builtin.get());
    }
    Optional<ApiToken> t = tokens.authenticate(secret);
    if (t.isPresent()) {
      Access.Decision d = Access.decide(t.get(), method, path);
      if (d.allowed()) {
        return Outcome.allowed(new Caller(t.get().name(), t.get().role()));
      }
      emit(
          "ApiCallDenied",
          d.reason(),
          Map.of(
              "token",
              t.get().name(),
              "role",
              t.get().role().id(),
              "method",
              method,
              "path",
              shortPath(path)));
      return new Outcome(null, Refusal.FORBIDDEN, d.reason(), 0);
    }
    // recorded, never with what was sent; at most FailedLogins.LIMIT a minute per address
    boolean lockedOut = failedLogins.failed(address);
    emit(
        lockedOut ? "AuthenticationLockout" : "AuthenticationFailed",
        (sent ? "a wrong API token" : "no API token")
            + " from "
            + address
            + (lockedOut ? ": too many failures, its calls are refused for up to a minute" : ""),
        Map.of("address", address, "method", method, "path", shortPath(path)));
    return new Outcome(
        null, Refusal.UNAUTHENTICATED, sent ? "wrong API token" : "missing API token", 0);
  }

  /**
   * Records a call that changed something as an ApiCall event naming the caller and its role.
   * Reads, refused calls, and the high-rate calls of machines (remote write, WAL archiving, signing
   * a checkpoint) are not recorded.
   */
  public void recordChange(Caller caller, String method, String path, int status) {
    if (caller == null
        || status >= 400
        || Access.isRead(method, path)
        || method.equals("OPTIONS")
        || path.equals("/api/v1/write")
        || path.equals("/api/v1/audit/checkpoint")
        || Access.isWalCall(path)) {
      return;
    }
    emit(
        "ApiCall",
        method + " " + shortPath(path) + " by " + caller.name(),
        Map.of(
            "token",
            caller.name(),
            "role",
            caller.role() == null ? "" : caller.role().id(),
            "method",
            method,
            "path",
            shortPath(path),
            "status",
            Integer.toString(status)));
  }

  private void emit(String type, String message, Map<String, String> fields) {
    events.emit(new NewEvent(clock.instant(), type, "", "", message, fields));
  }

  /** At most 200 characters of a path, for an event. */
  private static String shortPath(String p) {
    return p.length() > 200 ? p.substring(0, 200) : p;
  }
}
