package dev.pilothouse.runtime.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.instance.WorkloadsContract;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What a service becomes in the cluster, read back from fabric8's mock API server (CRUD mode): the
 * Deployment's container, the Secret, and with a Gateway the HTTPRoute whose weights follow a
 * canary's split.
 */
class KubernetesManifestsTest {
  private final SimulatedCluster cluster = new SimulatedCluster();
  private final KubernetesClient api = cluster.client();
  private final List<dev.pilothouse.core.event.NewEvent> events = new ArrayList<>();

  @AfterEach
  void close() {
    api.close();
    cluster.close();
  }

  private KubernetesWorkloads workloads(String gateway, Map<String, String> secrets) {
    return KubernetesWorkloads.create(
        cluster.client(),
        SimulatedCluster.NAMESPACE,
        gateway,
        events::add,
        name -> Optional.ofNullable(secrets.get(name)),
        Clock.systemUTC());
  }

  /** A copy of s with 0.25 cores and 128 MiB, this route and these secret variables. */
  static ServiceSpec with(ServiceSpec s, RouteSpec route, Map<String, SecretRef> secretEnv) {
    return new ServiceSpec(
        s.name(),
        s.command(),
        s.args(),
        s.env(),
        s.workdir(),
        s.version(),
        s.replicas(),
        s.liveness(),
        s.readiness(),
        s.restart(),
        s.stop(),
        new dev.pilothouse.core.spec.Resources(0.25, 128L << 20),
        route,
        s.strategy(),
        s.deploy(),
        s.inheritEnv(),
        s.autoscale(),
        s.remediation(),
        secretEnv,
        s.image());
  }

  private <T> T get(Class<T> type, String name) {
    @SuppressWarnings("unchecked")
    T t =
        (T)
            api.resources((Class<io.fabric8.kubernetes.api.model.HasMetadata>) (Class<?>) type)
                .inNamespace(SimulatedCluster.NAMESPACE)
                .withName(name)
                .get();
    return t;
  }

