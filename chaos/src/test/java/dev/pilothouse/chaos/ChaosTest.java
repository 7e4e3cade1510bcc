package dev.pilothouse.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import dev.pilothouse.core.chaos.ChaosRepository;
import dev.pilothouse.core.chaos.ChaosRun;
import dev.pilothouse.core.chaos.RouteFaults;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.ChaosSpec;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs experiments against real processes (the instances are {@code sleep} processes in their own
 * process groups), with the load balancer and metrics store as recording fakes: steady state,
 * injection, abort conditions, rollbacks, and a second Chaos over the same store finishing what a
 * "killed" first one left.
 */
@Timeout(90)
class ChaosTest {
  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();
  private final List<String> routeCalls = new CopyOnWriteArrayList<>();
  private final AtomicReference<Double> metric = new AtomicReference<>(0.0);
  private final Events events = new Events();
  private final ChaosRepository repo = ChaosRepository.inMemory();

  @AfterEach
  void cleanUp() {
    started.forEach(Process::destroyForcibly);
  }

  /** A process in its own session (its own process group), as the runtime starts instances. */
  private Process instance() throws IOException {
    Process p = new ProcessBuilder("setsid", "sleep", "300").start();
    started.add(p);
    await().until(() -> Procs.startTicks(p.pid()).isPresent());
    // setsid forks when it is a group leader already; the process is then sleep's parent's child
    return p;
  }

  private final AtomicReference<ChaosSpec> chaosSpec = new AtomicReference<>(ChaosSpec.none());
  private final AtomicReference<Duration> ahead = new AtomicReference<>(Duration.ZERO);
  private final java.util.concurrent.atomic.AtomicBoolean rollout =
      new java.util.concurrent.atomic.AtomicBoolean();
  private final java.time.InstantSource clock = () -> Instant.now().plus(ahead.get());

  /** An experiment file every game day here reads: pause one instance for a second. */
  private static final ExperimentReader READER =
      (file, text) ->
          new ChaosExperiment(
              "game-day",
              "",
              new ChaosExperiment.Target("shop", 1, 0, ""),
              List.of(new Fault.Pause()),
              List.of(),
              Duration.ofSeconds(1),
              Duration.ofMillis(100),
              Duration.ofSeconds(5),
              ChaosExperiment.Abort.NEVER,
              List.of());

  private Chaos chaos(List<InstanceStatus> instances) {
    ServiceSpec svc =
        new ServiceSpec(
            "shop",
            "./s",
            List.of(),
            Map.of(),
            dir.toString(),
            "v1",
            instances.size(),
            null,
            dev.pilothouse.core.spec.Probe.http("/r"),
            RestartPolicy.defaults(),
            StopPolicy.defaults(),
            Resources.none(),
            null);
    return new Chaos(
        new Chaos.Options(
            () ->
                new Spec(
                    dev.pilothouse.core.spec.ProxySpec.defaults(),
                    List.of(svc),
                    dev.pilothouse.core.spec.NotificationsSpec.none(),
                    dev.pilothouse.core.spec.MetricsSpec.defaults(),
                    List.of(),
                    List.of(),
                    dev.pilothouse.core.spec.AlertingSpec.none(),
                    dev.pilothouse.core.spec.BackupSpec.none(),
                    dev.pilothouse.core.spec.SecretsSpec.none(),
                    dev.pilothouse.core.spec.CostSpec.none(),
                    chaosSpec.get()),
            () ->
                List.of(
                    new ServiceStatus(
                        "shop", "v1", "running", instances.size(), instances.size(), 1, instances)),
            q -> metric.get(),
            new RouteFaults() {
              @Override
              public void routeFault(String service, Fault f) {
                routeCalls.add(
                    "fault "
                        + service
                        + " "
                        + f.abortStatus()
                        + "@"
                        + f.abortPercent()
                        + (f.callers().isEmpty() ? "" : " from " + f.callers())
                        + (f.silent() ? " silent" : ""));
              }

              @Override
              public void clearRouteFault(String service) {
                routeCalls.add("clear " + service);
              }

              @Override
              public void redirect(String instanceId, int port) {
                routeCalls.add("redirect " + instanceId);
              }

              @Override
              public void clearRedirect(String instanceId) {
                routeCalls.add("unredirect " + instanceId);
              }
            },
            repo,
            events,
            clock,
            Chaos.thisJava(),
            dir.toString(),
            service -> rollout.get(),
            READER,
            dir.resolve("clock")));
  }

