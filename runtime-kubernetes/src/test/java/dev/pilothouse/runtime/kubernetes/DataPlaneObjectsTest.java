package dev.pilothouse.runtime.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.instance.WorkloadsContract;
import dev.pilothouse.core.spec.DataPlaneSpec;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.DataPlaneEndpoint;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Pilothouse's data plane in a cluster ({@code runtime.dataPlane}) as the runtime writes it: the
 * proxies' Deployment, Service and token Secret, read back from fabric8's mock API server, and the
 * proxies reported (address, control port, token) once their pods run.
 */
class DataPlaneObjectsTest {
  private final SimulatedCluster cluster = new SimulatedCluster();
  private final KubernetesClient api = cluster.api();
  private final List<dev.pilothouse.core.event.NewEvent> events = new ArrayList<>();

  @AfterEach
  void close() {
    cluster.close();
  }

  private KubernetesWorkloads workloads(DataPlaneSpec dataPlane) {
    return KubernetesWorkloads.create(
        cluster.client(),
        new RuntimeSpec(
            RuntimeSpec.Kind.KUBERNETES, SimulatedCluster.NAMESPACE, "", "", "", false, dataPlane),
        events::add,
        SecretSource.none(),
        Clock.systemUTC());
  }

  private static ServiceSpec routed(String name) {
    return KubernetesManifestsTest.with(
        WorkloadsContract.service(name, 2, "v1", true), RouteSpec.defaults("/"), Map.of());
  }

  private <T extends io.fabric8.kubernetes.api.model.HasMetadata> T get(Class<T> type, String n) {
    return api.resources(type).inNamespace(SimulatedCluster.NAMESPACE).withName(n).get();
  }

  private void settle(KubernetesWorkloads w) {
    for (int i = 0; i < 3; i++) {
      w.tick();
      cluster.settle();
    }
    w.tick();
  }

  @Test
  void aRoutedService_bringsTheProxies_withTheirTokenKeptAcrossDaemons_andTheirPodsReported() {
    DataPlaneSpec dp =
        new DataPlaneSpec("registry.example.com/pilothouse:0.1.0", 2, "LoadBalancer");
    KubernetesWorkloads w = workloads(dp);
    w.apply(new Spec(List.of(routed("web"))));
    settle(w);

    Deployment d = get(Deployment.class, "pilothouse-proxy");
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example.com/pilothouse:0.1.0");
    assertThat(c.getCommand())
        .contains("dev.pilothouse.proxy.control.ProxyProcess")
        .containsSubsequence(
            "--control-port",
            "9901",
            "--control-token-file",
            "/run/secrets/pilothouse/control/token");
    assertThat(c.getReadinessProbe().getTcpSocket().getPort().getIntVal()).isEqualTo(8080);
    assertThat(c.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(d.getSpec().getTemplate().getSpec().getVolumes())
        .filteredOn(v -> v.getSecret() != null)
        .singleElement()
        .satisfies(
            v -> assertThat(v.getSecret().getSecretName()).isEqualTo("pilothouse-proxy-control"));

    Service s = get(Service.class, "pilothouse-proxy");
    assertThat(s.getSpec().getType()).isEqualTo("LoadBalancer");
    assertThat(s.getSpec().getPorts().get(0).getTargetPort().getIntVal()).isEqualTo(8080);

    Secret secret = get(Secret.class, "pilothouse-proxy-control");
    String token = DataPlaneManifests.token(secret).orElseThrow();
    assertThat(token).hasSizeGreaterThanOrEqualTo(40);

    // Both proxies run: reported with their pods' addresses and the token.
    List<DataPlaneEndpoint> proxies = w.dataPlane();
    assertThat(proxies).hasSize(2);
    assertThat(proxies)
        .allSatisfy(
            e -> {
              assertThat(e.address()).startsWith("127.0.1.");
              assertThat(e.controlPort()).isEqualTo(9901);
              assertThat(e.listenPort()).isEqualTo(8080);
              assertThat(e.token()).isEqualTo(token);
              assertThat(e.toString()).doesNotContain(token);
            });
    // The proxies are not one of the services, and the services' pods carry their addresses.
    assertThat(w.status()).extracting(st -> st.name()).containsExactly("web");
    assertThat(w.status().get(0).instances())
        .extracting(InstanceStatus::host)
        .allMatch(h -> h.startsWith("127.0.1."))
        .doesNotHaveDuplicates();
    assertThat(events).filteredOn(e -> e.type().equals("DataPlaneTokenCreated")).hasSize(1);
    assertThat(events).noneMatch(e -> e.message().contains(token));

    // A new daemon keeps the token (the running proxies read it from the Secret).
    w.close();
    KubernetesWorkloads next = workloads(dp);
    next.recover();
    next.apply(new Spec(List.of(routed("web"))));
    settle(next);
    assertThat(next.dataPlane()).hasSize(2).allMatch(e -> e.token().equals(token));
    assertThat(DataPlaneManifests.token(get(Secret.class, "pilothouse-proxy-control")))
        .contains(token);
    assertThat(events).filteredOn(e -> e.type().equals("DataPlaneTokenCreated")).hasSize(1);

    // No routed service left: the data plane goes, the service stays.
    next.apply(new Spec(List.of(WorkloadsContract.service("web", 2, "v1", true))));
    settle(next);
    assertThat(get(Deployment.class, "pilothouse-proxy")).isNull();
    assertThat(get(Service.class, "pilothouse-proxy")).isNull();
    assertThat(get(Secret.class, "pilothouse-proxy-control")).isNull();
    assertThat(next.dataPlane()).isEmpty();
    assertThat(get(Deployment.class, "web")).isNotNull();
    next.close();
  }

  @Test
  void withoutADataPlane_nothingOfItIsWritten() {
    KubernetesWorkloads w = workloads(null);
    w.apply(new Spec(List.of(routed("web"))));
    settle(w);
    assertThat(get(Deployment.class, "pilothouse-proxy")).isNull();
    assertThat(get(Secret.class, "pilothouse-proxy-control")).isNull();
    assertThat(w.dataPlane()).isEmpty();
    w.close();
  }
}
