package dev.pilothouse.core.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The runtime contract-test kit: what every runtime behind {@link Workloads} must do, the same way.
 * A runtime's test extends this class and says how to open the runtime (again, for a daemon
 * restart), how its instances are made to crash, and how the world around it moves on ({@link
 * #settle()}: nothing for real processes; the simulated control plane of a mock cluster).
 *
 * <p>The services it runs print {@code hello from VERSION} when they start and then wait; their
 * readiness is an exec check ({@code true}, or {@code false} for a service that never gets ready).
 */
public abstract class WorkloadsContract {
  /** Events the runtimes emitted, across every runtime a test opened. */
  protected final List<NewEvent> events = Collections.synchronizedList(new ArrayList<>());

  /** Where every runtime of a test emits events. */
  protected final EventSink sink = events::add;

  private Workloads workloads;

  /** A fresh runtime over the same place (the same store and process table, the same cluster). */
  protected abstract Workloads open();

  /** The logs of the runtime opened last. */
  protected abstract InstanceLogs logs();

  /** Kills one instance's process from outside: a crash. */
  protected abstract void crash(InstanceStatus instance);

  /** Lets the world move on between ticks; a simulated cluster runs its controllers here. */
  protected void settle() {}

  /** Stops whatever a test left running. */
  protected void cleanUp(Workloads w) {}

  @BeforeEach
  final void openRuntime() {
    workloads = open();
    workloads.recover();
  }

  @AfterEach
  final void closeRuntime() {
    cleanUp(workloads);
  }

  /** A service of the contract: prints its version, waits; ready when readiness runs true. */
  public static ServiceSpec service(String name, int replicas, String version, boolean readies) {
    return new ServiceSpec(
        name,
        "sh",
        List.of("-c", "echo \"hello from $VERSION\"; exec sleep 600"),
        Map.of("VERSION", version),
        "/tmp",
        version,
        replicas,
        null,
        new Probe(
            Probe.Kind.EXEC,
            "",
            0,
            List.of(readies ? "true" : "false"),
            Duration.ofMillis(500),
            Duration.ofSeconds(2),
            1,
            1,
            Duration.ZERO),
        new RestartPolicy(
            RestartPolicy.Mode.ALWAYS,
            Duration.ofMillis(100),
            Duration.ofSeconds(1),
            2.0,
            0,
            Duration.ofSeconds(60),
            5),
        new StopPolicy("TERM", Duration.ofSeconds(2), Duration.ofMillis(200)),
        Resources.none(),
        null,
        null,
        null,
        List.of(),
        null,
        List.of(),
        Map.of(),
        "registry.example/contract:" + version);
  }

  private static Spec spec(ServiceSpec... services) {
    return new Spec(List.of(services));
  }

  /** The service's instances as the runtime reports them now. */
  protected final List<InstanceStatus> instances(Workloads w, String service) {
    return w.status().stream()
        .filter(s -> s.name().equals(service))
        .flatMap(s -> s.instances().stream())
        .toList();
  }

  private List<InstanceStatus> instances(String service) {
    return instances(workloads, service);
  }

  /** Ticks (and lets the world move on) until the service's instances satisfy done. */
  protected final void converge(
      Workloads w, String service, Predicate<List<InstanceStatus>> done, String what) {
    await(what)
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              settle();
              w.tick();
              return done.test(instances(w, service));
            });
  }

  private void converge(String service, Predicate<List<InstanceStatus>> done, String what) {
    converge(workloads, service, done, what);
  }

  private static Predicate<List<InstanceStatus>> serving(int n, String version) {
    return l ->
        l.size() == n
            && l.stream().allMatch(i -> i.serving() && i.version().equals(version))
            && l.stream().allMatch(i -> i.slot() < InstanceController.CANARY_SLOT_BASE);
  }

  private static Set<String> ids(List<InstanceStatus> l) {
    return l.stream().map(InstanceStatus::id).collect(Collectors.toSet());
  }

  @Test
  void startsTheDeclaredInstancesAndReportsThemReady() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "2 ready instances of v1");
    assertThat(workloads.running("web")).isEqualTo(2);
    ServiceStatus web =
        workloads.status().stream().filter(s -> s.name().equals("web")).findFirst().orElseThrow();
    assertThat(web.desiredReplicas()).isEqualTo(2);
    assertThat(web.readyReplicas()).isEqualTo(2);
  }

  @Test
  void anInstanceIsNotReadyUntilItsReadinessCheckPasses() {
    workloads.apply(spec(service("slow", 1, "v1", false)));
    converge("slow", l -> l.size() == 1 && workloads.running("slow") == 1, "an instance that runs");
    for (int i = 0; i < 10; i++) {
      settle();
      workloads.tick();
    }
    assertThat(instances("slow"))
        .singleElement()
        .matches(i -> !i.ready() && i.state().equals("starting"), "starting, not ready");
  }

  @Test
  void stopsAServiceNoLongerDeclared() {
    workloads.apply(spec(service("web", 1, "v1", true), service("api", 1, "v1", true)));
    converge("web", serving(1, "v1"), "web ready");
    converge("api", serving(1, "v1"), "api ready");
    workloads.apply(spec(service("api", 1, "v1", true)));
    converge("web", List::isEmpty, "web gone");
    assertThat(instances("api")).hasSize(1);
    assertThat(workloads.running("web")).isZero();
  }

  @Test
  void replacesOneInstanceAndKeepsTheCount() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "2 ready instances");
    InstanceStatus first = instances("web").get(0);
    workloads.replace(first.id(), "contract test");
    converge(
        "web",
        l -> serving(2, "v1").test(l) && !ids(l).contains(first.id()),
        "2 ready instances without " + first.id());
  }

  @Test
  void aNewVersionReplacesEveryInstance() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "v1 ready");
    Set<String> before = ids(instances("web"));
    workloads.apply(spec(service("web", 2, "v2", true)));
    converge("web", serving(2, "v2"), "v2 ready");
    assertThat(ids(instances("web"))).doesNotContainAnyElementsOf(before);
  }

  @Test
  void detectsACrashAndRunsTheInstanceAgain() {
    workloads.apply(spec(service("web", 1, "v1", true)));
    converge("web", serving(1, "v1"), "ready");
    crash(instances("web").get(0));
    converge(
        "web",
        l -> serving(1, "v1").test(l) && l.get(0).restarts() >= 1,
        "ready again after a restart");
    assertThat(events)
        .anyMatch(e -> e.type().equals("InstanceExited") && e.service().equals("web"));
  }

  @Test
  void logsCarryWhatInstancesPrint() throws Exception {
    workloads.apply(spec(service("web", 1, "v1", true)));
    converge("web", serving(1, "v1"), "ready");
    String id = instances("web").get(0).id();
    await("the start line in the logs")
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              ByteArrayOutputStream out = new ByteArrayOutputStream();
              logs().stream("web", Optional.empty(), Instant.EPOCH, false, out);
              return out.toString(StandardCharsets.UTF_8).contains("[" + id + "] hello from v1");
            });
    assertThat(logs().has("web", id)).isTrue();
    assertThat(logs().has("web", "web-nosuch")).isFalse();
    assertThat(logs().has("nosuch", id)).isFalse();
  }

  @Test
  void adoptsWhatRunsAfterADaemonRestart() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "ready");
    Set<String> before = ids(instances("web"));
    Workloads again = open(); // the daemon restarted: a new runtime over the same place
    again.recover();
    again.apply(spec(service("web", 2, "v1", true)));
    converge(again, "web", serving(2, "v1"), "the same instances, adopted");
    assertThat(ids(instances(again, "web"))).isEqualTo(before);
    for (int i = 0; i < 10; i++) {
      settle();
      again.tick();
    }
    assertThat(ids(instances(again, "web"))).isEqualTo(before); // nothing started twice
    workloads = again;
  }

  @Test
  void runsACanaryBesideTheStableInstancesThenPromotesIt() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "v1 ready");
    ServiceSpec v2 = service("web", 2, "v2", true);
    workloads.setCanary("web", v2, 1);
    converge(
        "web",
        l ->
            l.stream()
                    .filter(i -> i.slot() >= InstanceController.CANARY_SLOT_BASE)
                    .filter(i -> i.serving() && i.version().equals("v2"))
                    .count()
                == 1,
        "one ready canary of v2");
    assertThat(workloads.canaryTemplate("web")).isPresent();
    assertThat(workloads.canaryCrashLooping("web")).isFalse();
    workloads.promoteCanary("web");
    workloads.apply(spec(v2));
    converge("web", serving(2, "v2"), "v2 promoted: 2 stable instances of v2, no canary");
  }

  @Test
  void removesACanary() {
    workloads.apply(spec(service("web", 1, "v1", true)));
    converge("web", serving(1, "v1"), "v1 ready");
    workloads.setCanary("web", service("web", 1, "v2", true), 1);
    converge("web", l -> l.size() == 2 && l.stream().allMatch(InstanceStatus::serving), "canary");
    workloads.clearCanary("web");
    converge("web", serving(1, "v1"), "only the stable instance");
    assertThat(workloads.canaryTemplate("web")).isEmpty();
  }

  @Test
  void suspendsAndResumesAService() {
    workloads.apply(spec(service("web", 2, "v1", true)));
    converge("web", serving(2, "v1"), "ready");
    workloads.suspend("web", "a restore");
    converge("web", l -> workloads.running("web") == 0, "nothing running");
    workloads.resume("web");
    converge("web", serving(2, "v1"), "ready again");
  }
}
