package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Canary deploys of the demo service under constant load from the load generator. */
@HeavyLoad
@QuotedFigures
class RolloutTest {
  @TempDir Path tmp;

  static String notifyTo = "";

  static String spec(String version, String extraEnv, String analysis) {
    return "proxy: {port: 0}\n"
        + notifyTo
        + "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    version: "
        + version
        + "\n"
        + "    replicas: 2\n"
        + "    env: {DEMO_VERSION: "
        + version
        + extraEnv
        + "}\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    route: /\n"
        + "    strategy:\n"
        + "      type: canary\n"
        + "      steps: [{weight: 50}, {analysis: "
        + analysis
        + "}]\n"
        + "      maxAnalysisWait: 30s\n";
  }

  CompletableFuture<LoadResult> load(Harness h, Duration d) {
    return Harness.load(h.status().proxy().port(), 100, d);
  }

  Wire.Rollout awaitDone(Harness h) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> List.of("Promoted", "RolledBack").contains(h.client().rollout("shop").phase()));
    return h.client().rollout("shop");
  }

  static Instant at(List<Wire.Event> events, String type) {
    return events.stream()
        .filter(e -> e.type().equals(type))
        .map(e -> Instant.parse(e.at()))
        .reduce((a, b) -> b)
        .orElseThrow();
  }

  @Test
  void badCanaryWith30PercentErrors_isRolledBack_andFewUsersSeeErrors() throws Exception {
    List<String> hooks = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer receiver =
        com.sun.net.httpserver.HttpServer.create(
            new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 16);
    receiver.createContext(
        "/hook",
        ex -> {
          hooks.add(
              new String(
                  ex.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    receiver.start();
    notifyTo =
        "notifications: {webhooks: ['http://127.0.0.1:"
            + receiver.getAddress().getPort()
            + "/hook']}\n";
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", "", "5s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(15));
      Thread.sleep(1000);
      h.ok(
          "apply",
          "-f",
          h.writeSpec("v2.yaml", spec("v2", ", DEMO_ERROR_RATE: '0.3'", "5s")).toString());
      Wire.Rollout r = awaitDone(h);
      assertThat(r.phase()).isEqualTo("RolledBack");
      assertThat(r.reason()).startsWith("error rate higher: canary ");
      assertThat(r.verdicts()).anySatisfy(v -> assertThat(v.outcome()).isEqualTo("fail"));
      LoadResult load = run.get();
      List<Wire.Event> events = h.client().events(-1, 500);
      long ms =
          Duration.between(at(events, "RolloutStep"), at(events, "RolloutRolledBack")).toMillis();
      System.out.println(
          "bad canary: back on stable " + ms + " ms after getting traffic; load " + load);
      assertThat(ms).isLessThanOrEqualTo(10_000);
      assertThat(load.errors()).isZero();
      // about weight (50%) x error rate (30%) x time with traffic (~5 s of 15 s): far below 15%
      assertThat(load.serverErrors()).isPositive().isLessThan(load.requests() * 15 / 100);
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      assertThat(h.service("shop").instances())
          .allSatisfy(i -> assertThat(i.version()).isEqualTo("v1"));
      assertThat(h.status().revision()).as("the rollback is a revision of its own").isEqualTo(3);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> hooks.stream().anyMatch(b -> b.contains("\"type\":\"RolloutRolledBack\"")));
      assertThat(hooks).anySatisfy(b -> assertThat(b).contains("\"type\":\"RolloutStarted\""));
    } finally {
      notifyTo = "";
      receiver.stop(0);
    }
  }

  @Test
  void slowCanary_isRolledBackOnLatency() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", "", "5s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(15));
      Thread.sleep(1000);
      h.ok(
          "apply",
          "-f",
          h.writeSpec("v2.yaml", spec("v2", ", DEMO_LATENCY_MS: '300'", "5s")).toString());
      Wire.Rollout r = awaitDone(h);
      assertThat(r.phase()).isEqualTo("RolledBack");
      assertThat(r.reason()).startsWith("latency higher: ");
      assertThat(run.get().errors()).isZero();
    }
  }

  @Test
  void goodCanary_isPromoted_withoutAFailedRequest() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", "", "5s")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(15));
      Thread.sleep(1000);
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2", "", "5s")).toString());
      Wire.Rollout r = awaitDone(h);
      assertThat(r.phase()).isEqualTo("Promoted");
      LoadResult load = run.get();
      System.out.println("good canary: " + load);
      assertThat(load.errors()).isZero();
      assertThat(load.status()).containsOnlyKeys("200");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  h.service("shop").instances().stream()
                          .allMatch(i -> i.version().equals("v2") && i.ready())
                      && h.service("shop").instances().size() == 2);
      Harness.Result json = h.ok("rollout", "status", "shop", "-o", "json");
      assertThat(json.out()).contains("\"phase\" : \"Promoted\"").contains("\"reason\"");
    }
  }

  @Test
  void daemonKilledMidRollout_resumesAndFinishes() throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path v1 = h.writeSpec("v1.yaml", spec("v1", "", "8s"));
      h.up(v1);
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = load(h, Duration.ofSeconds(6));
      Thread.sleep(1000);
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2", "", "8s")).toString());
      await().atMost(Duration.ofSeconds(20)).until(() -> h.client().rollout("shop").weight() == 50);
      long daemon = h.daemonPid();
      Harness.signal(daemon, "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(daemon));
      h.up(v1.resolveSibling("v2.yaml")); // same desired state: nothing new to apply
      // The load balancer kept serving through the daemon's death: the same port.
      CompletableFuture<LoadResult> after = load(h, Duration.ofSeconds(15));
      Wire.Rollout r = awaitDone(h);
      assertThat(r.phase()).isEqualTo("Promoted");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  h.service("shop").instances().stream()
                          .allMatch(i -> i.version().equals("v2") && i.ready())
                      && h.service("shop").instances().size() == 2);
      assertThat(h.ownedProcesses()).hasSize(2);
      LoadResult during = run.get();
      System.out.println("load through a daemon kill -9 mid-rollout: " + during);
      assertThat(during.requests()).isPositive();
      assertThat(during.errors()).isZero();
      assertThat(after.get().errors()).isZero();
    }
  }
}
