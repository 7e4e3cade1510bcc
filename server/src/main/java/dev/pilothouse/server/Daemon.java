package dev.pilothouse.server;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.health.Probers;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.rollout.RolloutController;
import dev.pilothouse.core.runtime.LocalProcessRuntime;
import dev.pilothouse.core.runtime.LogFiles;
import dev.pilothouse.core.runtime.LogStreamer;
import dev.pilothouse.core.time.Clocks;
import dev.pilothouse.store.SqliteStore;
import io.javalin.Javalin;
import java.io.IOException;
import java.net.BindException;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon of one state directory: store, runtime, instance controller and API, started in that
 * order and stopped in reverse. At most one runs per state directory (a file lock).
 */
public final class Daemon {
  private static final Logger log = LoggerFactory.getLogger(Daemon.class);

  /** daemon.log is rotated beyond 10 MiB, keeping 5 older files (60 MiB at most). */
  static final long DAEMON_LOG_MAX = 10L << 20;

  static final int DAEMON_LOG_KEEP = 5;
  static final Duration TICK = Duration.ofMillis(100);

  /** How a daemon is configured. */
  public record Options(
      Path stateDir,
      String apiHost,
      int apiPort,
      boolean apiPortExplicit,
      Tls tls,
      Leading leading) {
    /** Options of a daemon whose API speaks plain HTTP. */
    public Options(Path stateDir, String apiHost, int apiPort, boolean apiPortExplicit) {
      this(stateDir, apiHost, apiPort, apiPortExplicit, null);
    }

    /** Options of the only daemon of its state (no leader election). */
    public Options(Path stateDir, String apiHost, int apiPort, boolean apiPortExplicit, Tls tls) {
      this(stateDir, apiHost, apiPort, apiPortExplicit, tls, null);
    }

    /** These options for the leader of term, on the API port it was elected with. */
    Options leading(Leading l, int port) {
      return new Options(stateDir, apiHost, port, true, tls, l);
    }

    public Options {
      requireNonNull(stateDir, "stateDir");
      requireNonNull(apiHost, "apiHost");
      if (apiPort < 0 || apiPort > 65535) {
        throw new IllegalArgumentException("apiPort must be in 0..65535, but was " + apiPort);
      }
    }
  }

  /**
   * The leader of the daemons sharing a PostgreSQL store: its fencing term (every write of its
   * store carries it), and who leads as its API tells.
   */
  public record Leading(
      long term,
      StoreConfig store,
      java.util.function.Supplier<dev.pilothouse.client.Wire.Leadership> view) {}

  /**
   * HTTPS for the API: with cert and key (PEM files), or both null for a self-signed certificate
   * kept in STATE_DIR/tls.
   */
  public record Tls(Path cert, Path key) {
    public static Tls selfSigned() {
      return new Tls(null, null);
    }
  }

  /** The daemon could not start; the message says why and what to do. */
  public static final class StartException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int exitCode;

