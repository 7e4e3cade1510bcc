package dev.pilothouse.runtime.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.instance.WorkloadsContract;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster's Warning events about the runtime's pods, Deployments and ReplicaSets become the
 * daemon's ClusterWarning events, once each (again when Kubernetes counts a repeat), and others'
 * are left out.
 */
class ClusterWarningsTest {
  private final SimulatedCluster cluster = new SimulatedCluster();
  private final List<NewEvent> events = new CopyOnWriteArrayList<>();
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
  private final InstantSource clock = () -> now.get();

  @AfterEach
  void close() {
    cluster.close();
  }

  private List<String> warnings() {
    return events.stream()
        .filter(e -> e.type().equals("ClusterWarning"))
        .map(e -> e.service() + "|" + e.instance() + "|" + e.message())
        .toList();
  }

  @Test
  void warningsAboutItsObjects_becomeEvents_onceEach_andAgainWhenTheyRepeat() {
    KubernetesWorkloads w =
        KubernetesWorkloads.create(
            cluster.client(), SimulatedCluster.NAMESPACE, events::add, SecretSource.none(), clock);
    w.apply(new Spec(List.of(WorkloadsContract.service("web", 1, "v1", true))));
    for (int i = 0; i < 3; i++) {
      w.tick();
      cluster.settle();
    }
    w.tick();
    String pod = w.status().get(0).instances().get(0).id();

    cluster.warn("Pod", pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with 503");
    cluster.warn("ReplicaSet", "web-5d8f9c", "FailedCreate", "exceeded quota: compute");
    cluster.warn("Pod", "someone-elses-pod", "BackOff", "not ours");
    now.set(now.get().plus(ClusterWarnings.INTERVAL));
    w.tick();
    assertThat(warnings())
        .containsExactlyInAnyOrder(
            "web|" + pod + "|Unhealthy: Readiness probe failed: HTTP probe failed with 503",
            "web||FailedCreate: exceeded quota: compute");
    assertThat(events.stream().filter(e -> e.type().equals("ClusterWarning")))
        .allSatisfy(e -> assertThat(e.fields()).containsKey("reason"));

    // Not again on the next look; again when Kubernetes counts a repeat; not before the interval.
    now.set(now.get().plus(ClusterWarnings.INTERVAL));
    w.tick();
    assertThat(warnings()).hasSize(2);
    cluster.warn("Pod", pod, "Unhealthy", "Readiness probe failed: HTTP probe failed with 503");
    now.set(now.get().plus(Duration.ofMillis(500)));
    w.tick();
    assertThat(warnings()).hasSize(2);
    now.set(now.get().plus(ClusterWarnings.INTERVAL));
    w.tick();
    assertThat(warnings())
        .hasSize(3)
        .last()
        .isEqualTo(
            "web|"
                + pod
                + "|Unhealthy: Readiness probe failed: HTTP probe failed with 503 (2 times)");

    // A new daemon does not repeat what happened before it opened the runtime.
    w.close();
    now.set(now.get().plus(Duration.ofMinutes(1)));
    KubernetesWorkloads next =
        KubernetesWorkloads.create(
            cluster.client(), SimulatedCluster.NAMESPACE, events::add, SecretSource.none(), clock);
    next.recover();
    next.apply(new Spec(List.of(WorkloadsContract.service("web", 1, "v1", true))));
    next.tick();
    assertThat(warnings()).hasSize(3);
    next.close();
  }
}
