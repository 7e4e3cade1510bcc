package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadGenerator;
import dev.pilothouse.client.load.LoadResult;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Remediation runbooks against real, hung instances, with a real webhook receiver. */
@QuotedFigures
class RemediationTest {
  @TempDir java.nio.file.Path tmp;

  @Test
  void aHungInstanceUnderLoad_isQuarantined_noRequestFails_andARunbookThatCannotHelpEscalates()
      throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer hook =
        com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext(
        "/hook",
        x -> {
          received.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          x.sendResponseHeaders(200, -1);
          x.close();
        });
    hook.start();
    String demo = Harness.demoCommand();
    String spec =
        "proxy: {port: 0}\n"
            + "notifications: {webhooks: ['http://127.0.0.1:"
            + hook.getAddress().getPort()
            + "/hook']}\n"
            + "services:\n"
            + "  shop:\n    "
            + demo
            + "    replicas: 3\n"
            + "    readiness: {http: /readyz, interval: 500ms, timeout: 400ms}\n"
            + "    stop: {timeout: 2s}\n"
            + "    route:\n"
            + "      loadBalancer: round-robin\n"
            + "      timeouts: {request: 500ms}\n"
            // Every request may retry: the requests that reach the hung instance before it is
            // ejected time out together, and under the default budget (20 %, at least 3 at once)
            // a fourth whose timer fires in the same instant gets a 504 — the likeliest reading of
            // one 504 in 450 requests in a full run on 2026-12-03, not reproduced in 7 runs alone
            // or beside busy loops. The budget is not what this test is about.
            + "      retries: {attempts: 2, budget: 1}\n"
            + "      outlierDetection: {consecutiveFailures: 2, baseEjection: 30s}\n"
            + "    remediation:\n"
            + "      - {name: hung, when: {unready: 2s}, actions: [quarantine], verify: 10s}\n"
            + "  worker:\n    "
            + demo
            + "    replicas: 1\n"
            + "    readiness: {http: /readyz, interval: 500ms, timeout: 400ms}\n"
            + "    stop: {timeout: 2s}\n"
            + "    remediation:\n"
            // 'true' exits 0 and changes nothing: the runbook cannot help, and escalates.
            + "      - {name: poke, when: {unready: 2s}, actions: [{command: [true]}], verify: 3s}\n";
    Wire.Instance hung = null;
    Wire.Instance stuck = null;
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec));
      Wire.Service shop = h.awaitReady("shop", 3, Duration.ofSeconds(30));
      stuck = h.awaitReady("worker", 1, Duration.ofSeconds(30)).instances().get(0);
      int port = h.status().proxy().port();
      CompletableFuture<LoadResult> run =
          CompletableFuture.supplyAsync(
              () ->
                  LoadGenerator.run(
                      new LoadGenerator.Options(
                          URI.create("http://127.0.0.1:" + port + "/"),
                          50,
                          Duration.ofSeconds(9),
                          8,
                          Duration.ofSeconds(5)),
                      null));
      Thread.sleep(1500);
      hung = shop.instances().get(0);
      Harness.signal(hung.pid(), "STOP");
      Harness.signal(stuck.pid(), "STOP");
      String hungId = hung.id();
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  h.service("shop").instances().stream()
                      .anyMatch(i -> i.id().equals(hungId) && i.state().equals("quarantined")));
      LoadResult r = run.get();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  h.service("shop").readyReplicas() == 3
                      && h.service("shop").state().equals("running"));
      System.out.println("hung instance under 50 req/s, quarantined: " + r);
      assertThat(r.errors()).isZero();
      assertThat(r.status()).containsOnlyKeys("200");
      assertThat(Harness.alive(hung.pid())).as("kept running for diagnosis").isTrue();
      assertThat(h.service("shop").readyReplicas()).isEqualTo(3);
      List<String> types = h.client().events(0, 2000).stream().map(Wire.Event::type).toList();
      assertThat(types).contains("RemediationStarted", "InstanceQuarantined");

      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> received.stream().anyMatch(b -> b.contains("RemediationEscalated")));
      String page =
          received.stream()
              .filter(b -> b.contains("RemediationEscalated"))
              .findFirst()
              .orElseThrow();
      assertThat(page).contains("worker").contains("poke");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> h.ok("incidents", "-o", "json").out().contains("RemediationFailed"));
    } finally {
      hook.stop(0);
      for (Wire.Instance i : new Wire.Instance[] {hung, stuck}) {
        if (i != null && Harness.alive(i.pid())) {
          Harness.signal(i.pid(), "KILL");
        }
      }
    }
  }
}
