package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.client.Wire;
import dev.pilothouse.runtime.kubernetes.SimulatedCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

  /**
   * Runs a simulated pod's container for real at its address: a data plane pod runs the shipped
   * proxy with the command its Deployment gives (the image's java and library directory mapped to
   * this machine's, the token file to a copy of the Secret's, and the pod's address to listen on,
   * since every simulated pod shares this machine's network); a service's pod runs a small HTTP
   * server answering "VERSION POD" (the version label of its pod), or 500 when its image is tagged
   * {@code :bad}.
   */
  private AutoCloseable container(SimulatedCluster cluster, Pod pod, String address)
      throws Exception {
    var c = pod.getSpec().getContainers().get(0);
    if ("pilothouse-proxy".equals(pod.getMetadata().getLabels().get("app.kubernetes.io/name"))) {
      var secret =
          cluster
              .api()
              .secrets()
              .inNamespace(SimulatedCluster.NAMESPACE)
              .withName("pilothouse-proxy-control")
              .get();
      String token =
          secret.getData() != null && secret.getData().containsKey("token")
              ? new String(java.util.Base64.getDecoder().decode(secret.getData().get("token")))
              : secret.getStringData().get("token");
      Path tokenFile =
          Files.writeString(tmp.resolve("token-" + pod.getMetadata().getName()), token);
      List<String> cmd = new java.util.ArrayList<>();
      for (String arg : c.getCommand()) {
        cmd.add(
            switch (arg) {
              case "java" -> Harness.JAVA;
              case "/opt/pilothouse/lib/*" -> Harness.LIB + "/*";
              case "/run/secrets/pilothouse/control/token" -> tokenFile.toString();
              default -> arg;
            });
      }
      cmd.addAll(List.of("--control-host", address, "--listen-host", address));
      Process p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve(pod.getMetadata().getName() + ".log").toFile())
              .start();
      return () -> {
        p.destroyForcibly();
        p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      };
    }
    String version = pod.getMetadata().getLabels().getOrDefault("app.kubernetes.io/version", "");
    int status = c.getImage().endsWith(":bad") ? 500 : 200;
    byte[] body = (version + " " + pod.getMetadata().getName()).getBytes();
    HttpServer server = HttpServer.create(new InetSocketAddress(address, 8080), 64);
    server.createContext(
        "/",
        x -> {
          x.sendResponseHeaders(status, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    server.start();
    return () -> server.stop(0);
  }

  @Test
  void aDataPlaneInTheCluster_routesToThePods_splitsACanaryByWeight_andItsMeasurementsRollBack()
      throws Exception {
    try (SimulatedCluster cluster = new SimulatedCluster();
        Harness h = new Harness(tmp)) {
      cluster.containers((pod, address) -> container(cluster, pod, address));
      cluster.running(Duration.ofMillis(100));
      cluster.kubeconfig(tmp.resolve("kubeconfig"));
      String spec =
          spec("v1", "registry.example.com/shop/web:1", 2)
                  .replace(
                      "  kubeconfig: kubeconfig\n",
                      "  kubeconfig: kubeconfig\n"
                          + "  dataPlane: {image: registry.example.com/pilothouse:test, replicas:"
                          + " 1}\n")
              + "    route: /\n"
              + "    strategy:\n"
              + "      type: canary\n"
              + "      steps: [{weight: 50}, {analysis: 3s}]\n";
      h.up(h.writeSpec("shop.yaml", spec));
      h.awaitReady("web", 2, Duration.ofSeconds(30));

      // The proxy pod runs; the daemon reaches it and gives it the routes: every request through
      // it is answered by one of the two pods.
      String proxy =
          await().atMost(Duration.ofSeconds(30)).until(() -> proxyAddress(cluster), a -> a != null);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      await().atMost(Duration.ofSeconds(30)).until(() -> get(http, proxy).startsWith("200 v1 "));
      Set<String> pods = new java.util.HashSet<>();
      for (int i = 0; i < 20; i++) {
        String r = get(http, proxy);
        assertThat(r).startsWith("200 v1 web-");
        pods.add(r.substring(r.lastIndexOf(' ') + 1));
      }
      assertThat(pods).hasSize(2);
      assertThat(h.status().clusterProxies())
          .singleElement()
          .satisfies(
              c -> {
                assertThat(c.address()).isEqualTo(proxy + ":9901");
                assertThat(c.connected()).isTrue();
                assertThat(c.pid()).isPositive();
              });
      assertThat(h.ok("status").out()).contains("cluster proxy " + proxy + ":9901 (pid ");
      assertThat(h.status().proxy().listening()).as("no load balancer on this machine").isFalse();

      // Steady traffic through the proxy, each answer noted with the rollout's weight then.
      java.util.concurrent.atomic.AtomicInteger weight =
          new java.util.concurrent.atomic.AtomicInteger();
      List<String> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicBoolean on =
          new java.util.concurrent.atomic.AtomicBoolean(true);
      Thread load =
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (on.get()) {
                      int w = weight.get();
                      answers.add(w + " " + get(http, proxy));
                      try {
                        Thread.sleep(5);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  });
      try {
        // A good canary: half the traffic at weight 50; the analysis, fed by the cluster proxy's
        // measurements, passes; promoted.
        h.ok("deploy", "web", "--version", "v2", "--image", "registry.example.com/shop/web:2");
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  Wire.Rollout r = h.client().rollout("web");
                  weight.set(r.weight());
                  return r.phase().equals("Promoted") || r.phase().equals("RolledBack");
                });
        assertThat(h.client().rollout("web").phase()).isEqualTo("Promoted");
        List<String> atHalf = answers.stream().filter(a -> a.startsWith("50 ")).toList();
        long v2 = atHalf.stream().filter(a -> a.startsWith("50 200 v2 ")).count();
        assertThat(atHalf).hasSizeGreaterThan(100);
        assertThat(atHalf).allMatch(a -> a.startsWith("50 200 v"));
        assertThat((double) v2 / atHalf.size())
            .as("the canary's share at weight 50")
            .isBetween(0.3, 0.7);
        await().atMost(Duration.ofSeconds(30)).until(() -> get(http, proxy).startsWith("200 v2 "));

        // A bad canary (every answer a 500): the analysis sees it through the cluster proxy and
        // rolls it back; the stable pods serve on.
        weight.set(0);
        h.ok("deploy", "web", "--version", "v3", "--image", "registry.example.com/shop/web:bad");
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(50))
            .until(
                () -> {
                  Wire.Rollout r = h.client().rollout("web");
                  weight.set(r.weight());
                  return r.phase().equals("Promoted") || r.phase().equals("RolledBack");
                });
        Wire.Rollout r = h.client().rollout("web");
        assertThat(r.phase()).isEqualTo("RolledBack");
        assertThat(r.reason()).containsIgnoringCase("error");
        await().atMost(Duration.ofSeconds(30)).until(() -> get(http, proxy).startsWith("200 v2 "));
      } finally {
        on.set(false);
        load.join(10_000);
      }
    }
  }

  /** The address of the running data plane pod, or null. */
  private static String proxyAddress(SimulatedCluster cluster) {
    return cluster
        .api()
        .pods()
        .inNamespace(SimulatedCluster.NAMESPACE)
        .withLabel("app.kubernetes.io/name", "pilothouse-proxy")
        .list()
        .getItems()
        .stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getPodIP() != null)
        .map(p -> p.getStatus().getPodIP())
        .findFirst()
        .orElse(null);
  }

  /** "STATUS BODY" of GET / at address:8080, or "-1 ERROR". */
  private static String get(HttpClient http, String address) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://" + address + ":8080/"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (Exception e) {
      return "-1 " + e;
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
