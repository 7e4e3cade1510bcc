package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.runtime.kubernetes.SimulatedCluster;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped daemon and CLI with services on the Kubernetes runtime: the daemon talks to fabric8's
 * mock API server (CRUD mode) through a kubeconfig, while the test runs the cluster's Deployment
 * controller, garbage collector and kubelet in simulation ({@link SimulatedCluster}). Every command
 * a user runs against a local service works the same against a Deployment.
 */
class KubernetesRuntimeTest {
  @TempDir Path tmp;

  private static String spec(String version, String image, int replicas) {
    return "runtime:\n"
        + "  kind: kubernetes\n"
        + "  namespace: shop\n"
        + "  kubeconfig: kubeconfig\n"
        + "services:\n"
        + "  web:\n"
        + "    image: "
        + image
        + "\n"
        + "    version: "
        + version
        + "\n"
        + "    replicas: "
        + replicas
        + "\n"
        + "    env: {VERSION: "
        + version
        + "}\n"
        + "    readiness: {exec: ['true'], interval: 1s}\n"
        + "    resources: {cpu: 0.5, memory: 256Mi}\n";
  }

  @Test
  void onPostgres_daemonsOfOtherHostsFollow_andAKilledLeadersSuccessorAdoptsThePods()
      throws Exception {
    try (RealPostgres pg = RealPostgres.start("admin-pw");
        SimulatedCluster cluster = new SimulatedCluster().running(Duration.ofMillis(100))) {
      Path pw = Files.writeString(tmp.resolve("store-password"), "state-pw\n");
      Path siteA = Files.createDirectories(tmp.resolve("a"));
      Path siteB = Files.createDirectories(tmp.resolve("b"));
      cluster.kubeconfig(siteA.resolve("kubeconfig"));
      try (Harness a = new Harness(siteA);
          Harness b = new Harness(siteB)) { // another state directory: another "machine"
        String store = pg.stateDatabase();
        for (Harness h : List.of(a, b)) {
          h.cliEnv.put("PILOTHOUSE_STORE_URL", store);
          h.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
        }
        a.up(a.writeSpec("shop.yaml", spec("v1", "registry.example.com/shop/web:1", 2)));
        a.awaitReady("web", 2, Duration.ofSeconds(30));
        Set<String> running = pods(a);
        long leader = a.daemonPid();
        // Local processes would tie every daemon to the leader's state directory; pods do not.
        assertThat(b.ok("up", "--standby", "--api-port", "0").out())
            .contains("standby daemon started at");
        Harness.signal(leader, "KILL");
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(() -> b.client().status().pid() != leader);
        b.awaitReady("web", 2, Duration.ofSeconds(30));
        assertThat(pods(b)).isEqualTo(running);
        assertThat(cluster.api().pods().inNamespace(SimulatedCluster.NAMESPACE).list().getItems())
            .hasSize(2); // none started again
        assertThat(b.client().events(-1, 500))
            .anyMatch(e -> e.type().equals("InstanceAdopted") && e.service().equals("web"));

        // Back on local processes, a daemon of a third state directory is refused again.
        b.ok("apply", "-f", b.writeSpec("local.yaml", Harness.routedShop("v1", 1, "")).toString());
        b.awaitReady("shop", 1, Duration.ofSeconds(30));
        try (Harness c = new Harness(Files.createDirectories(tmp.resolve("c")))) {
          c.cliEnv.putAll(b.cliEnv);
          Harness.Result refused = c.cli("up", "--standby", "--api-port", "0");
          assertThat(refused.exit()).isNotZero();
          assertThat(Files.readString(c.stateDir.resolve("daemon-standby.log")))
              .contains("every daemon of one database shares that host and state directory");
        }
      }
    }
  }

