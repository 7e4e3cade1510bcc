package dev.pilothouse.server;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.security.AuditRules;
import dev.pilothouse.security.HostAudit;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Maps the host audit to HTTP: {@code POST /api/v1/audit/host {profile}} (operator) and {@code POST
 * /api/v1/audit/host/fix {profile, dryRun}} (admin). The rules are the built-in ones plus any
 * {@code *.yaml} in STATE_DIR/audit-rules/; the audited root is "/" (PILOTHOUSE_AUDIT_ROOT for a
 * fixture tree).
 */
final class HostAuditApi {
  /** The audited root's variable: a fixture tree in tests; "/" otherwise. */
  static final String ROOT_ENV = "PILOTHOUSE_AUDIT_ROOT";

  private final Path stateDir;
  private final Supplier<HostAudit.Context> context;
  private final EventSink events;
  private final InstantSource clock;

  HostAuditApi(
      Path stateDir, Supplier<HostAudit.Context> context, EventSink events, InstantSource clock) {
    this.stateDir = stateDir;
    this.context = context;
    this.events = events;
    this.clock = clock;
  }

  record AuditRequest(String profile, Boolean dryRun) {}

  void audit(Context ctx) {
    AuditRequest b = Api.body(ctx, AuditRequest.class);
    String profile = profile(b);
    HostAudit.Report r = audit().run(profile, context.get());
    events.emit(
        new NewEvent(
            clock.instant(),
            "HostAudited",
            "",
            "",
            "host audit "
                + profile
                + ": score "
                + r.score()
                + ", "
                + r.counts().get("fail")
                + " failed",
            Map.of(
                "profile", profile,
                "score", Integer.toString(r.score()),
                "failed", Integer.toString(r.counts().get("fail")))));
    Api.send(ctx, 200, r);
  }

  void fix(Context ctx) throws IOException {
    AuditRequest b = Api.body(ctx, AuditRequest.class);
    String profile = profile(b);
    boolean dry = b.dryRun() != null && b.dryRun();
    Path backups =
        stateDir
            .resolve("audit")
            .resolve("backups")
            .resolve(clock.instant().toString().replace(':', '-'));
    HostAudit.FixReport r = audit().fix(profile, context.get(), dry, backups);
    if (!dry) {
      events.emit(
          new NewEvent(
              clock.instant(),
              "HostHardened",
              "",
              "",
              "host audit --fix "
                  + profile
                  + ": "
                  + r.changes().size()
                  + " changes, "
                  + r.nowPassing().size()
                  + " rules now pass, score "
                  + r.before().score()
                  + " -> "
                  + r.after().score(),
              Map.of(
                  "profile", profile,
                  "changes", Integer.toString(r.changes().size()),
                  "backups", backups.toString())));
    }
    Api.send(ctx, 200, r);
  }

  private static String profile(AuditRequest b) {
    String p = b.profile() == null ? "cis-debian12-l1" : b.profile();
    if (!HostAudit.PROFILES.contains(p)) {
      throw new ApiError(
          400,
          "profile: unknown '" + p + "'",
          "known profiles: " + String.join(", ", HostAudit.PROFILES));
    }
    return p;
  }

  private HostAudit audit() {
    Path dir = stateDir.resolve("audit-rules");
    try {
      return new HostAudit(AuditRules.withDirectory(dir), root(), clock);
    } catch (AuditRules.RuleFileException e) {
      throw new ApiError(400, String.join("; ", e.problems), "fix the rule files in " + dir);
    }
  }

  /** The system the host audit and the scanner look at: "/", or PILOTHOUSE_AUDIT_ROOT. */
  static Path root() {
    String root = System.getenv(ROOT_ENV);
    return Path.of(root == null || root.isBlank() ? "/" : root);
  }
}