  @Test
  void theDeployment_carriesImageProbesResourcesAndSecrets_asValuesAndAsFiles() {
    ServiceSpec web =
        with(
            WorkloadsContract.service("web", 2, "v1", true),
            null,
            Map.of(
                "DB_PASSWORD", new SecretRef("db", false), "TLS_KEY", new SecretRef("tls", true)));
    KubernetesWorkloads w = workloads("", Map.of("db", "s3cret", "tls", "-----KEY-----"));
    w.apply(new Spec(List.of(web)));
    w.tick();
    Deployment d = get(Deployment.class, "web");
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("registry.example/contract:v1");
    assertThat(c.getCommand()).containsExactly("sh");
    assertThat(c.getReadinessProbe().getExec().getCommand()).containsExactly("true");
    assertThat(c.getResources().getRequests().get("cpu").toString()).isEqualTo("250m");
    assertThat(c.getResources().getLimits().get("memory").toString()).isEqualTo("134217728");
    assertThat(c.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("DB_PASSWORD");
              assertThat(e.getValue()).isNull(); // never in the Deployment
              assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("web-secrets");
            })
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("TLS_KEY");
              assertThat(e.getValue()).isEqualTo("/run/secrets/pilothouse/TLS_KEY");
            });
    assertThat(c.getVolumeMounts())
        .singleElement()
        .satisfies(m -> assertThat(m.getReadOnly()).isTrue());
    Secret s = get(Secret.class, "web-secrets");
    assertThat(s.getStringData())
        .containsEntry("DB_PASSWORD", "s3cret")
        .containsEntry("TLS_KEY", "-----KEY-----");
    assertThat(d.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal()).isEqualTo(1);

    // Nothing changed: nothing is written again (the applied hash matches).
    String version = get(Deployment.class, "web").getMetadata().getResourceVersion();
    w.tick();
    assertThat(get(Deployment.class, "web").getMetadata().getResourceVersion()).isEqualTo(version);
  }

  @Test
  void anImageThatCannotBePulled_isAStartFailure_andTheServiceCountsAsCrashLooping() {
    ServiceSpec web =
        WorkloadsContract.service("web", 1, "v1", true).withImage("registry.example/web:missing");
    KubernetesWorkloads w = workloads("", Map.of());
    w.apply(new Spec(List.of(web)));
    for (int i = 0; i < 3; i++) {
      w.tick();
      cluster.settle();
    }
    w.tick();
    assertThat(w.status())
        .singleElement()
        .satisfies(s -> assertThat(s.state()).isEqualTo("crash-loop"));
    assertThat(events)
        .filteredOn(e -> e.type().equals("StartFailed"))
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.fields()).containsEntry("reason", "ErrImagePull");
              assertThat(e.message()).contains("registry.example/web:missing not found");
            });
  }

  @Test
  void withTheHpaAutoscaler_anAutoscaledServiceGetsAHorizontalPodAutoscaler_whichOwnsItsReplicas() {
    var autoscale =
        new dev.pilothouse.core.spec.Autoscale(
            2,
            6,
            List.of(
                new dev.pilothouse.core.spec.Autoscale.Target.Cpu(70),
                new dev.pilothouse.core.spec.Autoscale.Target.Memory(80)),
            dev.pilothouse.core.spec.Autoscale.Tolerance.DEFAULT,
            dev.pilothouse.core.spec.Autoscale.Behavior.UP,
            dev.pilothouse.core.spec.Autoscale.Behavior.DOWN,
            java.time.Duration.ofSeconds(30),
            null);
    ServiceSpec web = WorkloadsContract.service("web", 2, "v1", true).withAutoscale(autoscale);
    KubernetesWorkloads w =
        KubernetesWorkloads.create(
            cluster.client(),
            SimulatedCluster.NAMESPACE,
            "",
            true,
            events::add,
            name -> Optional.empty(),
            Clock.systemUTC());
    w.apply(new Spec(List.of(web)));
    w.tick();
    var hpa =
        api.autoscaling()
            .v2()
            .horizontalPodAutoscalers()
            .inNamespace(SimulatedCluster.NAMESPACE)
            .withName("web")
            .get();
    assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("web");
    assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
    assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(6);
    assertThat(hpa.getSpec().getMetrics())
        .extracting(
            m ->
                m.getResource().getName()
                    + "="
                    + m.getResource().getTarget().getAverageUtilization())
        .containsExactly("cpu=70", "memory=80");
    assertThat(hpa.getSpec().getBehavior().getScaleDown().getStabilizationWindowSeconds())
        .isEqualTo(300);
    assertThat(hpa.getSpec().getBehavior().getScaleUp().getPolicies())
        .extracting(x -> x.getType() + " " + x.getValue() + "/" + x.getPeriodSeconds())
        .containsExactly("Percent 100/15", "Pods 4/15");
    assertThat(get(Deployment.class, "web").getSpec().getReplicas()).isEqualTo(2);

    // The HPA scales the Deployment; the daemon's next writes keep its count.
    Deployment scaled = get(Deployment.class, "web");
    scaled.getSpec().setReplicas(5);
    api.apps().deployments().inNamespace(SimulatedCluster.NAMESPACE).resource(scaled).update();
    w.restart("web"); // a change of the template: the Deployment is written again
    w.tick();
    assertThat(get(Deployment.class, "web").getSpec().getReplicas()).isEqualTo(5);
    assertThat(w.status().get(0).desiredReplicas()).isEqualTo(5);

    w.apply(new Spec(List.of(web.withAutoscale(null))));
    w.tick();
    assertThat(
            api.autoscaling()
                .v2()
                .horizontalPodAutoscalers()
                .inNamespace(SimulatedCluster.NAMESPACE)
                .withName("web")
                .get())
        .isNull();
    assertThat(get(Deployment.class, "web").getSpec().getReplicas()).isEqualTo(2);
  }

  @Test
  void aMissingSecret_isAnEventNamingIt_andNothingIsWritten() {
    ServiceSpec web =
        with(
            WorkloadsContract.service("web", 1, "v1", true),
            null,
            Map.of("DB_PASSWORD", new SecretRef("db", false)));
    KubernetesWorkloads w = workloads("", Map.of());
    w.apply(new Spec(List.of(web)));
    w.tick();
    assertThat(events)
        .anySatisfy(
            e -> {
              assertThat(e.type()).isEqualTo("RuntimeUnreachable");
              assertThat(e.message()).contains("secret 'db' of web is not set");
            });
  }

  @Test
  void withAGateway_aCanarySplitBecomesTheHttpRoutesWeightsHeaderRulesAndMirror() {
    RouteSpec route =
        new RouteSpec(
            "shop.example.com",
            "/shop",
            false,
            java.time.Duration.ofSeconds(1),
            java.time.Duration.ofSeconds(15),
            java.time.Duration.ofSeconds(60),
            2,
            0.2,
            0,
            0,
            "least-request",
            10_000,
            1_000,
            10_000,
            5,
            java.time.Duration.ofSeconds(10),
            50,
            RouteSpec.defaults("/").faults());
    ServiceSpec web = with(WorkloadsContract.service("web", 2, "v1", true), route, Map.of());
    KubernetesWorkloads w = workloads("gateways/public", Map.of());
    w.apply(new Spec(List.of(web)));
    w.tick();
    HTTPRoute r = get(HTTPRoute.class, "web");
    assertThat(r.getSpec().getParentRefs())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("public");
              assertThat(p.getNamespace()).isEqualTo("gateways");
            });
    assertThat(r.getSpec().getHostnames()).containsExactly("shop.example.com");
    assertThat(r.getSpec().getRules())
        .singleElement()
        .satisfies(rule -> assertThat(weights(rule)).containsExactly(Map.entry("web-stable", 100)));
    assertThat(
            get(io.fabric8.kubernetes.api.model.Service.class, "web-canary")
                .getSpec()
                .getSelector())
        .containsEntry("pilothouse.dev/track", "canary");

    w.split(
        "web",
        new Split(
            "t1",
            "t2",
            20,
            List.of(
                new Split.Rule(Split.Rule.Kind.HEADER, "X-Canary", "yes", Split.Rule.Op.EXACT),
                new Split.Rule(Split.Rule.Kind.COOKIE, "beta", "*", Split.Rule.Op.EXACT)),
            10,
            false));
    w.tick();
    List<HTTPRouteRule> rules = get(HTTPRoute.class, "web").getSpec().getRules();
    assertThat(rules).hasSize(3);
    assertThat(rules.get(0).getMatches().get(0).getHeaders().get(0))
        .satisfies(
            h -> {
              assertThat(h.getName()).isEqualTo("X-Canary");
              assertThat(h.getType()).isEqualTo("Exact");
              assertThat(h.getValue()).isEqualTo("yes");
            });
    assertThat(weights(rules.get(0))).containsExactly(Map.entry("web-canary", 1));
    assertThat(rules.get(1).getMatches().get(0).getHeaders().get(0).getName()).isEqualTo("Cookie");
    assertThat("a=1; beta=on; c=2")
        .matches(rules.get(1).getMatches().get(0).getHeaders().get(0).getValue());
    assertThat(weights(rules.get(2)))
        .containsExactly(Map.entry("web-stable", 80), Map.entry("web-canary", 20));
    assertThat(rules.get(2).getFilters().get(0).getRequestMirror().getPercent()).isEqualTo(10);

    w.clear("web");
    w.tick();
    assertThat(get(HTTPRoute.class, "web").getSpec().getRules())
        .singleElement()
        .satisfies(rule -> assertThat(weights(rule)).containsExactly(Map.entry("web-stable", 100)));

    w.apply(new Spec(List.of(with(web, null, Map.of())))); // no route: no HTTPRoute
    w.tick();
    assertThat(get(HTTPRoute.class, "web")).isNull();
    assertThat(get(io.fabric8.kubernetes.api.model.Service.class, "web-canary")).isNull();
    assertThat(get(io.fabric8.kubernetes.api.model.Service.class, "web")).isNotNull();
  }

  private static List<Map.Entry<String, Integer>> weights(HTTPRouteRule rule) {
    return rule.getBackendRefs().stream()
        .map((HTTPBackendRef b) -> Map.entry(b.getName(), b.getWeight()))
        .toList();
  }
}