  @Test
  void aCanaryOnAGateway_movesTheHttpRoutesWeightsStepByStep_andIsPromoted() throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster().running(Duration.ofMillis(100));
        Harness h = new Harness(tmp)) {
      cluster.kubeconfig(tmp.resolve("kubeconfig"));
      String spec =
          spec("v1", "registry.example.com/shop/web:1", 2)
                  .replace(
                      "  kubeconfig: kubeconfig\n",
                      "  kubeconfig: kubeconfig\n  gateway: gateways/public\n")
              + "    route: /shop\n"
              + "    strategy:\n"
              + "      type: canary\n"
              + "      steps: [{weight: 30}, {pause: 3s}, {weight: 60}, {pause: 3s}]\n";
      h.up(h.writeSpec("shop.yaml", spec));
      h.awaitReady("web", 2, Duration.ofSeconds(30));
      assertThat(weights(cluster)).containsExactly("web-stable=100");

      h.ok("deploy", "web", "--version", "v2", "--image", "registry.example.com/shop/web:2");
      Set<String> seen = new java.util.LinkedHashSet<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                seen.add(String.join(" ", weights(cluster)));
                return h.client().rollout("web").phase().equals("Promoted");
              });
      assertThat(seen)
          .as("the route's weights, step by step")
          .contains("web-stable=70 web-canary=30", "web-stable=40 web-canary=60");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> weights(cluster).equals(List.of("web-stable=100")));
      h.awaitReady("web", 2, Duration.ofSeconds(30));
      assertThat(h.service("web").instances()).allMatch(i -> i.version().equals("v2"));
      await().atMost(Duration.ofSeconds(30)).until(() -> deployment(cluster, "web-canary") == null);
    }
  }

  /** The backends of the default rule of the service's HTTPRoute, as NAME=WEIGHT. */
  private static List<String> weights(SimulatedCluster cluster) {
    var route =
        cluster
            .api()
            .resources(io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute.class)
            .inNamespace(SimulatedCluster.NAMESPACE)
            .withName("web")
            .get();
    if (route == null) {
      return List.of();
    }
    var rules = route.getSpec().getRules();
    return rules.get(rules.size() - 1).getBackendRefs().stream()
        .map(b -> b.getName() + "=" + b.getWeight())
        .toList();
  }

  private static Set<String> pods(Harness h) {
    return h.service("web").instances().stream().map(Wire.Instance::id).collect(Collectors.toSet());
  }

  private static Deployment deployment(SimulatedCluster cluster, String name) {
    return cluster
        .api()
        .apps()
        .deployments()
        .inNamespace(SimulatedCluster.NAMESPACE)
        .withName(name)
        .get();
  }

  @Test
  void statusLogsScaleRestartDeployAndUndo_driveTheDeployment_andPodsOutliveTheDaemon()
      throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster().running(Duration.ofMillis(100));
        Harness h = new Harness(tmp)) {
      cluster.kubeconfig(tmp.resolve("kubeconfig"));
      h.up(h.writeSpec("shop.yaml", spec("v1", "registry.example.com/shop/web:1", 2)));
      h.awaitReady("web", 2, Duration.ofSeconds(30));
      Deployment d = deployment(cluster, "web");
      assertThat(d.getSpec().getReplicas()).isEqualTo(2);
      var container = d.getSpec().getTemplate().getSpec().getContainers().get(0);
      assertThat(container.getImage()).isEqualTo("registry.example.com/shop/web:1");
      assertThat(container.getResources().getLimits().get("memory").toString())
          .isEqualTo("268435456");
      assertThat(container.getReadinessProbe().getExec().getCommand()).containsExactly("true");
      assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
          .containsEntry("app.kubernetes.io/version", "v1");
      assertThat(
              cluster
                  .api()
                  .services()
                  .inNamespace(SimulatedCluster.NAMESPACE)
                  .withName("web")
                  .get())
          .isNotNull();

      String status = h.ok("status").out();
      assertThat(status).contains("web").contains("web-");
      Wire.Service web = h.service("web");
      assertThat(web.instances()).allMatch(i -> i.pid() == 0 && i.version().equals("v1"));

      String pod = web.instances().get(0).id();
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> h.ok("logs", "web").out().contains("[" + pod + "] hello from v1"));

      h.ok("scale", "web", "3");
      h.awaitReady("web", 3, Duration.ofSeconds(30));
      assertThat(deployment(cluster, "web").getSpec().getReplicas()).isEqualTo(3);

      Set<String> before = pods(h);
      h.ok("restart", "web");
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                Wire.Service s = h.service("web");
                return s.readyReplicas() == 3
                    && s.instances().size() == 3
                    && s.instances().stream().noneMatch(i -> before.contains(i.id()));
              });

      h.ok("deploy", "web", "--version", "v2", "--image", "registry.example.com/shop/web:2");
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.client().rollout("web").phase().equals("Promoted"));
      h.awaitReady("web", 3, Duration.ofSeconds(30));
      assertThat(h.service("web").instances()).allMatch(i -> i.version().equals("v2"));
      assertThat(
              deployment(cluster, "web")
                  .getSpec()
                  .getTemplate()
                  .getSpec()
                  .getContainers()
                  .get(0)
                  .getImage())
          .isEqualTo("registry.example.com/shop/web:2");

      // An image the registry does not have: the pods cannot start, the rollout goes back.
      h.ok("deploy", "web", "--version", "v3", "--image", "registry.example.com/shop/web:missing");
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.client().rollout("web").phase().equals("RolledBack"));
      h.awaitReady("web", 3, Duration.ofSeconds(30));
      assertThat(h.service("web").instances()).allMatch(i -> i.version().equals("v2"));
      assertThat(h.client().events(-1, 500))
          .anyMatch(e -> e.type().equals("StartFailed") && e.message().contains("ErrImagePull"));

      Harness.Result bad =
          h.cli("deploy", "web", "--version", "v3", "--image", "no spaces allowed");
      assertThat(bad.exit()).isNotZero();
      assertThat(bad.err()).contains("is not a container image reference");

      // The daemon stops; the cluster's pods run on, and the next daemon adopts them.
      Set<String> running = pods(h);
      h.ok("down");
      assertThat(cluster.api().pods().inNamespace(SimulatedCluster.NAMESPACE).list().getItems())
          .extracting(p -> p.getMetadata().getName())
          .containsAll(running);
      h.ok("up", "--detach", "--api-port", "0", "--timeout", "60"); // the stored revision
      h.awaitReady("web", 3, Duration.ofSeconds(30));
      assertThat(pods(h)).isEqualTo(running);
      List<Wire.Event> events = h.client().events(-1, 500);
      assertThat(events).extracting(Wire.Event::type).contains("InstanceAdopted");
    }
  }
}
