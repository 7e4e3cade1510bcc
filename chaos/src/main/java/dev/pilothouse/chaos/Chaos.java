package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosRepository;
import dev.pilothouse.core.chaos.ChaosRun;
import dev.pilothouse.core.chaos.RouteFaults;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.Spec;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chaos experiments: starts runs (each on a thread of its own), aborts them, keeps them in the
 * store after every step, and at start-up rolls back what a killed daemon left injected. It meets
 * the rest of the daemon through core's ports: the load balancer through {@link RouteFaults}, the
 * instances through their status and signals, the metrics store through {@link Metrics}, and the
 * event log.
 */
public final class Chaos implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Chaos.class);
  private static final DateTimeFormatter ID =
      DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

  /** Runs under way at once, at most. */
  public static final int MAX_RUNNING = 4;

  /** Runs kept; older ones are forgotten. */
  public static final int MAX_KEPT = 500;

  /**
   * What chaos needs from the daemon.
   *
   * @param java the command that starts a JVM with this daemon's class path (stressors)
   * @param owner the daemon's state directory, named on its stressors' command lines; may be empty
   * @param rolloutRunning whether a rollout of a service is under way (the leash)
   * @param reader reads a game day's experiment file
   * @param clockDir where the offset files of instances started with libfaketime live ({@link
   *     ClockRuntime})
   */
  public record Options(
      Supplier<Spec> spec,
      Supplier<List<ServiceStatus>> status,
      Metrics metrics,
      RouteFaults routes,
      ChaosRepository repository,
      EventLog events,
      InstantSource clock,
      List<String> java,
      String owner,
      java.util.function.Predicate<String> rolloutRunning,
      ExperimentReader reader,
      java.nio.file.Path clockDir) {}

  private final Options o;
  private final Injector injector;
  private final Probes probes;
  private final Map<String, Runner> running = new ConcurrentHashMap<>();
  private final Automation automation;

  public Chaos(Options o) {
    this.o = o;
    this.automation = new Automation(this, o);
    this.injector = new Injector(o.routes(), o.java(), o.owner(), o.clock(), o.clockDir());
    this.probes = new Probes(o.metrics(), o.status(), o.clock());
  }

  /** The command that starts a JVM on this process's class path. */
  public static List<String> thisJava() {
    return List.of(
        ProcessHandle.current().info().command().orElse("java"),
        "-cp",
        System.getProperty("java.class.path"));
  }

  /**
   * Starts a run of an experiment (a dry run shows what it would hit, injecting nothing).
   *
   * @throws ChaosException when the service is not declared, or another run is under way on it
   */
  public ChaosRun start(ChaosExperiment e, String file, String source, boolean dryRun)
      throws ChaosException {
    String service = e.target().service();
    Optional<ChaosRepository.Halt> halt = o.repository().chaosHalt();
    if (halt.isPresent()) {
      throw new ChaosException(
          "chaos is disabled since " + halt.get().at() + " (" + halt.get().reason() + ")",
          "'pilothouse chaos enable' lifts the kill switch");
    }
    if (!o.spec().get().chaos().enabled()) {
      throw new ChaosException(
          "chaos is disabled by the spec (chaos.enabled: false)",
          "enable it in the spec and apply");
    }
    if (o.spec().get().service(service).isEmpty()) {
      throw new ChaosException(
          "target.service: no service '" + service + "' in the applied spec",
          "name a declared service ('pilothouse status' lists them)");
    }
    for (var f : e.faults()) {
      if (f instanceof ChaosExperiment.Fault.Partition p) {
        for (String caller : p.from()) {
          if (o.spec().get().service(caller).isEmpty()) {
            throw new ChaosException(
                "partition.from: no service '" + caller + "' in the applied spec",
                "name declared services whose calls to " + service + " are cut off");
          }
        }
      }
    }
    synchronized (running) {
      for (Runner r : running.values()) {
        if (r.service().equals(service)) {
          throw new ChaosException(
              "run " + r.id() + " is under way on " + service,
              "wait for it or stop it with 'pilothouse chaos abort " + r.id() + "'");
        }
      }
      if (running.size() >= MAX_RUNNING) {
        throw new ChaosException(
            MAX_RUNNING + " runs are under way", "wait for one to end (docs/limits.md)");
      }
      String id =
          ID.format(o.clock().instant())
              + "-"
              + Integer.toHexString(0x1000 + ThreadLocalRandom.current().nextInt(0xf000));
      List<dev.pilothouse.core.event.Event> last = o.events().latest(1);
      ChaosRun run =
          new ChaosRun(
              id,
              e.name(),
              file,
              source,
              service,
              dryRun,
              ChaosRun.State.CHECKING,
              o.clock().instant(),
              null,
              null,
              last.isEmpty() ? 0 : last.get(0).seq(),
              List.of(),
              List.of(),
              List.of(),
              null);
      o.repository().saveChaosRun(run);
      prune();
      Runner r = new Runner(run, e, o, injector, probes, () -> running.remove(id));
      running.put(id, r);
      Thread.ofPlatform().name("chaos-" + id).daemon().start(r);
      return run;
    }
  }

  /** Asks a run to stop; its rollbacks run at once. */
  public ChaosRun abort(String id) throws ChaosException {
    Runner r = running.get(id);
    if (r == null) {
      ChaosRun run =
          o.repository()
              .chaosRun(id)
              .orElseThrow(
                  () -> new ChaosException("no chaos run " + id, "'pilothouse chaos list'"));
      throw new ChaosException(
          "run " + id + " is over (" + run.outcome().verdict() + ")", "nothing to abort");
    }
    r.abort();
    return o.repository().chaosRun(id).orElseThrow();
  }

  /** Every run kept, newest first. */
  public List<ChaosRun> runs() {
    return o.repository().chaosRuns();
  }

  public Optional<ChaosRun> run(String id) {
    return o.repository().chaosRun(id);
  }

  /** The report of a run in Markdown. */
  public static String markdown(ChaosRun r) {
    return Outcomes.markdown(r);
  }

  /**
   * Rolls back what runs a killed daemon left under way and closes them as aborted; call once at
   * start-up, before any run starts. Returns how many runs it closed.
   */
  public int recover() {
    int n = 0;
    for (ChaosRun run : o.repository().chaosRuns()) {
      if (run.state() == ChaosRun.State.DONE) {
        continue;
      }
      ChaosRun r = Runner.rollBack(run, injector, o);
      String reason =
          "the daemon stopped during the run ("
              + run.state().name().toLowerCase(java.util.Locale.ROOT)
              + "); the next daemon rolled its faults back";
      r = r.step(o.clock().instant(), reason);
      r = r.done(o.clock().instant(), Outcomes.ofSamples(r, reason, Runner.caused(r, o)));
      o.repository().saveChaosRun(r);
      o.events()
          .emit(
              new NewEvent(
                  o.clock().instant(),
                  "ChaosEnded",
                  run.service(),
                  "",
                  "chaos run " + run.id() + " (" + run.experiment() + ") aborted: " + reason,
                  Map.of("run", run.id(), "verdict", "aborted")));
      n++;
    }
    return n;
  }

  /** Live stressor processes per instance id: their CPU and memory count as the instance's. */
  public Map<String, List<Long>> stressors() {
    return injector.stressors();
  }

  /** Whether any fault of a run is still in place (a check for tests and reports). */
  public static boolean leftovers(ChaosRun r) {
    return r.applied().stream().anyMatch(Injector::leftover);
  }

  private void prune() {
    o.repository().pruneChaosRuns(MAX_KEPT);
  }

  /** Game days and the monkey: call every second or so. */
  public void tick() {
    automation.tick(o.spec().get().chaos(), o.clock().instant());
  }

  /**
   * The kill switch: aborts every run under way (waiting for their rollbacks), stops game days and
   * the monkey, refuses new runs — until {@link #enable()}, across restarts.
   */
  public void disable(String reason) {
    ChaosRepository.Halt h = new ChaosRepository.Halt(o.clock().instant(), reason);
    o.repository().saveChaosHalt(h);
    abortAll("chaos was disabled: " + reason);
    o.events()
        .emit(
            new NewEvent(
                h.at(),
                "ChaosDisabled",
                "",
                "",
                "chaos disabled: " + reason,
                Map.of("reason", reason)));
  }

  /** Lifts the kill switch. */
  public void enable() {
    if (o.repository().chaosHalt().isEmpty()) {
      return;
    }
    o.repository().saveChaosHalt(null);
    o.events()
        .emit(new NewEvent(o.clock().instant(), "ChaosEnabled", "", "", "chaos enabled", Map.of()));
  }

  /**
   * What chaos may do now.
   *
   * @param halt the kill switch, when on
   * @param allowedNow whether automatic chaos is within its allowed hours now
   * @param running the ids of the runs under way
   */
  public record Status(
      ChaosRepository.Halt halt,
      boolean specEnabled,
      boolean allowedNow,
      dev.pilothouse.core.spec.ChaosSpec.AllowedHours allowedHours,
      double minErrorBudget,
      List<GameDayStatus> gameDays,
      List<MonkeyStatus> monkey,
      List<String> running) {}

  /** A game day and when it runs next. */
  public record GameDayStatus(String experiment, String schedule, String next) {}

  /** An opted-in service and the monkey's last kill there (null for none since the start). */
  public record MonkeyStatus(
      String service, long meanTimeBetweenKillsSeconds, int maxConcurrent, String lastKill) {}

  public Status status() {
    dev.pilothouse.core.spec.ChaosSpec cs = o.spec().get().chaos();
    java.time.Instant now = o.clock().instant();
    return new Status(
        o.repository().chaosHalt().orElse(null),
        cs.enabled(),
        cs.allowedHours().allows(now),
        cs.allowedHours(),
        cs.minErrorBudget(),
        cs.gameDays().stream()
            .map(
                g ->
                    new GameDayStatus(
                        g.experiment(),
                        g.schedule(),
                        Automation.next(g.schedule(), cs.allowedHours().timezone(), now)
                            .map(t -> t.toOffsetDateTime().toString())
                            .orElse(null)))
            .toList(),
        cs.monkey().stream()
            .map(
                m ->
                    new MonkeyStatus(
                        m.service(),
                        m.meanTimeBetweenKills().toSeconds(),
                        m.maxConcurrent(),
                        automation.lastKill(m.service()).map(Object::toString).orElse(null)))
            .toList(),
        List.copyOf(running.keySet()));
  }

  private void abortAll(String why) {
    for (Runner r : List.copyOf(running.values())) {
      r.abort(why);
      r.awaitEnd(java.time.Duration.ofSeconds(20));
    }
  }

  /** Aborts every run under way and waits for their rollbacks (a graceful daemon stop). */
  @Override
  public void close() {
    abortAll("the daemon is stopping");
    log.debug("chaos closed");
  }
}
