package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadGenerator;
import dev.pilothouse.client.load.LoadResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in load balancer in front of real instances, under constant load. */
@HeavyLoad
@QuotedFigures
class LoadBalancerTest {
  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  static String spec(int replicas) {
    return "proxy: {port: 0}\n"
        + "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    replicas: "
        + replicas
        + "\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    restart: {initialBackoff: 100ms}\n"
        + "    stop: {timeout: 5s, drainTimeout: 10s}\n"
        + "    route: {pathPrefix: /, timeouts: {request: 5s}}\n";
  }

  static int proxyPort(Harness h) {
    Wire.Status s = h.status();
    assertThat(s.proxy().listening()).as(s.proxy().error()).isTrue();
    return s.proxy().port();
  }

  CompletableFuture<LoadResult> load(int port, double rate, Duration d) {
    return CompletableFuture.supplyAsync(
        () ->
            LoadGenerator.run(
                new LoadGenerator.Options(
                    URI.create("http://127.0.0.1:" + port + "/"),
                    rate,
                    d,
                    8,
                    Duration.ofSeconds(5)),
                null));
  }

  @Test
  void aTakenPort_failsUpWithTheReason_andTheLoadBalancerListensOnceItIsFree() throws Exception {
    java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    int port = taken.getLocalPort();
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("shop.yaml", spec(1).replace("port: 0", "port: " + port));
      Harness.Result up =
          h.cli("up", "-f", spec.toString(), "--detach", "--api-port", "0", "--timeout", "60");
      assertThat(up.exit()).as(up.out() + up.err()).isEqualTo(1);
      assertThat(up.err())
          .contains("error: the load balancer is not listening: cannot listen on 127.0.0.1:" + port)
          .contains("Address already in use");
      assertThat(h.service("shop").readyReplicas()).as("the services run meanwhile").isEqualTo(1);
      taken.close();
      await() // the daemon tries again every 5 s
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(250))
          .until(() -> h.status().proxy().listening());
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      taken.close();
    }
  }

  @Test
  void instanceKilledUnderLoad_thenScaledDownWithDrain_noRequestFails() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec(3)));
      Wire.Service s = h.awaitReady("shop", 3, Duration.ofSeconds(30));
      int port = proxyPort(h);
      await().atMost(Duration.ofSeconds(5)).until(() -> get(port).statusCode() == 200);
      CompletableFuture<LoadResult> run = load(port, 100, Duration.ofSeconds(6));
      Thread.sleep(2000);
      Harness.signal(s.instances().get(0).pid(), "KILL");
      LoadResult r = run.get();
      System.out.println("kill -9 under load: " + r);
      assertThat(r.errors()).isZero();
      assertThat(r.status()).containsOnlyKeys("200");
      assertThat(r.requests()).isEqualTo(600);
      h.awaitReady("shop", 3, Duration.ofSeconds(30));

      // scaled down 3 -> 1 under load: the two stopped are drained first
      CompletableFuture<LoadResult> more = load(port, 100, Duration.ofMillis(4500));
      Thread.sleep(1500);
      h.ok("scale", "shop", "1");
      LoadResult down = more.get();
      System.out.println("scale 3 -> 1 under load: " + down);
      assertThat(down.errors()).isZero();
      assertThat(down.status()).containsOnlyKeys("200");
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
    }
  }

  @Test
  void daemonKilledUnderLoad_theLoadBalancerKeepsServing_andTheNextDaemonReadoptsIt()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("shop.yaml", spec(2));
      h.up(spec);
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      int port = proxyPort(h);
      long proxy = h.status().proxy().pid();
      await().atMost(Duration.ofSeconds(5)).until(() -> get(port).statusCode() == 200);
      CompletableFuture<LoadResult> run = load(port, 200, Duration.ofSeconds(12));
      Thread.sleep(2000);
      long daemon = h.daemonPid();
      Harness.signal(daemon, "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(daemon));
      h.up(spec);
      LoadResult r = run.get();
      System.out.println("daemon kill -9 and up under 200 req/s: " + r);

      assertThat(r.errors()).isZero();
      assertThat(r.status()).containsOnlyKeys("200");
      assertThat(r.requests()).isEqualTo(2400);
      Wire.Status after = h.status();
      assertThat(after.pid()).isNotEqualTo(daemon);
      assertThat(after.proxy().pid()).isEqualTo(proxy);
      assertThat(after.proxy().port()).isEqualTo(port);
      assertThat(after.proxy().health()).isEqualTo("serving");
      assertThat(h.ok("events", "--limit", "50").out()).contains("ProxyAdopted");

      long standby = after.proxy().standbyPid();
      h.ok("down");
      assertThat(Harness.alive(proxy)).as("down stops the load balancer").isFalse();
      assertThat(h.proxyPid()).isEmpty();
      assertThat(standby == 0 || !Harness.alive(standby)).as("and its standby").isTrue();
    }
  }

  @Test
  void loadBalancerKilledUnderLoad_isReplaced_andTrafficIsBackWithinTwoSeconds() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec(2)));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      int port = proxyPort(h);
      long proxy = h.status().proxy().pid();
      await().atMost(Duration.ofSeconds(5)).until(() -> get(port).statusCode() == 200);
      // The claim is the standby's: it must be up (warmed) before the kill.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.status().proxy().standbyPid() > 0);
      CompletableFuture<LoadResult> run = load(port, 200, Duration.ofSeconds(8));
      Thread.sleep(2000);
      Harness.signal(proxy, "KILL");
      long killed = System.nanoTime();
      // Traffic is back when a request sent then is served: timed from its sending, not from its
      // answer (under the load and on a busy machine an answer alone can take most of a second).
      java.util.concurrent.atomic.AtomicLong servedSentAt =
          new java.util.concurrent.atomic.AtomicLong();
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () -> {
                long sent = System.nanoTime();
                if (getQuietly(port) != 200) {
                  return false;
                }
                servedSentAt.set(sent);
                return true;
              });
      long backMs = (servedSentAt.get() - killed) / 1_000_000;
      LoadResult r = run.get();
      System.out.println(
          "load balancer kill -9 under 200 req/s: traffic back after " + backMs + " ms; " + r);

      Wire.Status after = h.status();
      assertThat(after.proxy().pid()).isNotEqualTo(proxy).isPositive();
      assertThat(after.proxy().port()).isEqualTo(port);
      assertThat(backMs).isLessThan(2000);
      assertThat(h.ok("events", "--limit", "50").out()).contains("ProxyExited", "ProxyStarted");
    }
  }

  int getQuietly(int port) {
    try {
      return get(port).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  @Test
  void quickStartExample_answersOnPort8080_withMetricsAtTheApiAndAnAccessLog() throws Exception {
    Path example =
        Path.of(Harness.LIB)
            .toAbsolutePath()
            .normalize()
            .getParent()
            .getParent()
            .getParent()
            .resolve("examples/shop.yaml");
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.remove("PILOTHOUSE_DAEMON_NICE"); // the daemon's CPU share as users get it
      Harness.Result r =
          h.ok("up", "-f", example.toString(), "--detach", "--api-port", "0", "--timeout", "90");
      assertThat(r.out()).contains("curl http://localhost:8080/");
      h.awaitReady("shop", 3, Duration.ofSeconds(60));
      assertThat(proxyPort(h)).isEqualTo(8080);
      if (Files.isRegularFile(Path.of("/proc/self/autogroup"))
          && !Files.readString(Path.of("/proc/sys/kernel/sched_autogroup_enabled"))
              .trim()
              .equals("0")) {
        // The daemon yields the CPU: its scheduling group is niced, the load balancer's is not.
        assertThat(Files.readString(Path.of("/proc", Long.toString(h.daemonPid()), "autogroup")))
            .endsWith("nice 10\n");
        assertThat(
                Files.readString(
                    Path.of("/proc", Long.toString(h.proxyPid().orElseThrow()), "autogroup")))
            .endsWith("nice 0\n");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> get(8080).statusCode() == 200);
      assertThat(get(8080).body()).startsWith("hello from v1 (shop-");
      String metrics = h.client().getText("/metrics");
      assertThat(metrics)
          .contains("pilothouse_proxy_requests_total{route=\"shop\",service=\"shop\"")
          .contains("pilothouse_instances_ready{service=\"shop\"} 3");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  Files.exists(h.stateDir.resolve("logs/access.log"))
                      && Files.readString(h.stateDir.resolve("logs/access.log"))
                          .contains("\"route\":\"shop\""));
    }
  }

  @Test
  void hungInstanceUnderLoad_isEjectedAndReplaced_noRequestFails() throws Exception {
    String spec =
        "proxy: {port: 0}\n"
            + "services:\n  shop:\n    "
            + Harness.demoCommand()
            + "    replicas: 3\n"
            + "    readiness: {http: /readyz, interval: 1s}\n"
            + "    liveness: {http: /healthz, interval: 500ms, timeout: 500ms, failureThreshold: 3}\n"
            + "    stop: {timeout: 2s}\n"
            + "    route:\n"
            // Round robin keeps sending the hung instance its share until it is ejected:
            // least-request would avoid it while one request hangs there, and readiness could
            // take it out of the route before a second request timed out.
            + "      loadBalancer: round-robin\n"
            + "      timeouts: {request: 500ms}\n"
            + "      outlierDetection: {consecutiveFailures: 2, baseEjection: 30s}\n";
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec));
      Wire.Service s = h.awaitReady("shop", 3, Duration.ofSeconds(30));
      int port = proxyPort(h);
      await().atMost(Duration.ofSeconds(5)).until(() -> get(port).statusCode() == 200);
      CompletableFuture<LoadResult> run = load(port, 50, Duration.ofSeconds(8));
      Thread.sleep(1500);
      Wire.Instance hung = s.instances().get(0);
      Harness.signal(hung.pid(), "STOP");
      LoadResult r = run.get();
      System.out.println("SIGSTOP under load: " + r);
      assertThat(r.errors()).isZero();
      assertThat(r.status()).containsOnlyKeys("200");
      await().atMost(Duration.ofSeconds(20)).until(() -> !Harness.alive(hung.pid()));
      h.awaitReady("shop", 3, Duration.ofSeconds(30));
      assertThat(h.client().getText("/metrics"))
          .containsPattern(
              "pilothouse_proxy_ejections_total\\{[^}]*instance=\"" + hung.id() + "\"\\} 1");
    }
  }

  HttpResponse<String> get(int port) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
