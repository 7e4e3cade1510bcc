package dev.pilothouse.backup;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.BackupSpec;
import dev.pilothouse.core.spec.Spec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's backups: runs each service's plan on demand and on its schedule (a run missed while
 * the daemon was down happens once at start), with its hooks around it; copies every snapshot to
 * the repository's replicas; applies retention and prunes; restores a snapshot into the service's
 * paths (the service stopped and started around it, after a safety snapshot) or into a directory;
 * watches the recovery point objective. Repositories stay open between runs (their keys and index
 * in memory); one operation at a time per repository in this daemon, leases across processes.
 */
public final class BackupService implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BackupService.class);
  private static final CronParser CRON =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
  private static final Duration HOOK_TIMEOUT = Duration.ofMinutes(10);

  /** What the backup service needs of the services it backs up (the host implements it). */
  public interface Services {
    /** Stops every instance of the service and waits until they are gone. */
    void stop(String service) throws Exception;

    /** Starts the service's instances again and waits until they are ready. */
    void start(String service) throws Exception;

    /** The service's working directory, where its hooks run. */
    Path workdir(String service);

    /**
     * Starts one instance of the service apart from its own (a drill): on a free port, with every
     * occurrence of a key of paths in its arguments and environment replaced by its value (so that
     * it uses the restored copy of its data). Closing it stops it.
     */
    Sandbox sandbox(String service, Map<String, String> paths) throws Exception;
  }

  /** An instance started for a drill. */
  public interface Sandbox extends AutoCloseable {
    int port();

    boolean alive();

    @Override
    void close();
  }

  /**
   * A drill's outcome.
   *
   * @param rtoMs from the start of the restore until the restored service answered its readiness
   *     check (the measured recovery time)
   * @param rpoSeconds the age of the restored snapshot when the drill began (the achieved recovery
   *     point)
   */
  public record Drill(
      String service,
      String snapshot,
      Instant at,
      boolean ok,
      long rtoMs,
      long rpoSeconds,
      Duration rto,
      Duration rpo,
      boolean rtoMet,
      boolean rpoMet,
      long files,
      long bytes,
      String message) {}

  /** A snapshot as listed: where its copies are. */
  public record Listed(Snapshot snapshot, String repository, List<String> copies) {}

  /** What a restore did. */
  public record Restored(
      Snapshot snapshot,
      List<Path> paths,
      String safetySnapshot,
      long files,
      long bytes,
      long ms) {}

  private final Supplier<Spec> spec;
  private final Services services;
  private final EventSink events;
  private final Clock clock;
  private final Path tmp;
  private final Path markers;
  private final Map<String, String> env;
  private final Map<String, Repository> open = new ConcurrentHashMap<>();
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastRun = new ConcurrentHashMap<>();
  private final Map<String, Boolean> rpoMissed = new ConcurrentHashMap<>();
  private final Map<String, Instant> lastDrill = new ConcurrentHashMap<>();
  private static final Duration DRILL_LIMIT = Duration.ofMinutes(10);
  private final ExecutorService scheduled =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("backup-scheduled").unstarted(r));
  private final Map<String, Boolean> queued = new ConcurrentHashMap<>();
  private final Path walTokens;
  private volatile String walCommand;
  private volatile String walApi;
  private volatile String walTls;
  private final Map<String, Instant> restorable = new ConcurrentHashMap<>();
  private final Map<String, Drill> drills = new ConcurrentHashMap<>();
  private final Map<String, Duration> archiveLag = new ConcurrentHashMap<>();
  private final Map<String, Boolean> archiveBehind = new ConcurrentHashMap<>();
  private final Map<String, Boolean> archiveConflict = new ConcurrentHashMap<>();
  private final Map<String, Instant> archiveChecked = new ConcurrentHashMap<>();

  /**
   * @param tmp where prune keeps its on-disk id sets
   * @param env the daemon's environment (passwords and S3 keys named by the spec)
   */
  public BackupService(
      Supplier<Spec> spec,
      Services services,
      EventSink events,
      Clock clock,
      Path tmp,
      Map<String, String> env) {
    this.spec = spec;
    this.services = services;
    this.events = events;
    this.clock = clock;
    this.tmp = tmp;
    this.markers = tmp.resolveSibling("restoring");
    this.walTokens = tmp.resolveSibling("wal-tokens");
    this.env = Map.copyOf(env);
  }

  public BackupSpec backups() {
    return spec.get().backup();
  }

  /**
   * The plan of a service.
   *
   * @throws BackupException naming the services that have one, when this one has none
   */
  public BackupSpec.Plan plan(String service) {
    BackupSpec b = backups();
    return b.plan(service)
        .orElseThrow(
            () ->
                new BackupException(
                    "services."
                        + service
                        + " declares no backup"
                        + (b.plans().isEmpty()
                            ? "; add 'backup: {paths: [...]}' to it in the spec"
                            : " (these do: "
                                + String.join(
                                    ", ", b.plans().stream().map(BackupSpec.Plan::service).toList())
                                + ")")));
  }

  // ---- repositories

  /**
   * The repository of this name, opened (and created, the first time) with its secret. One caller
   * at a time: two that both found no repository would each create one under its own master key,
   * the second's config replacing the first's, and what either wrote would not open with the other.
   */
  synchronized Repository repository(String name) throws IOException {
    BackupSpec.Repository r = backups().repositories().get(name);
    if (r == null) {
      throw new BackupException("no repository named '" + name + "' in the spec");
    }
    Repository cached = open.get(name);
    if (cached != null && cached.backend().location().equals(r.location())) {
      return cached;
    }
    Backend b = backend(r);
    Keys.Secret secret = secret(r);
    Repository repo =
        b.exists(Backend.Kind.CONFIG, "config")
            ? Repository.open(b, secret, clock)
            : Repository.init(b, secret, Keys.Kdf.DEFAULT, clock);
    open.put(name, repo);
    return repo;
  }

  Backend backend(BackupSpec.Repository r) {
    if (r.path() != null) {
      return new LocalBackend(Path.of(r.path()));
    }
    BackupSpec.S3 s3 = r.s3();
    return new S3Backend(
        s3.endpoint(),
        s3.region(),
        s3.bucket(),
        s3.prefix(),
        required(s3.accessKeyEnv(), "repositories." + r.name() + ".s3.accessKeyEnv"),
        required(s3.secretKeyEnv(), "repositories." + r.name() + ".s3.secretKeyEnv"),
        s3.pathStyle());
  }

  private String required(String var, String field) {
    String v = env.get(var);
    if (v == null || v.isEmpty()) {
      throw new BackupException(
          field
              + " names $"
              + var
              + ", which the daemon's environment does not set;"
              + " set it where the daemon starts, then restart it");
    }
    return v;
  }

  Keys.Secret secret(BackupSpec.Repository r) throws IOException {
    String field = "repositories." + r.name();
    if (r.passwordEnv() != null) {
      return Keys.Secret.password(required(r.passwordEnv(), field + ".passwordEnv"));
    }
    String file = r.passwordFile() != null ? r.passwordFile() : r.keyFile();
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(Path.of(file));
    } catch (NoSuchFileException e) {
      throw new BackupException(
          field
              + (r.passwordFile() != null ? ".passwordFile " : ".keyFile ")
              + file
              + " does not exist; create it (mode 0600), e.g. 'head -c 32 /dev/urandom | base64 > "
              + file
              + "'");
    }
    if (r.keyFile() != null) {
      return Keys.Secret.key(bytes);
    }
    String pw = new String(bytes, StandardCharsets.UTF_8).strip();
    if (pw.isEmpty()) {
      throw new BackupException(field + ".passwordFile " + file + " is empty");
    }
    return Keys.Secret.password(pw);
  }

  private ReentrantLock lock(String repository) {
    return locks.computeIfAbsent(repository, k -> new ReentrantLock());
  }

  // ---- backup

  /**
   * Backs up a service now: its before hook, the snapshot, its after hook, the copies to the
   * repository's replicas.
   */
  public Snapshot run(String service, List<String> tags, Archiver.Counters counters)
      throws IOException {
    return run(service, plan(service).repository(), tags, counters);
  }

  /** Backs up a service into a repository of its plan's (its own, or a replica in a failover). */
  private Snapshot run(String service, String into, List<String> tags, Archiver.Counters counters)
      throws IOException {
    BackupSpec.Plan plan = plan(service);
    Instant started = clock.instant();
    ReentrantLock l = lock(into);
    l.lock();
    try {
      if (plan.before() != null) {
        hook(service, "before", plan.before(), plan);
      }
      Snapshot s;
      try {
        Repository repo = repository(into);
        Snapshot parent = latest(repo, service, plan.paths());
        List<Path> paths = plan.paths().stream().map(Path::of).toList();
        if (paths.stream().noneMatch(Files::exists)) {
          throw new BackupException(
              "none of the paths of "
                  + service
                  + " exists ("
                  + String.join(", ", plan.paths())
                  + "); nothing was backed up — check services."
                  + service
                  + ".backup.paths");
        }
        Archiver.Result r =
            plan.postgres() != null
                ? PgBackups.baseBackup(
                    repo, service, plan.postgres(), pgPassword(plan), tags, parent, counters, clock)
                : Archiver.backup(repo, service, paths, tags, parent, counters);
        s = r.snapshot();
        for (String w : r.warnings()) {
          log.warn("backup of {}: {}", service, w);
        }
      } finally {
        if (plan.after() != null) {
          hook(service, "after", plan.after(), plan);
        }
      }
      lastRun.put(service, started);
      restorable.merge(service, s.time(), BackupService::later);
      rpoMissed.remove(service);
      Snapshot.Summary sum = s.summary();
      Map<String, String> f = new LinkedHashMap<>();
      f.put("snapshot", s.shortId());
      f.put("repository", into);
      f.put("files", Long.toString(sum.files()));
      f.put("bytes", Long.toString(sum.bytes()));
      f.put("bytesAdded", Long.toString(sum.bytesAdded()));
      f.put("durationMs", Long.toString(sum.durationMs()));
      emit(
          "BackupCompleted",
          service,
          "backed up " + service + " as snapshot " + s.shortId() + " in " + into,
          f);
      replicate(into);
      return s;
    } catch (IOException | RuntimeException e) {
      emit(
          "BackupFailed",
          service,
          "backup of " + service + " failed: " + e.getMessage(),
          Map.of("repository", into));
      throw e;
    } finally {
      l.unlock();
    }
  }

  private static Snapshot latest(Repository repo, String service, List<String> paths)
      throws IOException {
    Snapshot best = null;
    for (Snapshot s : repo.snapshots()) {
      if (service.equals(s.service()) && paths.equals(s.paths())) {
        best = s;
      }
    }
    return best;
  }

  private void hook(String service, String which, String command, BackupSpec.Plan plan)
      throws IOException {
    Path dir = services.workdir(service);
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
    if (dir != null && Files.isDirectory(dir)) {
      pb.directory(dir.toFile());
    }
    pb.environment().put("PILOTHOUSE_SERVICE", service);
    pb.environment().put("PILOTHOUSE_BACKUP_PATHS", String.join(":", plan.paths()));
    Path out = Files.createTempFile(tmp, "hook-", ".log");
    try {
      pb.redirectOutput(out.toFile());
      Process p = pb.start();
      boolean done;
      try {
        done = p.waitFor(HOOK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
        throw new BackupException("interrupted while the " + which + " hook ran");
      }
      if (!done) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new BackupException(
            "the "
                + which
                + " hook of "
                + service
                + " ran longer than "
                + HOOK_TIMEOUT.toMinutes()
                + " minutes and was killed");
      }
      if (p.exitValue() != 0) {
        String tail = tail(Files.readString(out, StandardCharsets.UTF_8));
        throw new BackupException(
            "the "
                + which
                + " hook of "
                + service
                + " ('"
                + command
                + "') exited with "
                + p.exitValue()
                + (tail.isEmpty() ? "" : ": " + tail)
                + (which.equals("before") ? "; nothing was backed up" : ""));
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private static String tail(String s) {
    String t = s.strip();
    return t.length() > 400 ? "…" + t.substring(t.length() - 400) : t;
  }

  /** Copies a repository to its replicas; a replica that fails is reported, the others go on. */
  public List<String> replicate(String repository) {
    BackupSpec.Repository r = backups().repositories().get(repository);
    List<String> failed = new ArrayList<>();
    if (r == null) {
      return failed;
    }
    for (String target : r.replicas()) {
      BackupSpec.Repository t = backups().repositories().get(target);
      try (Backend to = backend(t)) {
        Copier.Report rep = Copier.copy(repository(repository).backend(), to);
        open.remove(target); // its index changed
        emit(
            "BackupReplicated",
            "",
            "copied " + rep.files() + " file(s) of " + repository + " to " + target,
            Map.of(
                "repository", repository, "replica", target, "bytes", Long.toString(rep.bytes())));
      } catch (IOException | RuntimeException e) {
        failed.add(target);
        emit(
            "BackupReplicationFailed",
            "",
            "copying " + repository + " to " + target + " failed: " + e.getMessage(),
            Map.of("repository", repository, "replica", target));
      }
    }
    return failed;
  }

  // ---- reading

  /** Snapshots of a service (or of every service with a plan), with where their copies are. */
  public List<Listed> list(String service) throws IOException {
    List<Listed> out = new ArrayList<>();
    List<String> repos = new ArrayList<>();
    for (BackupSpec.Plan p : backups().plans()) {
      if ((service == null || p.service().equals(service)) && !repos.contains(p.repository())) {
        repos.add(p.repository());
      }
    }
    if (service != null) {
      plan(service);
    }
    for (String name : repos) {
      Repository repo = repository(name);
      Map<String, List<String>> copies = new LinkedHashMap<>();
      for (String replica : backups().repositories().get(name).replicas()) {
        try (Backend b = backend(backups().repositories().get(replica))) {
          for (Backend.Entry e : b.list(Backend.Kind.SNAPSHOT)) {
            copies.computeIfAbsent(e.name(), k -> new ArrayList<>()).add(replica);
          }
        } catch (IOException | RuntimeException e) {
          log.warn("cannot list replica {}: {}", replica, e.getMessage());
        }
      }
      for (Snapshot s : repo.snapshots()) {
        if (service == null || service.equals(s.service())) {
          out.add(new Listed(s, name, copies.getOrDefault(s.id(), List.of())));
        }
      }
    }
    out.sort(java.util.Comparator.comparing((Listed x) -> x.snapshot().time()));
    return out;
  }

  /** Checks the repositories of the plans (or one repository), reading share of the data. */
  public Map<String, Checker.Report> verify(String repository, double share) throws IOException {
    Map<String, Checker.Report> out = new LinkedHashMap<>();
    List<String> names =
        repository != null
            ? List.of(repository)
            : new ArrayList<>(backups().repositories().keySet());
    for (String name : names) {
      ReentrantLock l = lock(name);
      l.lock();
      try {
        Repository r = repository(name);
        Repository fresh =
            Repository.open(r.backend(), secret(backups().repositories().get(name)), clock);
        Checker.Report rep = Checker.check(fresh, share, new java.util.Random());
        out.put(name, rep);
        if (!rep.ok()) {
          emit(
              "BackupVerifyFailed",
              "",
              "repository "
                  + name
                  + " has "
                  + rep.errors().size()
                  + " problem(s): "
                  + rep.errors().getFirst(),
              Map.of("repository", name));
        }
      } finally {
        l.unlock();
      }
    }
    return out;
  }

  /** What prune did per repository, and which snapshots retention forgot. */
  public record Pruned(Map<String, Pruner.Report> repositories, List<Snapshot> forgotten) {}

  /** Applies each plan's retention (of the service, or all), then prunes their repositories. */
  public Pruned prune(String service, boolean dryRun) throws IOException {
    List<Snapshot> forgotten = new ArrayList<>();
    Map<String, List<BackupSpec.Plan>> byRepo = new LinkedHashMap<>();
    for (BackupSpec.Plan p : backups().plans()) {
      if (service == null || p.service().equals(service)) {
        byRepo.computeIfAbsent(p.repository(), k -> new ArrayList<>()).add(p);
      }
    }
    if (service != null) {
      plan(service);
    }
    Map<String, Pruner.Report> reports = new LinkedHashMap<>();
    for (var e : byRepo.entrySet()) {
      ReentrantLock l = lock(e.getKey());
      l.lock();
      try {
        Repository repo = repository(e.getKey());
        List<Snapshot> all = repo.snapshots();
        for (BackupSpec.Plan p : e.getValue()) {
          BackupSpec.Keep k = p.keep();
          List<Snapshot> mine = all.stream().filter(s -> p.service().equals(s.service())).toList();
          Retention.Decision d =
              Retention.apply(
                  mine,
                  new Retention.Keep(k.last(), k.daily(), k.weekly(), k.monthly()),
                  ZoneId.systemDefault());
          for (Snapshot s : d.forget()) {
            if (!dryRun) {
              repo.forget(s);
            }
            forgotten.add(s);
          }
        }
        Repository trees =
            Repository.openTreesOnly(
                repo.backend(), secret(backups().repositories().get(e.getKey())), clock);
        reports.put(e.getKey(), Pruner.prune(trees, 0.05, dryRun, tmp));
        if (!dryRun) {
          expireWal(repo, e.getValue());
          open.remove(e.getKey()); // its index changed under it
          Pruner.Report r = reports.get(e.getKey());
          emit(
              "BackupPruned",
              service == null ? "" : service,
              "pruned "
                  + e.getKey()
                  + ": "
                  + forgotten.size()
                  + " snapshot(s) forgotten, "
                  + r.bytesFreed()
                  + " bytes freed",
              Map.of("repository", e.getKey(), "bytesFreed", Long.toString(r.bytesFreed())));
        }
      } finally {
        l.unlock();
      }
    }
    return new Pruned(reports, forgotten);
  }

  // ---- restore

  /**
   * Restores a snapshot of a service. Into target when given; otherwise into the service's own
   * paths, after a safety snapshot of what is there, with the service stopped during the restore
   * and started after it (also when the restore fails).
   */
  public Restored restore(
      String service, String snapshotId, Path target, Restorer.Counters counters) throws Exception {
    return restore(service, snapshotId, target, null, counters);
  }

  /**
   * Restores from a repository of the plan's: its own (from null) or one of its replicas (a
   * failover, when the primary is lost: the safety snapshot then goes to that replica too).
   */
  public Restored restore(
      String service, String snapshotId, Path target, String from, Restorer.Counters counters)
      throws Exception {
    BackupSpec.Plan plan = plan(service);
    String source = source(plan, from);
    Repository repo = repository(source);
    Snapshot s = repo.snapshot(snapshotId, service);
    if (!service.equals(s.service())) {
      throw new BackupException(
          "snapshot " + s.shortId() + " is of " + s.service() + ", not of " + service);
    }
    long t0 = System.nanoTime();
    if (target != null) {
      List<Path> paths = Restorer.restore(repo, s, target, false, counters);
      emit(
          "Restored",
          service,
          "restored snapshot " + s.shortId() + " of " + service + " into " + target,
          Map.of("snapshot", s.shortId()));
      return restored(s, paths, null, counters, t0);
    }
    Snapshot safety = run(service, source, List.of("pre-restore"), new Archiver.Counters());
    ReentrantLock l = lock(source);
    l.lock();
    try {
      // A marker names what is being restored: a daemon killed from here on finishes the restore
      // when it starts again, before the service runs on half-restored data.
      mark(service, s.id(), safety.id(), source);
      services.stop(service);
      boolean whole = true;
      try {
        List<Path> paths = Restorer.restore(repo, s, null, true, counters);
        emit(
            "Restored",
            service,
            "restored snapshot "
                + s.shortId()
                + " of "
                + service
                + " into its paths (safety snapshot "
                + safety.shortId()
                + ")",
            Map.of("snapshot", s.shortId(), "safety", safety.shortId()));
        return restored(s, paths, safety, counters, t0);
      } catch (IOException | RuntimeException e) {
        // put back what was there, so that the service starts on whole data
        String back;
        try {
          Restorer.restore(repo, safety, null, true, new Restorer.Counters());
          back = "what was there before is back (safety snapshot " + safety.shortId() + ")";
        } catch (IOException | RuntimeException again) {
          whole = false;
          back = stuck(service, safety, again);
        }
        emit(
            "RestoreFailed",
            service,
            "restoring "
                + s.shortId()
                + " of "
                + service
                + " failed: "
                + e.getMessage()
                + "; "
                + back,
            Map.of("snapshot", s.shortId(), "safety", safety.shortId()));
        throw new BackupException(e.getMessage() + "; " + back, e);
      } finally {
        if (whole) {
          unmark(service);
          services.start(service);
        }
      }
    } finally {
      l.unlock();
    }
  }

  /** The repository a restore reads: the plan's own (from null), or one of its replicas. */
  private String source(BackupSpec.Plan plan, String from) {
    String source = from == null ? plan.repository() : from;
    BackupSpec.Repository own = backups().repositories().get(plan.repository());
    if (!source.equals(plan.repository()) && !own.replicas().contains(source)) {
      throw new BackupException(
          "repository '"
              + source
              + "' is not "
              + plan.service()
              + "'s ("
              + plan.repository()
              + ") nor one of its replicas"
              + (own.replicas().isEmpty() ? "" : " (" + String.join(", ", own.replicas()) + ")"));
    }
    return source;
  }

  /** A restore in place under way: what is restored, and the safety snapshot taken before. */
  record Marker(String snapshot, String safety, String repository, PgBackups.Target target) {}

  private Path markers() throws IOException {
    return Files.createDirectories(markers);
  }

  private void mark(String service, String snapshot, String safety, String repository)
      throws IOException {
    mark(service, new Marker(snapshot, safety, repository, null));
  }

  private void mark(String service, Marker m) throws IOException {
    Path tmpFile = markers().resolve(service + ".json.tmp");
    Files.write(tmpFile, Repository.JSON.writeValueAsBytes(m));
    Files.move(
        tmpFile,
        markers().resolve(service + ".json"),
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  private void unmark(String service) {
    try {
      Files.deleteIfExists(markers.resolve(service + ".json"));
    } catch (IOException e) {
      log.warn("could not remove the restore marker of {}: {}", service, e.getMessage());
    }
  }

  /**
   * Services whose restore in place a previous daemon began and did not finish: the host keeps them
   * stopped until {@link #finishInterrupted} has restored them.
   */
  public List<String> interruptedRestores() {
    List<String> out = new ArrayList<>();
    if (!Files.isDirectory(markers)) {
      return out;
    }
    try (var s = Files.list(markers)) {
      for (Path p : s.toList()) {
        String f = p.getFileName().toString();
        if (f.endsWith(".json")) {
          out.add(f.substring(0, f.length() - 5));
        }
      }
    } catch (IOException e) {
      log.warn("cannot read {}: {}", markers, e.getMessage());
    }
    return out;
  }

  /**
   * Finishes the restores a killed daemon left: each service's snapshot is restored again (a
   * restore is idempotent), then the service is started. When that fails the safety snapshot is put
   * back instead.
   */
  public void finishInterrupted() {
    for (String service : interruptedRestores()) {
      Path file = markers.resolve(service + ".json");
      try {
        Marker m = Repository.JSON.readValue(file.toFile(), Marker.class);
        Repository repo =
            repository(m.repository() != null ? m.repository() : plan(service).repository());
        Snapshot target = repo.snapshot(m.snapshot().substring(0, 16), service);
        try {
          Restorer.restore(repo, target, null, true, new Restorer.Counters());
          if (m.target() != null) {
            Path dataDir = Path.of(plan(service).postgres().dataDir());
            PgBackups.prepare(dataDir, target, m.target(), restoreCommand(), false);
            writeWalConfig(service, dataDir);
          }
          emit(
              "Restored",
              service,
              "finished restoring snapshot "
                  + target.shortId()
                  + " of "
                  + service
                  + ", which the previous daemon began",
              Map.of("snapshot", target.shortId()));
        } catch (IOException | RuntimeException e) {
          if (m.safety() == null) {
            throw e;
          }
          Snapshot safety = repo.snapshot(m.safety().substring(0, 16), service);
          Restorer.restore(repo, safety, null, true, new Restorer.Counters());
          emit(
              "RestoreFailed",
              service,
              "could not finish restoring "
                  + target.shortId()
                  + " of "
                  + service
                  + " ("
                  + e.getMessage()
                  + "); what was there before is back (safety snapshot "
                  + safety.shortId()
                  + ")",
              Map.of("snapshot", target.shortId(), "safety", safety.shortId()));
        }
        unmark(service);
        services.start(service);
      } catch (Exception e) {
        log.error(
            "the interrupted restore of {} could not be finished; the service stays stopped"
                + " (see {}): {}",
            service,
            file,
            e.getMessage());
        emit(
            "RestoreFailed",
            service,
            "the restore the previous daemon began could not be finished ("
                + e.getMessage()
                + "); "
                + service
                + " stays stopped: restore a snapshot with 'pilothouse restore "
                + service
                + "', or remove "
                + file
                + " to start it as it is",
            Map.of());
      }
    }
  }

  /**
   * A service against its recovery objectives.
   *
   * @param newest its newest snapshot, or null
   * @param rpoNowSeconds that snapshot's age, or null without one
   * @param lastDrill its last DrillCompleted or DrillFailed event, or null
   */
  public record Standing(
      String service,
      String repository,
      Duration rto,
      Duration rpo,
      Snapshot newest,
      Long rpoNowSeconds,
      boolean rpoMet,
      dev.pilothouse.core.event.Event lastDrill,
      boolean ok) {}

  /** Each service with a plan against its objectives; recent: the event log, oldest first. */
  public List<Standing> standing(List<dev.pilothouse.core.event.Event> recent) throws IOException {
    Map<String, Snapshot> newest = new LinkedHashMap<>();
    for (Listed l : list(null)) {
      newest.put(l.snapshot().service(), l.snapshot());
    }
    Instant now = clock.instant();
    List<Standing> out = new ArrayList<>();
    for (BackupSpec.Plan p : backups().plans()) {
      Snapshot s = newest.get(p.service());
      Long age = s == null ? null : Duration.between(s.time(), now).toSeconds();
      boolean rpoMet = p.rpo() == null || (age != null && age <= p.rpo().toSeconds());
      dev.pilothouse.core.event.Event drill = null;
      for (int i = recent.size() - 1; i >= 0 && drill == null; i--) {
        var e = recent.get(i);
        if (e.service().equals(p.service())
            && (e.type().equals("DrillCompleted") || e.type().equals("DrillFailed"))) {
          drill = e;
        }
      }
      boolean drillOk =
          drill == null
              || (drill.type().equals("DrillCompleted")
                  && Boolean.parseBoolean(drill.fields().get("rtoMet")));
      out.add(
          new Standing(
              p.service(),
              p.repository(),
              p.rto(),
              p.rpo(),
              s,
              age,
              rpoMet,
              drill,
              rpoMet && drillOk));
    }
    return out;
  }

  // ---- PostgreSQL: WAL archiving and point-in-time recovery

  /**
   * How PostgreSQL reaches this daemon: the command its archive_command and restore_command run
   * (Pilothouse's CLI) and the API's URL the CLI calls. Until it is set, WAL is not archived.
   */
  public void archiveVia(String command, String api) {
    archiveVia(command, api, null);
  }

  /**
   * As above, for an API over HTTPS whose certificate the CLI pins by this SHA-256 fingerprint
   * (null: plain HTTP, or a certificate the JDK trusts).
   */
  public void archiveVia(String command, String api, String tlsFingerprint) {
    this.walCommand = command;
    this.walApi = api;
    this.walTls = tlsFingerprint;
  }

  String archiveCommand() {
    return walCommand + " wal push --config " + PgBackups.CONFIG + " %p %f";
  }

  String restoreCommand() {
    return PgBackups.restoreCommand(
        walCommand + " wal fetch --config " + PgBackups.CONFIG + " %f %p");
  }

  private String pgPassword(BackupSpec.Plan plan) {
    String var = plan.postgres().passwordEnv();
    return var == null
        ? null
        : required(var, "services." + plan.service() + ".backup.postgres.passwordEnv");
  }

  private BackupSpec.Plan postgresPlan(String service) {
    BackupSpec.Plan plan = plan(service);
    if (plan.postgres() == null) {
      throw new BackupException(
          "services."
              + service
              + ".backup has no 'postgres:' source; WAL and point-in-time restores are for"
              + " PostgreSQL backups");
    }
    return plan;
  }

  /**
   * The token PostgreSQL's archive_command and restore_command present for this service: it allows
   * archiving and fetching this service's WAL and nothing else.
   */
  private String walToken(String service) throws IOException {
    Path dir = Files.createDirectories(walTokens);
    Path f = dir.resolve(service);
    if (Files.exists(f)) {
      return Files.readString(f, StandardCharsets.UTF_8).strip();
    }
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    String t = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    PgBackups.Owner.of(dir).write(f, t);
    return t;
  }

  /** Whether token is the WAL token of service (compared in constant time). */
  public boolean walTokenMatches(String service, String token) {
    try {
      Path f = walTokens.resolve(service);
      if (token == null || !Files.exists(f) || backups().plan(service).isEmpty()) {
        return false;
      }
      return java.security.MessageDigest.isEqual(
          Files.readString(f, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8),
          token.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return false;
    }
  }

  /** Writes the archive_command's configuration into the data directory, when it differs. */
  void writeWalConfig(String service, Path dataDir) throws IOException {
    if (walApi == null || !Files.isDirectory(dataDir)) {
      return;
    }
    Map<String, String> c = new LinkedHashMap<>();
    c.put("service", service);
    c.put("api", walApi);
    c.put("token", walToken(service));
    if (walTls != null) {
      c.put("tlsFingerprint", walTls);
    }
    byte[] bytes = Repository.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
    Path f = dataDir.resolve(PgBackups.CONFIG);
    if (Files.exists(f) && java.util.Arrays.equals(Files.readAllBytes(f), bytes)) {
      return;
    }
    PgBackups.Owner.of(dataDir).write(f, bytes);
  }

  /**
   * A file of a service's data directory's pg_wal, resolved and checked: WAL moves only between the
   * archive and the cluster's own pg_wal directory.
   */
  private Path walPath(BackupSpec.Plan plan, String path) throws IOException {
    Path dataDir = Path.of(plan.postgres().dataDir());
    Path wal = dataDir.resolve("pg_wal").toRealPath();
    Path p = dataDir.resolve(path).normalize();
    Path parent = p.getParent() == null ? null : p.getParent().toRealPath();
    if (parent == null || !parent.equals(wal) || Files.isSymbolicLink(p)) {
      throw new BackupException(
          path + " is not a file of " + plan.service() + "'s pg_wal directory (" + wal + ")");
    }
    return wal.resolve(p.getFileName());
  }

  /**
   * Archives a WAL file of a service's cluster (its archive_command, through the CLI).
   *
   * @return false when that very file was archived already
   */
  public boolean walPush(String service, String path, String name) throws IOException {
    BackupSpec.Plan plan = postgresPlan(service);
    Path file = walPath(plan, path);
    boolean stored = WalArchive.push(repository(plan.repository()), service, file, name);
    restorable.put(service, clock.instant());
    return stored;
  }

  /**
   * Fetches an archived WAL file into a service's pg_wal (its restore_command, through the CLI).
   *
   * @return false when the archive has no such file
   */
  public boolean walFetch(String service, String name, String path) throws IOException {
    BackupSpec.Plan plan = postgresPlan(service);
    Path dest = walPath(plan, path);
    Repository repo = repository(plan.repository());
    if (!WalArchive.fetch(repo, service, name, dest)) {
      return false;
    }
    PgBackups.Owner.of(Path.of(plan.postgres().dataDir())).own(dest);
    return true;
  }

  /** The state of a service's WAL archive: what it holds, its first gap, its lag. */
  public record WalStatus(
      String service,
      int files,
      int timeline,
      String newest,
      Instant newestArchived,
      String firstGap,
      long lagSeconds,
      long readyFiles,
      String archiveCommand) {}

  public WalStatus walStatus(String service) throws IOException {
    BackupSpec.Plan plan = postgresPlan(service);
    Repository repo = repository(plan.repository());
    List<String> names = WalArchive.names(repo.backend(), service);
    Snapshot oldest = oldestBase(repo.snapshots(), service);
    long seg = oldest == null ? 16L << 20 : oldest.postgres().segmentBytes();
    int timeline = WalArchive.newestTimeline(names);
    List<WalArchive.Span> lineage = WalArchive.lineage(repo, service, timeline, seg);
    Optional<String> newest = WalArchive.newestSegment(names, lineage, seg);
    Instant at =
        newest.isPresent()
            ? WalArchive.open(repo, WalArchive.object(service, newest.get())).archived()
            : null;
    String gap =
        oldest == null
            ? null
            : WalArchive.firstGap(
                    names, lineage, WalArchive.number(oldest.postgres().startWal(), seg), -1, seg)
                .orElse(null);
    Path dataDir = Path.of(plan.postgres().dataDir());
    long ready = 0;
    try (var s =
        Files.newDirectoryStream(dataDir.resolve("pg_wal").resolve("archive_status"), "*.ready")) {
      for (Path ignored : s) {
        ready++;
      }
    } catch (IOException e) {
      ready = -1;
    }
    return new WalStatus(
        service,
        names.size(),
        timeline,
        newest.orElse(null),
        at,
        gap,
        PgBackups.archiveLag(dataDir, clock.instant()).toSeconds(),
        ready,
        walCommand == null ? null : archiveCommand());
  }

  /**
   * Restores a PostgreSQL service to a point in time: the newest base backup that ended before the
   * target (or the one given), then PostgreSQL replays the archived WAL up to the target and
   * promotes. Into target dir when given (started by hand there); otherwise in place: the service
   * stopped, a safety snapshot of its data directory taken, restored, started, and awaited until
   * recovery ends (on failure the safety snapshot is put back).
   */
  public Restored restorePostgres(
      String service,
      String snapshotId,
      PgBackups.Target target,
      Path into,
      String from,
      Restorer.Counters counters,
      Duration limit)
      throws Exception {
    BackupSpec.Plan plan = postgresPlan(service);
    String source = source(plan, from);
    if (walCommand == null) {
      throw new BackupException("this daemon cannot fetch WAL (no API listening)");
    }
    Repository repo = repository(source);
    Snapshot s = PgBackups.choose(repo, service, target, snapshotId);
    PgBackups.Wal wal = PgBackups.follow(repo, service, s, target);
    PgBackups.checkWal(repo, service, s, target, wal);
    Path dataDir = Path.of(plan.postgres().dataDir());
    long t0 = System.nanoTime();
    if (into != null) {
      Restorer.restore(repo, s, into, false, counters);
      Path copy = into.resolve(dataDir.toString().replaceFirst("^/+", ""));
      PgBackups.prepare(copy, s, target, restoreCommand(), true);
      PgBackups.stage(repo, service, copy, s, wal, Integer.MAX_VALUE);
      emit(
          "Restored",
          service,
          "restored base backup " + s.shortId() + " of " + service + " into " + into,
          Map.of("snapshot", s.shortId()));
      return restored(s, List.of(copy), null, counters, t0);
    }
    ReentrantLock l = lock(source);
    l.lock();
    Snapshot safety = null;
    try {
      services.stop(service);
      if (Files.isDirectory(dataDir)) {
        safety =
            Archiver.backup(
                    repo,
                    service,
                    List.of(dataDir),
                    List.of("pre-restore"),
                    null,
                    new Archiver.Counters(),
                    p -> p.getFileName().toString().equals("postmaster.pid"),
                    x -> x)
                .snapshot();
      }
      mark(service, new Marker(s.id(), safety == null ? null : safety.id(), source, target));
      try {
        Restorer.restore(repo, s, null, true, counters);
        PgBackups.prepare(dataDir, s, target, restoreCommand(), false);
        PgBackups.stage(repo, service, dataDir, s, wal, PgBackups.STAGE_AHEAD);
        writeWalConfig(service, dataDir);
        unmark(service);
        PgBackups.startRecovering(services, service, dataDir);
        PgBackups.awaitRecovery(service, plan.postgres(), pgPassword(plan), dataDir, limit);
      } catch (IOException | RuntimeException e) {
        String back = putBack(service, repo, safety);
        emit(
            "RestoreFailed",
            service,
            "restoring "
                + service
                + " to "
                + target.describe()
                + " failed: "
                + e.getMessage()
                + "; "
                + back,
            Map.of("snapshot", s.shortId()));
        throw new BackupException(e.getMessage() + "; " + back, e);
      }
      Map<String, String> f = new LinkedHashMap<>();
      f.put("snapshot", s.shortId());
      f.put("target", target.describe());
      if (safety != null) {
        f.put("safety", safety.shortId());
      }
      emit(
          "Restored",
          service,
          "restored "
              + service
              + " to "
              + target.describe()
              + " from base backup "
              + s.shortId()
              + (safety == null ? "" : " (safety snapshot " + safety.shortId() + ")"),
          f);
      return restored(s, List.of(dataDir), safety, counters, t0);
    } finally {
      l.unlock();
    }
  }

  /** After a failed point-in-time restore: the data directory as it was, and the service up. */
  private String putBack(String service, Repository repo, Snapshot safety) {
    try {
      services.stop(service);
      if (safety == null) {
        unmark(service);
        return service + " stays stopped: there was no data directory before";
      }
      Restorer.restore(repo, safety, null, true, new Restorer.Counters());
      unmark(service);
      services.start(service);
      return "what was there before is back (safety snapshot " + safety.shortId() + ")";
    } catch (Exception again) {
      return safety == null
          ? service + " stays stopped: " + again.getMessage()
          : stuck(service, safety, again);
    }
  }

  /** What a restore says when putting back what was there failed too. */
  private static String stuck(String service, Snapshot safety, Exception again) {
    return service
        + " stays stopped: putting back what was there failed too ("
        + again.getMessage()
        + "); it is in safety snapshot "
        + safety.shortId()
        + " ('pilothouse restore "
        + service
        + " --snapshot "
        + safety.shortId()
        + "')";
  }

  private static Restored restored(
      Snapshot s, List<Path> paths, Snapshot safety, Restorer.Counters counters, long t0) {
    return new Restored(
        s,
        paths,
        safety == null ? null : safety.shortId(),
        counters.files.get(),
        counters.bytes.get(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
  }

  /**
   * Keeps a PostgreSQL plan's archiving set up (its configuration file in the data directory, and
   * archive_command when the cluster has none or an older one of Pilothouse's) and watches its lag.
   */
  private void watchArchiving(BackupSpec.Plan p, Instant now) {
    Path dataDir = Path.of(p.postgres().dataDir());
    Duration lag = PgBackups.archiveLag(dataDir, now);
    archiveLag.put(p.service(), lag);
    boolean behind = lag.compareTo(p.postgres().maxArchiveLag()) > 0;
    if (behind && archiveBehind.putIfAbsent(p.service(), true) == null) {
      emit(
          "WalArchiveLagging",
          p.service(),
          "WAL of "
              + p.service()
              + " has waited "
              + lag.toSeconds()
              + " s to be archived (more than "
              + p.postgres().maxArchiveLag().toSeconds()
              + " s): see docs/runbooks/wal-archive-lagging.md",
          Map.of("lagSeconds", Long.toString(lag.toSeconds())));
    } else if (!behind && archiveBehind.remove(p.service()) != null) {
      emit(
          "WalArchiveCaughtUp",
          p.service(),
          "WAL of " + p.service() + " is archived again",
          Map.of());
    }
    Instant checked = archiveChecked.get(p.service());
    if (walCommand == null
        || (checked != null && checked.plus(Duration.ofSeconds(30)).isAfter(now))) {
      return;
    }
    archiveChecked.put(p.service(), now);
    try {
      writeWalConfig(p.service(), dataDir);
    } catch (IOException e) {
      log.warn("cannot write {} in {}: {}", PgBackups.CONFIG, dataDir, e.getMessage());
    }
    try (PgCluster c = PgCluster.connect(p.postgres(), pgPassword(p))) {
      if (c.inRecovery()) {
        return;
      }
      String current = c.show("archive_command");
      String wanted = archiveCommand();
      if (!current.equals(wanted)) {
        boolean ours =
            current.isBlank()
                || current.equals("(disabled)")
                || current.contains(" wal push --config " + PgBackups.CONFIG);
        if (ours) {
          c.alterSystem("archive_command", wanted);
          emit(
              "WalArchivingConfigured",
              p.service(),
              "set archive_command of " + p.service() + "'s PostgreSQL to Pilothouse's",
              Map.of());
        } else if (archiveConflict.putIfAbsent(p.service(), true) == null) {
          emit(
              "WalArchivingConflict",
              p.service(),
              "the PostgreSQL of "
                  + p.service()
                  + " archives WAL with its own archive_command; Pilothouse leaves it alone and"
                  + " its base backups cannot be restored: run 'ALTER SYSTEM RESET"
                  + " archive_command; SELECT pg_reload_conf()' to let Pilothouse archive",
              Map.of());
        }
      }
      if ("off".equals(c.show("archive_mode"))
          && archiveConflict.putIfAbsent(p.service() + " off", true) == null) {
        emit(
            "WalArchivingOff",
            p.service(),
            "archive_mode is off in the PostgreSQL of "
                + p.service()
                + ": run 'ALTER SYSTEM SET archive_mode = on' and restart it",
            Map.of());
      }
    } catch (BackupException | java.sql.SQLException notRunning) {
      log.debug("archiving of {}: {}", p.service(), notRunning.getMessage());
    }
  }

  // ---- deploys

  /**
   * The snapshot taken before a deploy (tags {@code pre-deploy}, {@code revision=N}), for the
   * deploy machinery's pre-deploy backup of a service that has a plan.
   */
  public Snapshot preDeploy(String service, long revision) throws IOException {
    return run(service, List.of("pre-deploy", "revision=" + revision), new Archiver.Counters());
  }

  /**
   * The data as it was under an earlier revision: the snapshot taken before the first deploy after
   * toRevision (toRevision 0: before the latest deploy). Empty when there is none.
   */
  public java.util.Optional<Snapshot> dataBefore(String service, long toRevision)
      throws IOException {
    Snapshot best = null;
    long bestRevision = 0;
    for (Snapshot s : repository(plan(service).repository()).snapshots()) {
      if (!service.equals(s.service()) || !s.hasTag("pre-deploy") || s.tags() == null) {
        continue;
      }
      long r =
          s.tags().stream()
              .filter(t -> t.startsWith("revision="))
              .mapToLong(t -> Long.parseLong(t.substring(9)))
              .findFirst()
              .orElse(0);
      boolean better =
          toRevision > 0
              ? r > toRevision && (best == null || r < bestRevision)
              : best == null || r >= bestRevision;
      if (better) {
        best = s;
        bestRevision = r;
      }
    }
    return java.util.Optional.ofNullable(best);
  }

  // ---- drills

  /**
   * A disaster-recovery drill: restores the service's latest snapshot into a sandbox directory,
   * starts an instance of the service there (its data paths pointed at the restored copy, on a port
   * of its own), waits for its readiness check to pass, and measures the recovery time (start of
   * restore to ready) and the recovery point (age of the snapshot). The sandbox is stopped and
   * removed afterwards; the service itself is never touched.
   */
  public Drill drill(String service, Duration limit) throws Exception {
    BackupSpec.Plan plan = plan(service);
    BackupSpec.Postgres pg = plan.postgres();
    PgBackups.Target end = new PgBackups.Target(null, null, null, null, null);
    Instant started = clock.instant();
    long t0 = System.nanoTime();
    Repository repo = repository(plan.repository());
    // PostgreSQL: the newest base backup and all the archived WAL after it (the newest point)
    Snapshot s =
        pg != null ? PgBackups.choose(repo, service, end, null) : repo.snapshot("latest", service);
    Instant point = s.time();
    if (pg != null) {
      Instant wal = walStatus(service).newestArchived();
      point = wal != null && wal.isAfter(s.postgres().stopTime()) ? wal : s.postgres().stopTime();
    }
    long rpo = Math.max(0, Duration.between(point, started).toSeconds());
    // PostgreSQL's own user must reach its sandbox: beside its data directory, and owned by it
    Path sandbox =
        pg != null
            ? pgSandbox(Path.of(pg.dataDir()))
            : Files.createTempDirectory(tmp, "drill-" + service + "-");
    Restorer.Counters c = new Restorer.Counters();
    String message;
    boolean ok = false;
    long rtoMs = -1;
    try {
      Restorer.restore(repo, s, sandbox, false, c);
      Map<String, String> moved = new LinkedHashMap<>();
      for (String p : s.paths()) {
        moved.put(p, sandbox.resolve(p.replaceFirst("^/+", "")).toString());
      }
      if (pg != null) {
        Path copy = Path.of(moved.get(pg.dataDir()));
        PgBackups.Wal wal = PgBackups.follow(repo, service, s, end);
        PgBackups.checkWal(repo, service, s, end, wal);
        PgBackups.prepare(copy, s, end, restoreCommand(), true);
        PgBackups.stage(repo, service, copy, s, wal, Integer.MAX_VALUE);
        int port;
        try (var probe = new java.net.ServerSocket(0)) {
          port = probe.getLocalPort();
        }
        moved.put(Integer.toString(pg.port()), Integer.toString(port));
        try (Sandbox box = services.sandbox(service, moved)) {
          PgBackups.awaitRecovery(
              service,
              new BackupSpec.Postgres(
                  copy.toString(),
                  "127.0.0.1",
                  port,
                  pg.user(),
                  pg.database(),
                  pg.passwordEnv(),
                  pg.maxArchiveLag()),
              pgPassword(plan),
              copy,
              limit);
          message = box.alive() ? null : "the restored PostgreSQL exited";
          ok = message == null;
          rtoMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
      } else {
        try (Sandbox box = services.sandbox(service, moved)) {
          message = awaitReady(service, box, t0, limit);
          ok = message == null;
          rtoMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
      }
    } catch (IOException | RuntimeException e) {
      message = e.getMessage();
    } finally {
      deleteTree(sandbox);
    }
    boolean rtoMet = ok && (plan.rto() == null || rtoMs <= plan.rto().toMillis());
    boolean rpoMet = plan.rpo() == null || rpo <= plan.rpo().toSeconds();
    Drill d =
        new Drill(
            service,
            s.shortId(),
            started,
            ok,
            ok ? rtoMs : -1,
            rpo,
            plan.rto(),
            plan.rpo(),
            rtoMet,
            rpoMet,
            c.files.get(),
            c.bytes.get(),
            ok
                ? "restored snapshot "
                    + s.shortId()
                    + " and the service answered its readiness check"
                : "the drill failed: " + message);
    Map<String, String> f = new LinkedHashMap<>();
    f.put("snapshot", s.shortId());
    f.put("ok", Boolean.toString(ok));
    f.put("rtoMs", Long.toString(d.rtoMs()));
    f.put("rpoSeconds", Long.toString(rpo));
    f.put("rtoMet", Boolean.toString(rtoMet));
    f.put("rpoMet", Boolean.toString(rpoMet));
    if (plan.rto() != null) {
      f.put("rtoObjectiveMs", Long.toString(plan.rto().toMillis()));
    }
    if (plan.rpo() != null) {
      f.put("rpoObjectiveSeconds", Long.toString(plan.rpo().toSeconds()));
    }
    emit(
        ok ? "DrillCompleted" : "DrillFailed",
        service,
        ok
            ? "drill of "
                + service
                + ": recovered in "
                + rtoMs
                + " ms from snapshot "
                + s.shortId()
                + " ("
                + rpo
                + " s old)"
                + (rtoMet && rpoMet ? "" : "; objectives missed")
            : "drill of " + service + " failed: " + message,
        f);
    drills.put(service, d);
    if (ok && !rtoMet) {
      emit(
          "DrillRtoMissed",
          service,
          "the drill of "
              + service
              + " took "
              + rtoMs
              + " ms, beyond its recovery time objective of "
              + plan.rto().toSeconds()
              + " s",
          f);
    }
    return d;
  }

  /** A drill's directory for a PostgreSQL service: beside its data directory, owned by its user. */
  private static Path pgSandbox(Path dataDir) throws IOException {
    Path parent = dataDir.toAbsolutePath().normalize().getParent();
    Path d =
        Files.createTempDirectory(
            parent,
            ".pilothouse-drill-",
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
    PgBackups.Owner.of(dataDir).own(d);
    return d;
  }

  /** Null once the sandbox answers its readiness check; else why not. */
  private String awaitReady(String service, Sandbox box, long t0, Duration limit)
      throws InterruptedException {
    var svc = spec.get().service(service).orElse(null);
    var probe = svc == null ? null : svc.readiness();
    java.net.http.HttpClient http =
        java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = t0 + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!box.alive()) {
        return "the restored instance exited before it was ready (see its log under logs/"
            + service
            + ")";
      }
      if (probe == null || probe.kind() != dev.pilothouse.core.spec.Probe.Kind.HTTP) {
        // no HTTP check: alive for a second counts, as for the service's own instances
        if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(1)) {
          Thread.sleep(1000);
          return box.alive() ? null : "the restored instance exited";
        }
      } else {
        int port = probe.port() > 0 ? probe.port() : box.port();
        try {
          var r =
              http.send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + port + probe.path()))
                      .timeout(Duration.ofSeconds(2))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() >= 200 && r.statusCode() < 400) {
            return null;
          }
        } catch (IOException notYet) {
          // not listening yet
        }
      }
      Thread.sleep(50);
    }
    return "the restored instance was not ready within " + limit.toSeconds() + " s";
  }

  private static void deleteTree(Path p) {
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    } catch (IOException e) {
      log.warn("could not remove the drill's sandbox {}: {}", p, e.getMessage());
    }
  }

  // ---- schedule

  /** Starts due scheduled backups and checks recovery point objectives; call every few seconds. */
  public void tick() {
    Instant now = clock.instant();
    for (BackupSpec.Plan p : backups().plans()) {
      try {
        // A plan without snapshots counts from when this daemon first saw it: its first scheduled
        // backup is the next fire time, and its RPO runs from now.
        // (the repository's snapshots are read once, for both)
        boolean unseen = !lastRun.containsKey(p.service());
        boolean noPoint = !restorable.containsKey(p.service());
        if (unseen || noPoint) {
          Optional<Instant> newest = newest(p);
          if (unseen) {
            lastRun.putIfAbsent(p.service(), newest.orElse(now));
          }
          if (noPoint) {
            newest.ifPresent(t -> restorable.merge(p.service(), t, BackupService::later));
            if (p.postgres() != null) {
              newestWal(p).ifPresent(t -> restorable.merge(p.service(), t, BackupService::later));
            }
          }
        }
        Instant last = lastRun.get(p.service());
        if (p.schedule() != null) {
          Optional<ZonedDateTime> fire =
              ExecutionTime.forCron(CRON.parse(p.schedule()))
                  .lastExecution(now.atZone(ZoneId.systemDefault()));
          if (fire.isPresent()
              && fire.get().toInstant().isAfter(last)
              && queued.putIfAbsent(p.service(), true) == null) {
            scheduled.submit(
                () -> {
                  try {
                    run(p.service(), List.of("scheduled"), new Archiver.Counters());
                  } catch (IOException | RuntimeException e) {
                    lastRun.put(p.service(), clock.instant()); // once per fire time, not in a loop
                    log.warn("scheduled backup of {} failed: {}", p.service(), e.getMessage());
                  } finally {
                    queued.remove(p.service());
                  }
                });
          }
        }
        if (p.postgres() != null) {
          watchArchiving(p, now);
        }
        if (p.drill() != null) {
          Instant lastDrillAt = lastDrill.computeIfAbsent(p.service(), k -> now);
          Optional<ZonedDateTime> fire =
              ExecutionTime.forCron(CRON.parse(p.drill()))
                  .lastExecution(now.atZone(ZoneId.systemDefault()));
          if (fire.isPresent()
              && fire.get().toInstant().isAfter(lastDrillAt)
              && queued.putIfAbsent(p.service() + " drill", true) == null) {
            lastDrill.put(p.service(), now);
            scheduled.submit(
                () -> {
                  try {
                    drill(p.service(), DRILL_LIMIT);
                  } catch (Exception e) {
                    log.warn("scheduled drill of {} failed: {}", p.service(), e.getMessage());
                  } finally {
                    queued.remove(p.service() + " drill");
                  }
                });
          }
        }
        if (p.rpo() != null
            && last.plus(p.rpo()).isBefore(now)
            && rpoMissed.putIfAbsent(p.service(), true) == null) {
          emit(
              "BackupRpoMissed",
              p.service(),
              "the newest backup of "
                  + p.service()
                  + " is older than its recovery point objective of "
                  + p.rpo().toMinutes()
                  + " minutes",
              Map.of("rpoSeconds", Long.toString(p.rpo().toSeconds())));
        }
      } catch (RuntimeException e) {
        log.warn("backup schedule of {}: {}", p.service(), e.getMessage());
      }
    }
  }

  private static Instant later(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private Optional<Instant> newestWal(BackupSpec.Plan p) {
    try {
      return Optional.ofNullable(walStatus(p.service()).newestArchived());
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read the WAL archive of {}: {}", p.service(), e.getMessage());
      return Optional.empty();
    }
  }

  /** A service's oldest PostgreSQL base backup among snapshots (sorted by time), or null. */
  private static Snapshot oldestBase(List<Snapshot> snapshots, String service) {
    for (Snapshot s : snapshots) {
      if (service.equals(s.service()) && s.postgres() != null) {
        return s;
      }
    }
    return null;
  }

  /**
   * Deletes archived WAL that no remaining base backup needs: older than the oldest base backup's
   * start, for each PostgreSQL plan (none while a service has no base backup).
   */
  private void expireWal(Repository repo, List<BackupSpec.Plan> plans) throws IOException {
    List<Snapshot> left = repo.snapshots();
    for (BackupSpec.Plan p : plans) {
      if (p.postgres() == null) {
        continue;
      }
      Snapshot oldest = oldestBase(left, p.service());
      if (oldest != null) {
        int n =
            WalArchive.expire(
                repo.backend(),
                p.service(),
                oldest.postgres().startWal(),
                oldest.postgres().segmentBytes());
        if (n > 0) {
          log.info("expired {} WAL file(s) of {} older than {}", n, p.service(), oldest.shortId());
        }
      }
    }
  }

  /**
   * The backup gauges, in Prometheus's text format, for the daemon's own metrics (the built-in
   * alert rules compare them with the objectives).
   */
  public String metricsText() {
    StringBuilder b = new StringBuilder();
    List<BackupSpec.Plan> plans = backups().plans();
    if (plans.isEmpty()) {
      return "";
    }
    gauge(
        b,
        "pilothouse_backup_restorable_timestamp_seconds",
        "The newest point a service's data can be restored to: its newest snapshot, or the newest"
            + " archived WAL of a PostgreSQL service.",
        plans,
        p -> {
          Instant t = restorable.get(p.service());
          return t == null ? null : t.toEpochMilli() / 1000.0;
        });
    gauge(
        b,
        "pilothouse_backup_rpo_objective_seconds",
        "The recovery point objective of a service.",
        plans,
        p -> p.rpo() == null ? null : (double) p.rpo().toSeconds());
    gauge(
        b,
        "pilothouse_backup_rto_objective_seconds",
        "The recovery time objective of a service.",
        plans,
        p -> p.rto() == null ? null : (double) p.rto().toSeconds());
    gauge(
        b,
        "pilothouse_drill_success",
        "Whether the last drill of a service (run by this daemon) recovered it: 1 or 0.",
        plans,
        p -> {
          Drill d = drills.get(p.service());
          return d == null ? null : d.ok() ? 1.0 : 0.0;
        });
    gauge(
        b,
        "pilothouse_drill_rto_seconds",
        "The recovery time the last successful drill of a service measured.",
        plans,
        p -> {
          Drill d = drills.get(p.service());
          return d == null || !d.ok() ? null : d.rtoMs() / 1000.0;
        });
    gauge(
        b,
        "pilothouse_wal_archive_lag_seconds",
        "How long the oldest WAL file of a PostgreSQL service has waited to be archived.",
        plans,
        p -> {
          Duration lag = archiveLag.get(p.service());
          return p.postgres() == null || lag == null ? null : (double) lag.toSeconds();
        });
    gauge(
        b,
        "pilothouse_wal_archive_lag_limit_seconds",
        "The archiving lag beyond which a PostgreSQL service's WAL archive alerts (maxArchiveLag).",
        plans,
        p -> p.postgres() == null ? null : (double) p.postgres().maxArchiveLag().toSeconds());
    return b.toString();
  }

  private static void gauge(
      StringBuilder b,
      String name,
      String help,
      List<BackupSpec.Plan> plans,
      java.util.function.Function<BackupSpec.Plan, Double> value) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(" gauge\n");
    for (BackupSpec.Plan p : plans) {
      Double v = value.apply(p);
      if (v != null) {
        b.append(name)
            .append("{service=\"")
            .append(p.service())
            .append("\"} ")
            .append(v)
            .append('\n');
      }
    }
  }

  private Optional<Instant> newest(BackupSpec.Plan p) {
    try {
      Repository repo = repository(p.repository());
      return repo.snapshots().stream()
          .filter(s -> p.service().equals(s.service()))
          .map(Snapshot::time)
          .max(Instant::compareTo);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read the snapshots of {}: {}", p.service(), e.getMessage());
      return Optional.empty();
    }
  }

  private void emit(String type, String service, String message, Map<String, String> fields) {
    events.emit(new NewEvent(clock.instant(), type, service, "", message, fields));
  }

  @Override
  public void close() {
    scheduled.shutdownNow();
    open.values().forEach(Repository::close);
    open.clear();
  }
}
