package dev.pilothouse.server;

import dev.pilothouse.backup.Archiver;
import dev.pilothouse.backup.BackupException;
import dev.pilothouse.backup.BackupService;
import dev.pilothouse.backup.Checker;
import dev.pilothouse.backup.PgBackups;
import dev.pilothouse.backup.Pruner;
import dev.pilothouse.backup.Restorer;
import dev.pilothouse.backup.Snapshot;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Maps backups to HTTP. A backup or a restore answers with NDJSON: a progress line every quarter
 * second, then one line with the result (or the error): a client shows a progress bar without
 * polling, and a dropped connection does not stop the work.
 */
final class BackupApi {
  private static final long PROGRESS_MS = 250;

  private final BackupService backups;
  private final ExecutorService work =
      Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("backup-api").factory());

  BackupApi(BackupService backups) {
    this.backups = backups;
  }

  /** {@code POST /api/v1/backups/{service}}. */
  void run(Context ctx) throws IOException {
    String service = ctx.pathParam("service");
    backups.plan(service); // 404 before streaming
    Archiver.Counters c = new Archiver.Counters();
    long t0 = System.nanoTime();
    stream(
        ctx,
        () -> snapshot(backups.run(service, List.of("manual"), c), null),
        () -> {
          Map<String, Object> p = new LinkedHashMap<>();
          p.put("files", c.files.get());
          p.put("bytes", c.bytes.get());
          p.put("bytesRead", c.bytesRead.get());
          p.put("bytesStored", c.bytesStored.get());
          p.put("elapsedMs", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
          return p;
        });
  }

  /** {@code POST /api/v1/services/{name}/restore} with {@code {snapshot, target}}. */
  void restore(Context ctx) throws IOException {
    String service = ctx.pathParam("name");
    Map<?, ?> body = ctx.body().isBlank() ? Map.of() : Api.JSON.readValue(ctx.body(), Map.class);
    String given = body.get("snapshot") instanceof String s && !s.isBlank() ? s : null;
    String snapshot = given == null ? "latest" : given;
    Path target = body.get("target") instanceof String t && !t.isBlank() ? Path.of(t) : null;
    String from = body.get("from") instanceof String f && !f.isBlank() ? f : null;
    if (target != null && !target.isAbsolute()) {
      throw new ApiError(400, "target must be an absolute path", "give e.g. /tmp/restore");
    }
    boolean postgres = backups.plan(service).postgres() != null;
    PgBackups.Target pitr = postgres ? pitr(body, given != null) : null;
    if (!postgres
        && (body.get("time") != null || body.get("lsn") != null || body.get("name") != null)) {
      throw new ApiError(
          400,
          "time, lsn and name are for PostgreSQL backups, and " + service + " backs up files",
          "restore a snapshot with --snapshot ID");
    }
    Restorer.Counters c = new Restorer.Counters();
    long t0 = System.nanoTime();
    stream(
        ctx,
        () -> {
          BackupService.Restored r =
              pitr != null
                  ? backups.restorePostgres(service, given, pitr, target, from, c, RECOVERY_LIMIT)
                  : backups.restore(service, snapshot, target, from, c);
          Map<String, Object> out = new LinkedHashMap<>();
          out.put("snapshot", snapshot(r.snapshot(), null));
          out.put("paths", r.paths().stream().map(Path::toString).toList());
          out.put("safetySnapshot", r.safetySnapshot());
          out.put("files", r.files());
          out.put("bytes", r.bytes());
          out.put("durationMs", r.ms());
          if (pitr != null) {
            out.put("recoveredTo", pitr.describe());
          }
          return out;
        },
        () ->
            Map.of(
                "files", c.files.get(),
                "bytes", c.bytes.get(),
                "elapsedMs", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)));
  }

  /** How long a point-in-time restore may wait for PostgreSQL to finish recovering. */
  static final java.time.Duration RECOVERY_LIMIT = java.time.Duration.ofMinutes(30);

  /** The point-in-time target of a restore body: time, lsn or name (none: all the WAL). */
  private static PgBackups.Target pitr(Map<?, ?> body, boolean snapshotGiven) {
    String time = text(body, "time");
    String lsn = text(body, "lsn");
    String name = text(body, "name");
    Integer timeline = null;
    Object tl = body.get("timeline");
    if (tl != null) {
      if (!(tl instanceof Integer i) || i < 1) {
        throw new ApiError(400, "timeline must be a positive integer", "give e.g. 1");
      }
      timeline = i;
    }
    boolean immediate = snapshotGiven && time == null && lsn == null && name == null;
    try {
      return new PgBackups.Target(time, lsn, name, immediate ? Boolean.TRUE : null, timeline);
    } catch (BackupException e) {
      throw new ApiError(400, e.getMessage(), "see 'pilothouse restore --help'");
    }
  }

  private static String text(Map<?, ?> body, String field) {
    Object v = body.get(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s) || s.isBlank()) {
      throw new ApiError(400, field + " must be a non-empty string", "see docs/backup.md");
    }
    return s;
  }

  /** {@code POST /api/v1/backups/{service}/wal/push} with {@code {path, name}}. */
  void walPush(Context ctx) throws IOException {
    Map<?, ?> body = Api.JSON.readValue(ctx.body(), Map.class);
    boolean stored =
        backups.walPush(ctx.pathParam("service"), text(body, "path"), text(body, "name"));
    Api.send(ctx, 200, Map.of("archived", stored));
  }

  /** {@code POST /api/v1/backups/{service}/wal/fetch} with {@code {name, path}}: 404 if none. */
  void walFetch(Context ctx) throws IOException {
    Map<?, ?> body = Api.JSON.readValue(ctx.body(), Map.class);
    String name = text(body, "name");
    if (!backups.walFetch(ctx.pathParam("service"), name, text(body, "path"))) {
      throw new ApiError(404, name + " is not in the WAL archive", "the end of the archive");
    }
    Api.send(ctx, 200, Map.of("fetched", name));
  }

  /** {@code GET /api/v1/backups/{service}/wal}. */
  void walStatus(Context ctx) throws IOException {
    BackupService.WalStatus w = backups.walStatus(ctx.pathParam("service"));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("service", w.service());
    m.put("files", w.files());
    m.put("timeline", w.timeline());
    m.put("newest", w.newest());
    m.put("newestArchived", w.newestArchived() == null ? null : w.newestArchived().toString());
    m.put("firstGap", w.firstGap());
    m.put("lagSeconds", w.lagSeconds());
    m.put("readyFiles", w.readyFiles());
    m.put("archiveCommand", w.archiveCommand());
    Api.send(ctx, 200, m);
  }

  /** {@code GET /api/v1/backups[?service=]}. */
  void list(Context ctx) throws IOException {
    String service = blankToNull(ctx.queryParam("service"));
    List<Object> out = new ArrayList<>();
    for (BackupService.Listed l : backups.list(service)) {
      Map<String, Object> m = snapshot(l.snapshot(), l.repository());
      m.put("copies", l.copies());
      out.add(m);
    }
    Api.send(ctx, 200, Map.of("snapshots", out));
  }

  /** {@code POST /api/v1/backups/verify?repository=&readData=0..1}. */
  void verify(Context ctx) throws IOException {
    double share = 0;
    String rd = ctx.queryParam("readData");
    if (rd != null && !rd.isBlank()) {
      try {
        share = Double.parseDouble(rd);
      } catch (NumberFormatException e) {
        share = -1;
      }
      if (!(share >= 0 && share <= 1)) {
        throw new ApiError(
            400, "readData must be a share between 0 and 1", "send readData=0.1 for 10%");
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    boolean ok = true;
    for (Map.Entry<String, Checker.Report> e :
        backups.verify(blankToNull(ctx.queryParam("repository")), share).entrySet()) {
      Checker.Report r = e.getValue();
      ok &= r.ok();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ok", r.ok());
      m.put("snapshots", r.snapshots());
      m.put("packs", r.packs());
      m.put("packsRead", r.packsRead());
      m.put("walRead", r.walRead());
      m.put("bytesRead", r.bytesRead());
      m.put("blobs", r.blobs());
      m.put("errors", r.errors());
      out.put(e.getKey(), m);
    }
    Api.send(ctx, 200, Map.of("ok", ok, "repositories", out));
  }

  /** {@code POST /api/v1/backups/prune?service=&dryRun=}. */
  void prune(Context ctx) throws IOException {
    boolean dry = Boolean.parseBoolean(ctx.queryParam("dryRun"));
    BackupService.Pruned p = backups.prune(blankToNull(ctx.queryParam("service")), dry);
    Map<String, Object> repos = new LinkedHashMap<>();
    for (Map.Entry<String, Pruner.Report> e : p.repositories().entrySet()) {
      Pruner.Report r = e.getValue();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("blobsUsed", r.blobsUsed());
      m.put("packsBefore", r.packsBefore());
      m.put("packsDeleted", r.packsDeleted());
      m.put("packsRepacked", r.packsRepacked());
      m.put("orphanPacks", r.orphanPacks());
      m.put("bytesBefore", r.bytesBefore());
      m.put("bytesFreed", r.bytesFreed());
      repos.put(e.getKey(), m);
    }
    Api.send(
        ctx,
        200,
        Map.of(
            "dryRun", dry,
            "forgotten", p.forgotten().stream().map(s -> snapshot(s, null)).toList(),
            "repositories", repos));
  }

  /** {@code POST /api/v1/services/{name}/drill[?timeout=10m]}: a drill, answered when done. */
  void drill(Context ctx) throws Exception {
    String service = ctx.pathParam("name");
    backups.plan(service);
    java.time.Duration limit = java.time.Duration.ofMinutes(10);
    BackupService.Drill d = backups.drill(service, limit);
    Api.send(ctx, 200, drillView(d));
  }

  static Map<String, Object> drillView(BackupService.Drill d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("service", d.service());
    m.put("snapshot", d.snapshot());
    m.put("at", d.at().toString());
    m.put("ok", d.ok());
    m.put("rtoMs", d.rtoMs());
    m.put("rpoSeconds", d.rpoSeconds());
    m.put("rtoObjectiveMs", d.rto() == null ? null : d.rto().toMillis());
    m.put("rpoObjectiveSeconds", d.rpo() == null ? null : d.rpo().toSeconds());
    m.put("rtoMet", d.rtoMet());
    m.put("rpoMet", d.rpoMet());
    m.put("files", d.files());
    m.put("bytes", d.bytes());
    m.put("message", d.message());
    return m;
  }

  /**
   * {@code GET /api/v1/dr}: per service with a plan, its objectives, the age of its newest snapshot
   * (the recovery point now) and its last drill (from the event log).
   */
  void status(Context ctx, dev.pilothouse.core.event.EventLog events) throws IOException {
    List<Object> out = new ArrayList<>();
    boolean ok = true;
    for (BackupService.Standing st : backups.standing(events.latest(5000))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("service", st.service());
      m.put("repository", st.repository());
      m.put("rtoObjectiveMs", st.rto() == null ? null : st.rto().toMillis());
      m.put("rpoObjectiveSeconds", st.rpo() == null ? null : st.rpo().toSeconds());
      m.put("newestSnapshot", st.newest() == null ? null : st.newest().shortId());
      m.put("rpoNowSeconds", st.rpoNowSeconds());
      m.put("rpoMet", st.rpoMet());
      Map<String, Object> drill = null;
      if (st.lastDrill() != null) {
        var e = st.lastDrill();
        drill = new LinkedHashMap<>();
        drill.put("at", e.at().toString());
        drill.put("ok", e.type().equals("DrillCompleted"));
        drill.put("snapshot", e.fields().get("snapshot"));
        drill.put("rtoMs", Long.parseLong(e.fields().getOrDefault("rtoMs", "-1")));
        drill.put("rpoSeconds", Long.parseLong(e.fields().getOrDefault("rpoSeconds", "-1")));
        drill.put("rtoMet", Boolean.parseBoolean(e.fields().get("rtoMet")));
        drill.put("message", e.message());
      }
      m.put("lastDrill", drill);
      m.put("ok", st.ok());
      ok &= st.ok();
      out.add(m);
    }
    Api.send(ctx, 200, Map.of("ok", ok, "services", out));
  }

  static Map<String, Object> snapshot(Snapshot s, String repository) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("shortId", s.shortId());
    m.put("service", s.service());
    m.put("time", s.time().toString());
    m.put("host", s.host());
    m.put("paths", s.paths());
    m.put("tags", s.tags() == null ? List.of() : s.tags());
    if (repository != null) {
      m.put("repository", repository);
    }
    if (s.summary() != null) {
      m.put("files", s.summary().files());
      m.put("bytes", s.summary().bytes());
      m.put("bytesAdded", s.summary().bytesAdded());
      m.put("durationMs", s.summary().durationMs());
    }
    if (s.postgres() != null) {
      Map<String, Object> pg = new LinkedHashMap<>();
      pg.put("timeline", s.postgres().timeline());
      pg.put("startLsn", s.postgres().startLsn());
      pg.put("stopLsn", s.postgres().stopLsn());
      pg.put("startWal", s.postgres().startWal());
      pg.put("stopWal", s.postgres().stopWal());
      pg.put("stopTime", s.postgres().stopTime().toString());
      m.put("postgres", pg);
    }
    return m;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  /** Runs job while writing progress lines; the job goes on if the client leaves. */
  private void stream(Context ctx, Callable<Object> job, Supplier<Map<String, Object>> progress)
      throws IOException {
    Future<Object> f = work.submit(job);
    ctx.status(200).contentType("application/x-ndjson");
    OutputStream out = ctx.res().getOutputStream();
    boolean connected = true;
    while (true) {
      try {
        Object result = f.get(PROGRESS_MS, TimeUnit.MILLISECONDS);
        if (connected) {
          line(out, Map.of("result", result));
        }
        return;
      } catch (java.util.concurrent.TimeoutException more) {
        if (connected) {
          try {
            line(out, Map.of("progress", progress.get()));
          } catch (IOException gone) {
            connected = false;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        Throwable c = e.getCause();
        String msg =
            c instanceof BackupException
                    || c instanceof IOException
                    || c instanceof IllegalStateException
                ? c.getMessage()
                : "internal error: " + c;
        if (connected) {
          Map<String, Object> err = new LinkedHashMap<>();
          err.put("error", msg);
          err.put("hint", "see 'pilothouse events' and daemon.log");
          line(out, err);
        }
        return;
      }
    }
  }

  private static void line(OutputStream out, Object o) throws IOException {
    out.write(Api.JSON.writeValueAsString(o).getBytes(StandardCharsets.UTF_8));
    out.write('\n');
    out.flush();
  }

  void close() {
    work.shutdownNow();
  }
}