  private static InstanceStatus status(String id, long pid) {
    return new InstanceStatus(id, "shop", 0, pid, 1, "running", true, Instant.now(), 0, "t", "v1");
  }

  private static Probe errors(Set<Phase> phases) {
    return new Probe("errors", Probe.Kind.PROMQL, "x", null, 0.0, 1, phases, Duration.ofSeconds(1));
  }

  private static ChaosExperiment experiment(
      List<Fault> faults, List<Probe> probes, Duration duration, ChaosExperiment.Abort abort) {
    return new ChaosExperiment(
        "t",
        "",
        new ChaosExperiment.Target("shop", 1, 0, ""),
        faults,
        probes,
        duration,
        Duration.ofMillis(100),
        Duration.ofSeconds(5),
        abort,
        List.of());
  }

  private ChaosRun finished(Chaos c, String id) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> c.run(id).orElseThrow().state() == ChaosRun.State.DONE);
    return c.run(id).orElseThrow();
  }

  private static char state(long pid) throws IOException {
    String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
    return s.charAt(s.lastIndexOf(')') + 2);
  }

  @Test
  void aPause_stopsTheInstanceForTheDuration_andTheRollbackLetsItGoOn() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosRun run =
        c.start(
            experiment(
                List.of(new Fault.Pause(), new Fault.DiskFill(1 << 20, "data")),
                List.of(errors(Set.of(Phase.values()))),
                Duration.ofSeconds(2),
                ChaosExperiment.Abort.NEVER),
            "x.yaml",
            "",
            false);
    await().until(() -> state(p.pid()) == 'T');
    Path fill = Path.of(c.run(run.id()).orElseThrow().applied().get(1).path());
    assertThat(fill).startsWith(dir.resolve("data")).hasSize(1 << 20);
    ChaosRun done = finished(c, run.id());
    assertThat(state(p.pid())).isNotEqualTo('T');
    assertThat(fill).doesNotExist();
    assertThat(Chaos.leftovers(done)).isFalse();
    assertThat(done.outcome().verdict()).isEqualTo("passed");
    assertThat(done.outcome().score()).isEqualTo(100.0);
    assertThat(done.applied()).allMatch(ChaosRun.Applied::rolledBack);
    assertThat(events.types()).contains("ChaosStarted", "ChaosFaultInjected", "ChaosEnded");
  }

  @Test
  void aSteadyStateThatDoesNotHold_injectsNothing() throws Exception {
    Process p = instance();
    metric.set(5.0);
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosRun done =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(new Fault.Kill(false)),
                        List.of(errors(Set.of(Phase.values()))),
                        Duration.ofSeconds(1),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false)
                .id());
    assertThat(done.outcome().verdict()).isEqualTo("not-run");
    assertThat(done.outcome().reason()).contains("errors = 5, tolerance <= 0");
    assertThat(done.applied()).isEmpty();
    assertThat(p.isAlive()).isTrue();
  }

  @Test
  void aProbeOutOfTolerance_abortsTheRun_andTheRouteFaultIsRemoved() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosRun run =
        c.start(
            experiment(
                List.of(new Fault.Http(Duration.ZERO, 0, 503, 50, "")),
                List.of(errors(Set.of(Phase.values()))),
                Duration.ofSeconds(20),
                new ChaosExperiment.Abort(List.of("errors"), 2)),
            "x.yaml",
            "",
            false);
    await().until(() -> routeCalls.contains("fault shop 503@50"));
    metric.set(0.3); // the errors the fault causes
    ChaosRun done = finished(c, run.id());
    assertThat(done.outcome().verdict()).isEqualTo("aborted");
    assertThat(done.outcome().reason()).contains("errors went out of tolerance (0.3");
    assertThat(routeCalls).containsSubsequence("fault shop 503@50", "clear shop");
    assertThat(Duration.between(done.startedAt(), done.endedAt()))
        .isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void recoveryTime_runsFromTheFaultToTheSteadyStateBack_andTheScoreWeighsEvaluations()
      throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosRun run =
        c.start(
            experiment(
                List.of(new Fault.Kill(false)),
                List.of(errors(Set.of(Phase.values()))),
                Duration.ofSeconds(2),
                ChaosExperiment.Abort.NEVER),
            "x.yaml",
            "",
            false);
    await().until(() -> !p.isAlive());
    Instant killed = Instant.now();
    metric.set(1.0);
    Thread.sleep(800);
    metric.set(0.0);
    ChaosRun done = finished(c, run.id());
    assertThat(done.outcome().verdict()).isEqualTo("passed");
    double recovery = done.outcome().recoverySeconds();
    assertThat(recovery).isBetween(0.7, 2.0);
    ChaosRun.ProbeResult r = done.outcome().probes().get(0);
    assertThat(r.passed()).isLessThan(r.evaluations());
    assertThat(done.outcome().score())
        .isEqualTo(Math.round(1000.0 * r.passed() / r.evaluations()) / 10.0);
    assertThat(killed).isAfter(done.injectedAt());
  }

  @Test
  void aManualAbort_rollsBackAtOnce_andASecondRunOnTheServiceIsRefusedMeanwhile() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosExperiment e =
        experiment(
            List.of(new Fault.Pause()),
            List.of(),
            Duration.ofMinutes(5),
            ChaosExperiment.Abort.NEVER);
    ChaosRun run = c.start(e, "x.yaml", "", false);
    await().until(() -> state(p.pid()) == 'T');
    assertThatThrownBy(() -> c.start(e, "x.yaml", "", false))
        .isInstanceOf(ChaosException.class)
        .hasMessageContaining("is under way on shop");
    c.abort(run.id());
    ChaosRun done = finished(c, run.id());
    assertThat(done.outcome().verdict()).isEqualTo("aborted");
    assertThat(state(p.pid())).isNotEqualTo('T');
    assertThatThrownBy(() -> c.abort(run.id())).hasMessageContaining("is over");
  }

  @Test
  void whatAKilledDaemonLeft_isRolledBackByTheNext() throws Exception {
    Process p = instance();
    List<InstanceStatus> instances = List.of(status("shop-1", p.pid()));
    Chaos first = chaos(instances);
    ChaosRun run =
        first.start(
            experiment(
                List.of(new Fault.Pause(), new Fault.Cpu(1), new Fault.DiskFill(1 << 20, ".")),
                List.of(),
                Duration.ofMinutes(5),
                ChaosExperiment.Abort.NEVER),
            "x.yaml",
            "",
            false);
    await()
        .until(
            () ->
                repo.chaosRun(run.id()).orElseThrow().applied().size() == 3
                    && !repo.chaosRun(run.id()).orElseThrow().timeline().isEmpty()
                    && repo.chaosRun(run.id())
                        .orElseThrow()
                        .timeline()
                        .getLast()
                        .what()
                        .startsWith("injected disk"));
    ChaosRun left = repo.chaosRun(run.id()).orElseThrow();
    long stressor = left.applied().get(1).pid();
    assertThat(Procs.alive(stressor, left.applied().get(1).startTicks())).isTrue();
    assertThat(Chaos.leftovers(left)).isTrue();
    // The first daemon "dies": its runner thread is gone with it (here: it is simply forgotten,
    // and a second Chaos over the same store starts).
    Chaos next = chaos(instances);
    assertThat(next.recover()).isEqualTo(1);
    ChaosRun done = repo.chaosRun(run.id()).orElseThrow();
    assertThat(done.state()).isEqualTo(ChaosRun.State.DONE);
    assertThat(done.outcome().verdict()).isEqualTo("aborted");
    assertThat(done.outcome().reason()).contains("the next daemon rolled its faults back");
    assertThat(Chaos.leftovers(done)).isFalse();
    assertThat(state(p.pid())).isNotEqualTo('T');
    await().until(() -> !Procs.alive(stressor, left.applied().get(1).startTicks()));
    assertThat(Path.of(done.applied().get(2).path())).doesNotExist();
    first.abort(run.id()); // the old runner stops too (in a real crash it is gone)
  }

  @Test
  void aDryRun_namesWhatItWouldHit_andInjectsNothing() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosRun done =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(
                            new Fault.Kill(false),
                            new Fault.Http(Duration.ofMillis(300), 100, 503, 0, "")),
                        List.of(errors(Set.of(Phase.values()))),
                        Duration.ofSeconds(1),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    true)
                .id());
    assertThat(done.outcome().verdict()).isEqualTo("dry-run");
    assertThat(done.timeline().stream().map(ChaosRun.Step::what))
        .anyMatch(s -> s.equals("would inject kill (SIGKILL) into shop-1"))
        .anyMatch(s -> s.startsWith("would inject http (300 ms delay on 100%) on route shop"));
    assertThat(done.applied()).isEmpty();
    assertThat(routeCalls).isEmpty();
    assertThat(p.isAlive()).isTrue();
  }

  private static final ChaosSpec.AllowedHours ALWAYS =
      new ChaosSpec.AllowedHours(
          java.util.EnumSet.allOf(java.time.DayOfWeek.class),
          java.time.LocalTime.MIDNIGHT,
          java.time.LocalTime.MIDNIGHT,
          "UTC");

  private static final ChaosSpec.AllowedHours NEVER =
      new ChaosSpec.AllowedHours(
          java.util.EnumSet.noneOf(java.time.DayOfWeek.class),
          java.time.LocalTime.MIDNIGHT,
          java.time.LocalTime.MIDNIGHT,
          "UTC");

  private ChaosSpec gameDays(ChaosSpec.AllowedHours hours) throws IOException {
    Path f = dir.resolve("game-day.yaml");
    Files.writeString(f, "read by READER");
    return new ChaosSpec(
        true, hours, 0.25, List.of(new ChaosSpec.GameDay(f.toString(), "* * * * *")), List.of());
  }

  /** Ticks once, moves the clock past the next minute, ticks again. */
  private void aMinuteLater(Chaos c) {
    c.tick();
    ahead.set(ahead.get().plusSeconds(61));
    c.tick();
  }

  private List<String> skips() {
    return events.all.stream()
        .filter(e -> e.type().equals("ChaosSkipped"))
        .map(Event::message)
        .toList();
  }

  @Test
  void aGameDay_runsOnItsSchedule_onlyOnItsLeash() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    chaosSpec.set(gameDays(NEVER));
    aMinuteLater(c);
    assertThat(c.runs()).isEmpty();
    assertThat(skips()).containsExactly("game day game-day skipped: outside the allowed hours");

    chaosSpec.set(gameDays(ALWAYS));
    rollout.set(true);
    aMinuteLater(c);
    assertThat(c.runs()).isEmpty();
    assertThat(skips().getLast()).contains("a rollout of shop is under way");

    rollout.set(false);
    metric.set(0.1); // the SLO's error budget left, under 0.25
    aMinuteLater(c);
    assertThat(c.runs()).isEmpty();
    assertThat(skips().getLast()).contains("has 10 % of its error budget left");

    metric.set(0.9);
    aMinuteLater(c);
    assertThat(c.runs()).hasSize(1);
    ChaosRun done = finished(c, c.runs().get(0).id());
    assertThat(done.experiment()).isEqualTo("game-day");
    assertThat(done.applied()).extracting(ChaosRun.Applied::kind).containsExactly("pause");
    assertThat(c.status().gameDays().get(0).next()).isNotNull();
  }

  @Test
  void theMonkey_killsNowAndThen_butNeverTheLastReadyInstance() throws Exception {
    Process a = instance();
    Process b = instance();
    metric.set(Double.NaN); // no SLO: the error budget does not hold the monkey back
    ChaosSpec.Monkey m = new ChaosSpec.Monkey("shop", Duration.ofSeconds(1), 1, false);
    chaosSpec.set(new ChaosSpec(true, ALWAYS, 0.25, List.of(), List.of(m)));
    Chaos c = chaos(List.of(status("shop-1", a.pid()), status("shop-2", b.pid())));
    aMinuteLater(c); // sixty mean times between kills: a kill is all but certain (1 - e^-61)
    await().until(() -> !a.isAlive() || !b.isAlive());
    assertThat(a.isAlive() && b.isAlive()).isFalse();
    assertThat(events.types()).contains("ChaosMonkeyKill");
    assertThat(c.status().monkey().get(0).lastKill()).isNotNull();

    Process only = instance();
    Chaos one = chaos(List.of(status("shop-3", only.pid())));
    aMinuteLater(one);
    assertThat(only.isAlive()).isTrue();
    assertThat(skips().getLast()).contains("it has 1 ready instance(s)");
  }

  @Test
  void theKillSwitch_abortsWhatRuns_refusesNewRuns_andHoldsUntilLifted() throws Exception {
    Process p = instance();
    Chaos c = chaos(List.of(status("shop-1", p.pid())));
    ChaosExperiment e =
        experiment(
            List.of(new Fault.Pause()),
            List.of(),
            Duration.ofMinutes(5),
            ChaosExperiment.Abort.NEVER);
    ChaosRun run = c.start(e, "x.yaml", "", false);
    await().until(() -> state(p.pid()) == 'T');
    c.disable("game over");
    assertThat(c.run(run.id()).orElseThrow().outcome().verdict()).isEqualTo("aborted");
    assertThat(state(p.pid())).isNotEqualTo('T');
    assertThatThrownBy(() -> c.start(e, "x.yaml", "", false))
        .isInstanceOf(ChaosException.class)
        .hasMessageContaining("chaos is disabled since")
        .hasMessageContaining("game over");
    // A new daemon over the same store still holds it.
    Chaos next = chaos(List.of(status("shop-1", p.pid())));
    assertThat(next.status().halt().reason()).isEqualTo("game over");
    next.enable();
    assertThat(next.status().halt()).isNull();
    ChaosRun again = next.start(e, "x.yaml", "", false);
    next.abort(again.id());
    finished(next, again.id());
    assertThat(events.types()).contains("ChaosDisabled", "ChaosEnabled");
  }

  @Test
  void aPartition_cutsTheServiceOffFromEveryCaller_andIsLiftedAtTheEnd() throws Exception {
    Process a = instance();
    Process b = instance();
    Chaos c = chaos(List.of(status("shop-1", a.pid()), status("shop-2", b.pid())));
    ChaosRun reject =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(new Fault.Partition("reject", List.of())),
                        List.of(),
                        Duration.ofMillis(300),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false)
                .id());
    assertThat(routeCalls).containsExactly("fault shop 503@100", "clear shop");
    assertThat(reject.applied()).extracting(ChaosRun.Applied::kind).containsExactly("http");
    routeCalls.clear();
    ChaosRun blackhole =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(new Fault.Partition("blackhole", List.of())),
                        List.of(),
                        Duration.ofMillis(300),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false)
                .id());
    // Every instance, not just the target's one.
    assertThat(routeCalls)
        .containsExactlyInAnyOrder(
            "redirect shop-1", "redirect shop-2", "unredirect shop-1", "unredirect shop-2");
    assertThat(blackhole.applied()).allMatch(ChaosRun.Applied::rolledBack);
  }

  @Test
  void aPartitionFromNamedServices_isARouteFaultForTheirCallsOnly_andNamesOnlyDeclaredServices()
      throws Exception {
    Process a = instance();
    Chaos c = chaos(List.of(status("shop-1", a.pid())));
    ChaosRun run =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(new Fault.Partition("blackhole", List.of("shop"))),
                        List.of(),
                        Duration.ofMillis(300),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false)
                .id());
    // No proxy in front of the instances: the load balancer tells the callers apart.
    assertThat(routeCalls).containsExactly("fault shop 503@100 from [shop] silent", "clear shop");
    assertThat(run.applied()).extracting(ChaosRun.Applied::kind).containsExactly("http");
    assertThat(run.applied().get(0).detail()).contains("blackhole from shop");
    assertThatThrownBy(
            () ->
                c.start(
                    experiment(
                        List.of(new Fault.Partition("reject", List.of("checkout"))),
                        List.of(),
                        Duration.ofMillis(300),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false))
        .isInstanceOf(ChaosException.class)
        .hasMessageContaining("partition.from: no service 'checkout'");
  }

  @Test
  void aClockFault_writesTheOffsetForLibfaketime_andPutsItBackAtTheEnd() throws Exception {
    Process a = instance();
    Chaos c = chaos(List.of(status("shop-1", a.pid())));
    // shop-1 started under libfaketime: ClockRuntime wrote its offset file.
    Path file = dir.resolve("clock").resolve("shop-1");
    Files.createDirectories(file.getParent());
    ClockRuntime.write(file, Duration.ZERO);
    ChaosRun run =
        c.start(
            experiment(
                List.of(new Fault.Clock(Duration.ofMinutes(-10))),
                List.of(),
                Duration.ofSeconds(2),
                ChaosExperiment.Abort.NEVER),
            "x.yaml",
            "",
            false);
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(file).equals("-600\n"));
    ChaosRun done = finished(c, run.id());
    assertThat(Files.readString(file)).isEqualTo("+0\n");
    assertThat(done.applied())
        .singleElement()
        .satisfies(
            x -> {
              assertThat(x.detail()).isEqualTo("wall clock back by 600 s");
              assertThat(x.rolledBack()).isTrue();
              assertThat(Injector.leftover(x)).isFalse();
            });
    Files.delete(file); // as for an instance started without it
    ChaosRun refused =
        finished(
            c,
            c.start(
                    experiment(
                        List.of(new Fault.Clock(Duration.ofMinutes(10))),
                        List.of(),
                        Duration.ofMillis(300),
                        ChaosExperiment.Abort.NEVER),
                    "x.yaml",
                    "",
                    false)
                .id());
    assertThat(refused.outcome().reason()).contains("was not started with libfaketime");
  }

  /** The event log in memory. */
  static final class Events implements EventLog {
    final List<Event> all = new CopyOnWriteArrayList<>();

    List<String> types() {
      return all.stream().map(Event::type).toList();
    }

    @Override
    public synchronized void emit(NewEvent e) {
      all.add(
          new Event(
              all.size() + 1,
              e.at(),
              e.type(),
              e.service(),
              e.instance(),
              e.message(),
              e.fields(),
              "",
              ""));
    }

    @Override
    public List<Event> after(long after, int limit) {
      return all.stream().filter(e -> e.seq() > after).limit(limit).toList();
    }

    @Override
    public List<Event> latest(int limit) {
      return all.subList(Math.max(0, all.size() - limit), all.size());
    }

    @Override
    public AutoCloseable subscribe(Consumer<Event> listener) {
      return () -> {};
    }

    @Override
    public Verification verify() {
      return new Verification(all.size(), null);
    }
  }
}
