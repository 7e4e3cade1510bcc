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
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
            () -> new Spec(List.of(svc)),
            () ->
                List.of(
                    new ServiceStatus(
                        "shop", "v1", "running", instances.size(), instances.size(), 1, instances)),
            q -> metric.get(),
            new RouteFaults() {
              @Override
              public void routeFault(String service, Fault f) {
                routeCalls.add("fault " + service + " " + f.abortStatus() + "@" + f.abortPercent());
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
            Clock.systemUTC(),
            Chaos.thisJava(),
            dir.toString()));
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

  /** The event log in memory. */
  static final class Events implements EventLog {
    private final List<Event> all = new CopyOnWriteArrayList<>();

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