    StartException(int exitCode, String message, Throwable cause) {
      super(message, cause);
      this.exitCode = exitCode;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  private final Options options;
  private final StateDir dir;
  private final InstantSource clock = Clocks.system();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private FileLock lock;
  private SqliteStore store;
  private dev.pilothouse.core.runtime.RuntimeRouter controller;
  private LogFiles logFiles;
  private ExecutorService probeExecutor;
  private ScheduledExecutorService loop;
  private ScheduledExecutorService experimentLoop;
  private ScheduledExecutorService ruleLoop;
  private ScheduledExecutorService anomalyLoop;
  private ScheduledExecutorService scaleLoop;
  private ScheduledExecutorService chaosLoop;
  private dev.pilothouse.scaling.Autoscaler autoscaler;
  private dev.pilothouse.backup.BackupService backups;
  private ScheduledExecutorService backupLoop;

  /** A word for /bin/sh: as it is when plain, else in single quotes. */
  static String shellWord(String s) {
    return s.matches("[A-Za-z0-9_./:=+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }

  private ScheduledExecutorService healLoop;
  private ScheduledExecutorService auditLoop;
  private dev.pilothouse.security.ApiCertificate certificate;
  private String apiUrl;
  private dev.pilothouse.security.Secrets secrets;
  private dev.pilothouse.security.Tokens tokens;
  private dev.pilothouse.security.Rotator rotator;
  private dev.pilothouse.cost.Costs costs;
  private volatile dev.pilothouse.chaos.Chaos chaos;
  private MetricsSource metricsSource;

  /** The passphrase the secrets' master key is derived from, when a key file is not wanted. */
  static final String SECRETS_PASSPHRASE_ENV = "PILOTHOUSE_SECRETS_PASSPHRASE";

  /** A PostgreSQL JDBC URL: the daemon's state lives there instead of STATE/pilothouse.db. */
  static final String STORE_URL_ENV = "PILOTHOUSE_STORE_URL";

  static final String STORE_USER_ENV = "PILOTHOUSE_STORE_USER";
  static final String STORE_PASSWORD_FILE_ENV = "PILOTHOUSE_STORE_PASSWORD_FILE";

  /**
   * The store: the SQLite file in the state directory, or the PostgreSQL database that {@value
   * #STORE_URL_ENV} names (user {@value #STORE_USER_ENV}, default {@code pilothouse}; password from
   * the file {@value #STORE_PASSWORD_FILE_ENV}, never from the environment itself).
   */
  /**
   * Where the state lives when not in the state directory: a PostgreSQL database, from {@code
   * PILOTHOUSE_STORE_URL} (with {@code _USER} and {@code _PASSWORD_FILE}); empty for SQLite.
   */
  record StoreConfig(String url, String user, String password) {
    static java.util.Optional<StoreConfig> of(Map<String, String> env) {
      String url = env.getOrDefault(STORE_URL_ENV, "").trim();
      if (url.isEmpty()) {
        return java.util.Optional.empty();
      }
      if (!url.startsWith("jdbc:postgresql://")) {
        throw new IllegalArgumentException(
            STORE_URL_ENV
                + " must be a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DATABASE), not '"
                + url
                + "'; unset it to keep the state in the state directory");
      }
      String password = "";
      String file = env.getOrDefault(STORE_PASSWORD_FILE_ENV, "");
      if (!file.isEmpty()) {
        try {
          password = Files.readString(Path.of(file)).trim();
        } catch (java.io.IOException e) {
          throw new IllegalArgumentException(
              STORE_PASSWORD_FILE_ENV + ": cannot read " + file + ": " + e.getMessage(), e);
        }
      }
      return java.util.Optional.of(
          new StoreConfig(url, env.getOrDefault(STORE_USER_ENV, "pilothouse"), password));
    }

    @Override
    public String toString() { // never the password
      return "StoreConfig[" + url + " as " + user + "]";
    }
  }

  /** The store: the state directory's SQLite file, or PostgreSQL written for the leader's term. */
  private SqliteStore openStore() throws java.io.IOException {
    Leading l = options.leading();
    if (l == null) {
      StateDir.createPrivate(dir.resolve("pilothouse.db"));
      return SqliteStore.open(dir.resolve("pilothouse.db"), clock);
    }
    return SqliteStore.postgres(
        l.store().url(),
        l.store().user(),
        l.store().password(),
        clock,
        java.util.OptionalLong.of(l.term()));
  }

  private dev.pilothouse.security.AuditLog audit;
  private dev.pilothouse.scaling.Remediator remediator;
  private dev.pilothouse.anomaly.Anomalies anomalies;
  private ScheduledExecutorService incidentLoop;
  private dev.pilothouse.incident.Incidents incidents;
  private dev.pilothouse.alerting.Rules rules;
  private dev.pilothouse.alerting.routing.Router router;
  private dev.pilothouse.alerting.routing.Forwarder forwarder;
  private Traffic traffic;
  private Deployments deployments;
  private RolloutController rollouts;
  private RolloutChecks checks;
  private Telemetry telemetry;
  private dev.pilothouse.flags.Flags flags;
  private dev.pilothouse.flags.FlagRollouts flagRollouts;
  private dev.pilothouse.experiment.Experiments experiments;
  private dev.pilothouse.notify.Dispatcher notifications;
  private dev.pilothouse.core.spec.NotificationsSpec notifying;
  private Javalin api;
  private volatile boolean stopping;

  private Daemon(Options options) {
    this.options = options;
    this.dir = new StateDir(options.stateDir());
  }

  /** Starts a daemon; throws {@link StartException} when it cannot. */
  public static Daemon start(Options options) {
    Daemon d = new Daemon(options);
    try {
      d.startAll();
    } catch (StartException e) {
      d.closeQuietly();
      throw e;
    } catch (IOException | RuntimeException e) {
      d.closeQuietly();
      throw new StartException(
          1, "starting the daemon in " + options.stateDir() + ": " + e.getMessage(), e);
    }
    return d;
  }

  /** Checks the audit log at start; a broken chain is logged and recorded as an event. */
  private void verifyEventChain() {
    var v = store.verify();
    if (v.intact()) {
      return;
    }
    log.error(
        "audit log: event {} does not verify: {} (see 'pilothouse events verify')",
        v.broken().seq(),
        v.broken().reason());
    store.emit(
        new NewEvent(
            clock.instant(),
            "AuditChainBroken",
            "",
            "",
            "the event log does not verify from event "
                + v.broken().seq()
                + ": "
                + v.broken().reason(),
            Map.of(
                "first_broken", Long.toString(v.broken().seq()), "reason", v.broken().reason())));
  }

  /** Damage found while opening the metrics store: a log line and an event for each kind. */
  private void reportDamagedStore(dev.pilothouse.tsdb.Tsdb.OpenReport r) {
    for (var q : r.quarantined()) {
      log.warn(
          "metrics store: block {} could not be opened ({}); moved to {}",
          q.name(),
          q.reason(),
          q.movedTo());
      store.emit(
          new NewEvent(
              clock.instant(),
              "TsdbBlockQuarantined",
              "",
              "",
              "metrics block " + q.name() + " is damaged and was moved to " + q.movedTo(),
              Map.of("block", q.name(), "reason", q.reason(), "moved_to", q.movedTo().toString())));
    }
    if (r.walDamagedRecords() > 0) {
      log.warn(
          "metrics store: {} damaged WAL records skipped ({} bytes) in segments {}",
          r.walDamagedRecords(),
          r.walSkippedBytes(),
          r.walDamagedSegments());
      store.emit(
          new NewEvent(
              clock.instant(),
              "TsdbWalDamaged",
              "",
              "",
              r.walDamagedRecords()
                  + " damaged WAL records were skipped; the samples in them are lost",
              Map.of(
                  "records", Long.toString(r.walDamagedRecords()),
                  "bytes", Long.toString(r.walSkippedBytes()),
                  "segments", String.join(",", r.walDamagedSegments()))));
    }
  }

  private void startAll() throws IOException {
    Instant started = clock.instant();
    dir.create();
    lock = dir.lock().orElse(null);
    // A newly elected leader may find the deposed one still stopping (or halting): it has until
    // the old lease's end, which has passed, plus a moment to let the directory go.
    for (int i = 0; lock == null && options.leading() != null && i < 50; i++) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      lock = dir.lock().orElse(null);
    }
    lock =
        java.util.Optional.ofNullable(lock)
            .orElseThrow(
                () ->
                    new StartException(
                        3,
                        "another daemon is already running with state directory "
                            + dir.path()
                            + existingPid(),
                        null));
    String token = dir.token();
    certificate = certificate();
    apiUrl = (certificate == null ? "http://" : "https://") + options.apiHost() + ":";
    List<Path> repaired = dir.secure();
    if (!repaired.isEmpty()) {
      log.warn(
          "state directory {}: took group and other permissions off {} files and directories"
              + " (first: {}); it holds secrets and is for its owner only",
          dir.path(),
          repaired.size(),
          repaired.get(0));
    }
    store = openStore();
    logFiles = new LogFiles(dir.resolve("logs"), 10L << 20, 20, clock);
    probeExecutor = Probers.virtualThreads();
    traffic = new Traffic(dir.path(), dir.resolve("logs").resolve("access.log"), store, clock);
    SecureRandom random = new SecureRandom();
    secrets =
        new dev.pilothouse.security.Secrets(
            store,
            dev.pilothouse.security.SecretBox.open(
                dir.resolve("secrets"), System.getenv(SECRETS_PASSPHRASE_ENV)),
            store,
            clock);
    tokens = new dev.pilothouse.security.Tokens(store, store, clock);
    InstanceController local =
        InstanceController.create(
            new InstanceController.Options(
                // Services named in chaos.clock start with libfaketime, for clock faults.
                new dev.pilothouse.chaos.ClockRuntime(
                    LocalProcessRuntime.create(dir.path(), logFiles),
                    dir.path().resolve("chaos").resolve("clock"),
                    () ->
                        deployments == null
                            ? java.util.Set.of()
                            : java.util.Set.copyOf(deployments.current().chaos().clock()),
                    dev.pilothouse.chaos.ClockRuntime.LIBRARY),
                store,
                store,
                Probers.real(probeExecutor),
                Probers.freePorts(),
                clock,
                random,
                () -> HexFormat.of().toHexDigits(random.nextInt()).substring(0, 6),
                traffic,
                secrets));
    // Where services run: local processes, or the Kubernetes namespace the spec's runtime names.
    controller =
        new dev.pilothouse.core.runtime.RuntimeRouter(
            local,
            new LogStreamer(logFiles),
            traffic,
            store.latest().map(r -> r.spec()).orElse(dev.pilothouse.core.spec.Spec.empty()),
            dev.pilothouse.runtime.kubernetes.KubernetesRuntimes.opener(store, secrets, clock),
            store,
            clock);
    controller.recover();
    telemetry =
        new Telemetry(
            dir.path(),
            store
                .latest()
                .map(r -> r.spec().metrics())
                .orElse(dev.pilothouse.core.spec.MetricsSpec.defaults()),
            clock,
            () -> controller.onThisMachine()); // what the scraper can reach
    // The daemon's own PromQL reads: the built-in store, or metrics.source (an external API).
    metricsSource =
        new MetricsSource(
            () ->
                deployments == null
                    ? dev.pilothouse.core.spec.MetricsSpec.Source.BUILT_IN
                    : deployments.current().metrics().source(),
            telemetry);
    Fleet fleet = new Fleet(controller, traffic, clock);
    String previewSecret = RolloutController.Options.secret(random);
    checks =
        new RolloutChecks(
            () -> traffic.port().orElse(null),
            () -> deployments.current(), // read at each check, once deployments exists
            e -> metricsSource.evaluate(e, clock.millis()),
            previewSecret);
    rollouts =
        RolloutController.create(
            new RolloutController.Options(
                fleet, controller, fleet, store, store, clock, random, checks, previewSecret));
    deployments =
        new Deployments(
            store,
            controller,
            rollouts,
            store,
            clock,
            ScanApi.gate(
                new HostPreflight(
                    dir.path(), controller::status, traffic::port, HostPreflight::procMemAvailable),
                scanner()),
            new SnapshotBackups(new HookBackups(dir.path()), () -> backups),
            store);
    if (store.latest().isPresent()) {
      deployments.tick();
      rollouts.restoreCanaries();
    }
    flags = new dev.pilothouse.flags.Flags(store, store, clock);
    flagRollouts = new dev.pilothouse.flags.FlagRollouts(flags, store, checks, store, clock);
    experiments =
        new dev.pilothouse.experiment.Experiments(
            () -> deployments.current(), this::queryAt, store, store, clock);
    anomalies =
        new dev.pilothouse.anomaly.Anomalies(
            () -> deployments.current().alerting().anomalies(),
            new TsdbAnomalyStore(telemetry),
            clock);
    // One set of receivers (retries and circuit breakers per endpoint) for alerts and pages, and
    // one address for links back to the daemon.
    dev.pilothouse.notify.AlertSenders senders =
        new dev.pilothouse.notify.AlertSenders(
            dev.pilothouse.notify.AlertSenders.Policy.defaults());
    java.util.function.Supplier<String> externalUrl =
        () -> apiUrl + (api == null ? options.apiPort() : api.port());
    incidents =
        new dev.pilothouse.incident.Incidents(
            () -> deployments.current().alerting().oncall(),
            store,
            store,
            store,
            new dev.pilothouse.incident.ReceiverPager(
                senders, () -> deployments.current().notifications(), externalUrl),
            clock);
    // The autoscaler meets the deploy machinery in the store: it saves a count, the desired state
    // reads it; it learns of rollouts from the stored ones.
    // A chaos experiment's stressors count as their instance's own CPU and memory (as a stressor
    // in a container's cgroup does), for the store's series and the autoscaler alike.
    dev.pilothouse.tsdb.scrape.InstanceUsage usage =
        new dev.pilothouse.tsdb.scrape.InstanceUsage(
            java.nio.file.Path.of("/proc"), () -> chaos == null ? Map.of() : chaos.stressors());
    telemetry.countHelpers(usage);
    autoscaler =
        new dev.pilothouse.scaling.Autoscaler(
            new dev.pilothouse.scaling.Autoscaler.Options(
                () -> deployments.current(),
                controller::status,
                new ScalingSignals(traffic, metricsSource, usage),
                this::rolloutRunning,
                store,
                clock));
    RuleGroups ruleGroups = new RuleGroups(() -> deployments.current().alerting());
    rules =
        new dev.pilothouse.alerting.Rules(
            ruleGroups,
            metricsSource,
            store,
            store,
            clock,
            dev.pilothouse.alerting.Rules.Options.defaults());
    router =
        new dev.pilothouse.alerting.routing.Router(
            () -> deployments.current().alerting().routingConfig(),
            rules::all,
            senders,
            store,
            clock,
            new dev.pilothouse.alerting.routing.Router.Options(
                externalUrl, Executors.newVirtualThreadPerTaskExecutor()));
    forwarder =
        new dev.pilothouse.alerting.routing.Forwarder(
            () -> deployments.current().alerting().alertmanagers(),
            rules::all,
            clock,
            Executors.newVirtualThreadPerTaskExecutor(),
            () -> externalUrl.get() + "/api/v1/alerts");
    // Remediation runbooks act through the instance controller and the deploy machinery; their
    // escalations reach people through the event stream (notifications, incidents).
    remediator =
        new dev.pilothouse.scaling.Remediator(
            new dev.pilothouse.scaling.Remediator.Options(
                () -> deployments.current(),
                controller::status,
                rules::all,
                new ServerRemedies(controller, deployments),
                store,
                clock));
    // Backups run on their own threads; they meet the instances through suspend and resume.
    backups =
        new dev.pilothouse.backup.BackupService(
            () -> deployments.current(),
            new BackupServices(
                controller, deployments, LocalProcessRuntime.create(dir.path(), logFiles)),
            store,
            clock.withZone(java.time.ZoneOffset.UTC),
            java.nio.file.Files.createDirectories(dir.resolve("tmp")),
            System.getenv());
    // A restore in place that a killed daemon began: its service stays stopped until the backup
    // loop has finished the restore (before the first reconcile tick could start it).
    for (String service : backups.interruptedRestores()) {
      try {
        controller.suspend(service, "finishing a restore the previous daemon began");
      } catch (RuntimeException gone) {
        log.warn("an interrupted restore of {}, which is no longer declared", service);
      }
    }
    audit = new dev.pilothouse.security.AuditLog(store, dir.path().resolve("audit"), clock);
    rotator =
        new dev.pilothouse.security.Rotator(
            secrets,
            tokens,
            () -> deployments.current().secrets(),
            new dev.pilothouse.security.Rotator.Consumers() {
              @Override
              public List<String> servicesUsing(String secret) {
                return dev.pilothouse.security.Secrets.usedBy(deployments.current(), secret);
              }

              @Override
              public void restart(String service) {
                deployments.restart(service);
              }
            },
            clock);
    // Cost: the ledger of bills under STATE_DIR/cost; its series reach the store every minute.
    TsdbRuleStore costStore = new TsdbRuleStore(telemetry);
    costs =
        new dev.pilothouse.cost.Costs(
            dir.path().resolve("cost"),
            () -> deployments.current().cost(),
            new dev.pilothouse.cost.Usage() {
              @Override
              public List<Sample> query(String promql, java.time.Instant at) {
                try {
                  return costStore.query(promql, at).stream()
                      .map(x -> new Sample(x.labels(), x.value()))
                      .toList();
                } catch (RuntimeException e) {
                  return List.of(); // a failing query is a missing measurement
                }
              }

              @Override
              public void append(List<Sample> samples, java.time.Instant at) {
                costStore.append(
                    samples.stream()
                        .map(
                            x ->
                                new dev.pilothouse.alerting.RuleStore.Sample(x.labels(), x.value()))
                        .toList(),
                    at);
              }
            },
            java.time.Clock.systemUTC());
    // Chaos: runs kept in the store after every step; what a killed daemon left injected is rolled
    // back before anything else can start one.
    MetricsSource chaosStore = metricsSource;
    chaos =
        new dev.pilothouse.chaos.Chaos(
            new dev.pilothouse.chaos.Chaos.Options(
                () -> deployments.current(),
                controller::status,
                promql -> {
                  List<dev.pilothouse.alerting.RuleStore.Sample> r =
                      chaosStore.query(promql, clock.instant());
                  if (r.size() > 1) {
                    throw new IllegalArgumentException(
                        "the expression gives "
                            + r.size()
                            + " series; a probe needs one (aggregate it, e.g. sum(...))");
                  }
                  return r.isEmpty() ? Double.NaN : r.get(0).value();
                },
                traffic,
                store,
                store,
                clock,
                dev.pilothouse.chaos.Chaos.thisJava(),
                dir.path().toAbsolutePath().toString(),
                this::rolloutRunning,
                (file, text) -> {
                  dev.pilothouse.spec.ChaosReader.Parsed p =
                      dev.pilothouse.spec.ChaosReader.read(
                          file, text, dev.pilothouse.tsdb.promql.Parser::problem);
                  if (p.experiment().isEmpty()) {
                    throw new dev.pilothouse.chaos.ChaosException(
                        p.errors().get(0).toString(), "fix the experiment file");
                  }
                  return p.experiment().get();
                },
                dir.path().resolve("chaos").resolve("clock")));
    int recovered = chaos.recover();
    if (recovered > 0) {
      log.warn("rolled back the faults of {} chaos run(s) the previous daemon left", recovered);
    }
    Api a =
        new Api(
            new Api.Deps(
                controller,
                deployments,
                rollouts,
                store,
                store,
                traffic,
                controller,
                clock,
                token,
                dir.path().toString(),
                started.toString(),
                () -> stop(false),
                () -> stop(true),
                telemetry,
                flags,
                flagRollouts,
                dir.token("flags-token"),
                experiments,
                rules,
                router,
                anomalies,
                incidents,
                store,
                autoscaler,
                new dev.pilothouse.scaling.Advisor(new ScalingSignals(traffic, metricsSource)),
                backups,
                store,
                tokens,
                audit,
                secrets,
                rotator,
                new dev.pilothouse.security.IncidentCapture(
                    new CaptureSources(controller, logFiles, store, telemetry, clock), clock),
                costs,
                chaos,
                options.leading() == null ? null : options.leading().view()));
    telemetry.setSelfMetrics(a::metricsText);
    dev.pilothouse.ui.Dashboard dashboard =
        new dev.pilothouse.ui.Dashboard(
            new dev.pilothouse.ui.Dashboard.Options(
                a::address,
                () -> certificate == null ? null : certificate.fingerprint(),
                a::login,
                Duration.ofHours(8),
                clock,
                Version.current()));
    api = listen(a, dashboard);
    notifications = new dev.pilothouse.notify.Dispatcher(Duration.ofMillis(500));
    store.subscribe(notifications);
    loop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("reconcile").daemon().unstarted(r));
    loop.scheduleWithFixedDelay(this::tick, 0, TICK.toMillis(), TimeUnit.MILLISECONDS);
    loop.scheduleWithFixedDelay(logFiles::maintain, 1, 1, TimeUnit.SECONDS);
    // daemon.log is the daemon's stdout, opened by 'up' in append mode: rotated by copy-truncate.
    // So is the load balancer's own log (it appends, so copy-truncate loses nothing it wrote).
    loop.scheduleWithFixedDelay(
        () -> {
          LogFiles.copyTruncate(dir.resolve("daemon.log"), DAEMON_LOG_MAX, DAEMON_LOG_KEEP);
          LogFiles.copyTruncate(
              dir.resolve("logs").resolve("proxy.log"), DAEMON_LOG_MAX, DAEMON_LOG_KEEP);
        },
        5,
        5,
        TimeUnit.SECONDS);
    // Experiments query the metrics store: on a thread of their own, never holding up reconciling.
    experimentLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("experiments").daemon().unstarted(r));
    experimentLoop.scheduleWithFixedDelay(this::tickExperiments, 1, 1, TimeUnit.SECONDS);
    // Rule groups are evaluated on a thread of their own, each on its interval; the router's
    // group_wait and group_interval are kept to a tenth of a second (a tick between two
    // evaluations only looks at which groups are due).
    ruleLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("rules").daemon().unstarted(r));
    ruleLoop.scheduleWithFixedDelay(this::tickRules, 1000, 100, TimeUnit.MILLISECONDS);
    // Incidents follow the event log and page people on a thread of their own (a page may wait
    // for a slow receiver's retries).
    incidentLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("incidents").daemon().unstarted(r));
    incidentLoop.scheduleWithFixedDelay(this::tickIncidents, 1, 1, TimeUnit.SECONDS);
    // Anomaly detectors on a thread of their own: a new one replays days of history first.
    anomalyLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("anomalies").daemon().unstarted(r));
    anomalyLoop.scheduleWithFixedDelay(this::tickAnomalies, 1, 1, TimeUnit.SECONDS);
    // The autoscaler decides every second, on a thread of its own (a PromQL target may be slow).
    scaleLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("autoscaler").daemon().unstarted(r));
    scaleLoop.scheduleWithFixedDelay(this::tickScaling, 1, 1, TimeUnit.SECONDS);
    // Game days and the chaos monkey look every second, on a thread of their own.
    chaosLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("chaos").daemon().unstarted(r));
    chaosLoop.scheduleWithFixedDelay(this::tickChaos, 1, 1, TimeUnit.SECONDS);
    // Remediation on a thread of its own: a runbook's command may run for minutes.
    healLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("remediation").daemon().unstarted(r));
    healLoop.scheduleWithFixedDelay(this::tickRemediation, 1, 1, TimeUnit.SECONDS);
    // Scheduled backups and recovery point objectives, checked every five seconds.
    backupLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("backups").daemon().unstarted(r));
    String home = System.getenv("PILOTHOUSE_HOME");
    if (home != null && java.nio.file.Files.isExecutable(Path.of(home, "pilothouse"))) {
      // PostgreSQL's archive_command and restore_command run the CLI, which calls this API
      backups.archiveVia(
          "PILOTHOUSE_NO_BUILD=1 " + shellWord(Path.of(home, "pilothouse").toString()),
          apiUrl + api.port(),
          certificate == null ? null : certificate.fingerprint());
    }
    // The event log's signed Merkle checkpoints, once a minute when there are new events.
    auditLoop =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("audit").daemon().unstarted(r));
    auditLoop.scheduleWithFixedDelay(this::checkpointAudit, 5, 60, TimeUnit.SECONDS);
    // Scheduled secret rotations, and rotations a killed daemon left under way.
    auditLoop.scheduleWithFixedDelay(rotator::tick, 3, 60, TimeUnit.SECONDS);
    auditLoop.scheduleWithFixedDelay(costs::tick, 5, 15, TimeUnit.SECONDS);
    backupLoop.execute(backups::finishInterrupted);
    backupLoop.scheduleWithFixedDelay(backups::tick, 2, 5, TimeUnit.SECONDS);
    // Scrape targets follow the instances once a second, off the 100 ms reconcile tick.
    loop.scheduleWithFixedDelay(this::configureTelemetry, 0, 1, TimeUnit.SECONDS);
    writeInfo(
        new DaemonInfo(
            ProcessHandle.current().pid(),
            apiUrl + api.port(),
            started.toString(),
            certificate == null ? null : certificate.fingerprint()));
    store.emit(
        new NewEvent(
            clock.instant(),
            "DaemonStarted",
            "",
            "",
            "daemon started",
            Map.of(
                "pid", Long.toString(ProcessHandle.current().pid()),
                "startup_ms",
                    Long.toString(Duration.between(started, clock.instant()).toMillis()))));
    reportDamagedStore(telemetry.db().openReport());
    verifyEventChain();
    log.info("daemon started: pid {}, API {}{}", ProcessHandle.current().pid(), apiUrl, api.port());
    if (certificate != null) {
      log.info(
          "API certificate {} SHA-256 fingerprint {}",
          certificate.certFile(),
          certificate.fingerprint());
    }
  }

  /**
   * The API's certificate when it speaks HTTPS; refuses an address beyond loopback without TLS, as
   * tokens would cross the network in clear.
   */
  private dev.pilothouse.security.ApiCertificate certificate() {
    Tls tls = options.tls();
    if (tls == null) {
      if (!loopback(options.apiHost())) {
        throw new StartException(
            2,
            "the API would listen on "
                + options.apiHost()
                + " without TLS, and tokens would cross the network in clear: add --tls (a"
                + " self-signed certificate) or --tls-cert FILE --tls-key FILE",
            null);
      }
      return null;
    }
    try {
      return tls.cert() == null
          ? dev.pilothouse.security.ApiCertificate.selfSigned(
              dir.resolve("tls"), options.apiHost(), clock.instant())
          : dev.pilothouse.security.ApiCertificate.fromFiles(tls.cert(), tls.key());
    } catch (dev.pilothouse.security.ApiCertificate.CertificateException e) {
      throw new StartException(2, e.getMessage(), e);
    }
  }

  /** The vulnerability scanner over STATE_DIR/osv, for the host under PILOTHOUSE_AUDIT_ROOT. */
  dev.pilothouse.security.Scanner scanner() {
    return new dev.pilothouse.security.Scanner(dir.resolve("osv"), HostAuditApi.root());
  }

  private static boolean loopback(String host) {
    try {
      return java.net.InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private Javalin listen(Api a, dev.pilothouse.ui.Dashboard dashboard) {
    try {
      return a.start(options.apiHost(), options.apiPort(), certificate, dashboard::routes);
    } catch (RuntimeException e) {
      if (!isBindFailure(e)) {
        throw e;
      }
      if (options.apiPortExplicit()) {
        throw new StartException(
            4, "API port " + options.apiPort() + " on " + options.apiHost() + " is in use", e);
      }
      log.warn("API port {} is in use; listening on a free port instead", options.apiPort());
      return a.start(options.apiHost(), 0, certificate, dashboard::routes);
    }
  }

  private static boolean isBindFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BindException || String.valueOf(t.getMessage()).contains("Failed to bind")) {
        return true;
      }
    }
    return false;
  }

  private String existingPid() {
    return dev.pilothouse.client.PilotClient.info(dir.path())
        .map(i -> " (pid " + i.pid() + ")")
        .orElse("");
  }

  private void tick() {
    try {
      controller.tick();
      rollouts.tick();
      deployments.tick();
      flags.sync(deployments.current().flags(), deployments::revision);
      flagRollouts.tick();
      traffic.sync(deployments.current().withVariants(), controller.onThisMachine());
      traffic.syncClusters(deployments.current(), controller.clusterDataPlanes());
      configureNotifications(deployments.current().notifications());
    } catch (RuntimeException e) {
      log.error("reconcile tick failed", e);
    }
  }

  /** An instant PromQL query against the built-in store (experiments read their results so). */
  private List<dev.pilothouse.experiment.MetricsQuery.Sample> queryAt(
      String expression, java.time.Instant at) {
    return metricsSource.query(expression, at).stream()
        .map(x -> new dev.pilothouse.experiment.MetricsQuery.Sample(x.labels(), x.value()))
        .toList();
  }

  private void configureTelemetry() {
    try {
      telemetry.configure(deployments.current().withVariants(), controller.onThisMachine());
    } catch (RuntimeException e) {
      log.error("configuring the scrape targets failed", e);
    }
  }

  private void configureNotifications(dev.pilothouse.core.spec.NotificationsSpec n) {
    if (n == notifying || n.equals(notifying)) {
      return;
    }
    notifying = n;
    java.util.List<dev.pilothouse.core.event.Notifier> list = new java.util.ArrayList<>();
    n.webhooks()
        .forEach(u -> list.add(dev.pilothouse.notify.Receivers.webhook(java.net.URI.create(u))));
    n.slack().forEach(u -> list.add(dev.pilothouse.notify.Receivers.slack(java.net.URI.create(u))));
    if (!n.smtp().isEmpty()) {
      String[] hp = n.smtp().split(":");
      list.add(
          dev.pilothouse.notify.Receivers.email(hp[0], Integer.parseInt(hp[1]), n.from(), n.to()));
    }
    notifications.configure(list, java.util.Set.copyOf(n.events()));
  }

  private void writeInfo(DaemonInfo info) throws IOException {
    Path tmp = dir.resolve("daemon.json.tmp");
    try {
      Files.writeString(tmp, Api.JSON.writeValueAsString(info));
    } catch (JsonProcessingException e) {
      throw new IOException("serializing daemon.json", e);
    }
    Files.move(
        tmp,
        DaemonInfo.file(dir.path()),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Stops the daemon. With stopInstances every instance is stopped gracefully first (the {@code
   * down} command); otherwise instances keep running and the next daemon re-adopts them.
   */
  public synchronized void stop(boolean stopInstances) {
    if (stopping) {
      return;
    }
    stopping = true;
    if (chaos != null) {
      // Runs under way are aborted and rolled back; the load balancer, which keeps serving its
      // last table after this daemon, gets one without their faults now (not at the next tick,
      // which may never come).
      chaos.close();
      try {
        traffic.sync(deployments.current().withVariants(), controller.onThisMachine());
      } catch (RuntimeException e) {
        log.warn("could not push the load balancer a table without chaos faults: {}", e.toString());
      }
    }
    if (stopInstances && controller != null) {
      controller.stopAll();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(70);
      while (!controller.idle() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      stopLoop(); // no tick may start the load balancer again once it is stopped
      traffic.stop();
      store.emit(
          new NewEvent(
              clock.instant(),
              "DaemonStopped",
              "",
              "",
              "daemon stopped with all instances",
              Map.of()));
    }
    checkpointAudit(); // the last events signed before the store closes
    closeQuietly();
    stopped.countDown();
  }

  /**
   * Stops acting at once, touching the store no more (a leader that lost its lease: the database
   * refuses its writes, and may not answer at all): loops, API, load balancer connection and
   * metrics stop here; instances and the load balancer run on, and the next leader adopts them,
   * rolls back any chaos faults left, and signs the audit checkpoints. The store's connection is
   * closed in the background, so a call waiting on a lost database holds nothing up.
   */
  public void abandon() {
    if (stopping) {
      return;
    }
    stopping = true;
    unpublish();
    stopLoop(false); // a tick waiting on the lost database is left to fail by itself
    for (AutoCloseable c :
        new AutoCloseable[] {
          api == null ? null : api::stop,
          traffic,
          notifications,
          backups,
          checks,
          telemetry,
          probeExecutor == null ? null : probeExecutor::shutdownNow
        }) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        log.warn("stepping down: {}", e.toString());
      }
    }
    SqliteStore s = store;
    if (s != null) {
      Thread.ofPlatform().daemon().name("store-close").start(s::close);
    }
    releaseLock();
    stopped.countDown();
  }

  /** Only the lock holder owns daemon.json; a refused second daemon must leave it alone. */
  private void unpublish() {
    if (lock != null) {
      try {
        Files.deleteIfExists(DaemonInfo.file(dir.path()));
      } catch (IOException e) {
        log.warn("could not remove daemon.json: {}", e.toString());
      }
    }
  }

  private void releaseLock() {
    if (lock != null) {
      try {
        lock.release();
        lock.channel().close();
      } catch (IOException e) {
        log.warn("releasing the lock: {}", e.toString());
      }
    }
  }

  private void checkpointAudit() {
    if (audit == null) {
      return;
    }
    try {
      audit.checkpoint();
    } catch (IOException | RuntimeException e) {
      log.warn("signing an audit checkpoint failed: {}", e.toString());
    }
  }

  /** Blocks until the daemon has stopped. */
  public void awaitStop() throws InterruptedException {
    stopped.await();
  }

  private void stopLoop() {
    stopLoop(true);
  }

  /** Stops every loop; with await, waits for each tick under way (up to 5 s each). */
  private void stopLoop(boolean await) {
    for (ScheduledExecutorService e :
        new ScheduledExecutorService[] {
          loop,
          experimentLoop,
          ruleLoop,
          anomalyLoop,
          incidentLoop,
          scaleLoop,
          chaosLoop,
          healLoop,
          backupLoop,
          auditLoop
        }) {
      if (e != null) {
        e.shutdownNow();
        if (!await) {
          continue;
        }
        try {
          e.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private void tickRules() {
    try {
      rules.tick();
      router.tick();
      forwarder.tick();
      if (++routerTicks % 600 == 0) {
        router.maintain();
      }
    } catch (RuntimeException e) {
      log.error("rules tick failed", e);
    }
  }

  private long routerTicks;

  private void tickIncidents() {
    try {
      incidents.tick();
    } catch (RuntimeException e) {
      log.error("incidents tick failed", e);
    }
  }

  private void tickRemediation() {
    try {
      remediator.tick();
    } catch (RuntimeException e) {
      log.error("remediation tick failed", e);
    }
  }

  /** Whether a rollout of the service is under way (the autoscaler and chaos both hold back). */
  private boolean rolloutRunning(String service) {
    return store.rollouts().stream()
        .anyMatch(r -> r.service().equals(service) && !r.phase().done());
  }

  private void tickChaos() {
    try {
      chaos.tick();
    } catch (RuntimeException e) {
      log.error("chaos tick failed", e);
    }
  }

  private void tickScaling() {
    try {
      autoscaler.tick();
    } catch (RuntimeException e) {
      log.error("autoscaler tick failed", e);
    }
  }

  private void tickAnomalies() {
    try {
      anomalies.tick();
    } catch (RuntimeException e) {
      log.error("anomaly detection tick failed", e);
    }
  }

  private void tickExperiments() {
    try {
      experiments.tick();
    } catch (RuntimeException e) {
      log.error("experiments tick failed", e);
    }
  }

  private void closeQuietly() {
    unpublish();
    if (chaos != null) {
      chaos.close(); // a run under way is aborted and its faults rolled back
    }
    stopLoop();
    if (api != null) {
      api.stop();
    }
    if (traffic != null) {
      traffic.close();
    }
    if (controller != null) {
      controller.close(); // a cluster connection; its workloads keep running
    }
    if (notifications != null) {
      notifications.close();
    }
    if (backups != null) {
      backups.close();
    }
    if (checks != null) {
      checks.close();
    }
    if (telemetry != null) {
      telemetry.close();
    }
    if (probeExecutor != null) {
      probeExecutor.shutdownNow();
    }
    if (store != null) {
      store.close();
    }
    releaseLock();
  }
}
