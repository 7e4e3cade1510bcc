package dev.pilothouse.server;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.security.AuditLog;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Maps the audit log to HTTP: verify, inclusion proofs, a checkpoint now, JSON-lines export. */
final class AuditApi {
  private final AuditLog audit;

  AuditApi(AuditLog audit) {
    this.audit = audit;
  }

  void verify(Context ctx) throws IOException {
    AuditLog.Verification v = audit.verify();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("ok", v.ok());
    out.put("events", v.events());
    out.put("checkpoints", v.checkpoints());
    out.put("lastCheckpoint", v.last());
    out.put("problems", v.problems());
    out.put("publicKey", audit.publicKey());
    Api.send(ctx, 200, out);
  }

  void prove(Context ctx) throws IOException {
    long seq;
    try {
      seq = Long.parseLong(ctx.pathParam("seq"));
    } catch (NumberFormatException e) {
      throw new ApiError(400, "'" + ctx.pathParam("seq") + "' is not an event number", HINT);
    }
    try {
      Api.send(ctx, 200, audit.prove(seq));
    } catch (IllegalArgumentException e) {
      throw new ApiError(404, e.getMessage(), HINT);
    }
  }

  void checkpoint(Context ctx) throws IOException {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("signed", audit.checkpoint().orElse(null));
    List<AuditLog.Checkpoint> all = audit.checkpoints();
    out.put("last", all.isEmpty() ? null : all.getLast());
    Api.send(ctx, 200, out);
  }

  /** Events after ?after= as JSON lines (SIEMs read these), in pages of 1,000. */
  void export(Context ctx) throws IOException {
    long after;
    try {
      after = Long.parseLong(ctx.queryParamAsClass("after", String.class).getOrDefault("0"));
    } catch (NumberFormatException e) {
      throw new ApiError(400, "after: not an event number", HINT);
    }
    ctx.status(200).contentType("application/x-ndjson");
    OutputStream out = ctx.res().getOutputStream();
    while (true) {
      List<Event> page = audit.after(after, 1000);
      for (Event e : page) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", e.seq());
        m.put("at", e.at().toString());
        m.put("type", e.type());
        m.put("service", e.service());
        m.put("instance", e.instance());
        m.put("message", e.message());
        m.put("fields", e.fields());
        m.put("prevHash", e.prevHash());
        m.put("hash", e.hash());
        out.write((Api.JSON.writeValueAsString(m) + "\n").getBytes(StandardCharsets.UTF_8));
      }
      if (page.size() < 1000) {
        break;
      }
      after = page.getLast().seq();
    }
    out.flush();
  }

  private static final String HINT = "see docs/security.md#audit-log";
}
