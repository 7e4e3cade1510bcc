package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pilothouse.client.load.LoadResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon reads its PromQL from an external Prometheus-compatible API (metrics.source): real
 * Prometheus and VictoriaMetrics from Debian's packages, each holding a series the daemon's own
 * store does not have. A canary's PromQL check and an alert rule decide on it.
 */
class ExternalMetricsTest {
  @TempDir Path tmp;

  private static Process start(Path log, String... cmd) throws Exception {
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static void stop(Process p) throws InterruptedException {
    if (p != null) {
      p.destroy();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static String get(String url) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static String spec(String version, String source, String check) {
    return Harness.routedShop(version, 2, "")
        + "    strategy:\n"
        + "      type: canary\n"
        + "      steps: [{weight: 50}, {analysis: 2s}]\n"
        + "      maxAnalysisWait: 20s\n"
        + "      checks: [{name: external, promql: '"
        + check
        + "'}]\n"
        + "metrics: {hostMetrics: false, source: {url: '"
        + source
        + "', timeout: 5s}}\n"
        + "alerting: {ruleFiles: [rules/*.yml]}\n";
  }

  private static boolean firing(Harness h, String alert) {
    return StreamSupport.stream(h.client().alerts().path("alerts").spliterator(), false)
        .anyMatch(
            a ->
                a.path("labels").path("alertname").asText().equals(alert)
                    && a.path("state").asText().equals("firing"));
  }

  @Test
  void checksAndRulesReadPrometheus_thenVictoriaMetrics() throws Exception {
    int promPort = RemoteWriteTest.freePort();
    int vmPort = RemoteWriteTest.freePort();
    String prom = "http://127.0.0.1:" + promPort;
    String vm = "http://127.0.0.1:" + vmPort;
    // A series only Prometheus has: a recording rule of its own.
    Files.writeString(
        tmp.resolve("prom-rules.yml"),
        "groups:\n- name: marker\n  interval: 1s\n  rules:\n"
            + "  - record: external_only_marker\n    expr: vector(7)\n");
    Files.writeString(
        tmp.resolve("prometheus.yml"),
        "global: {evaluation_interval: 1s}\nrule_files: ['"
            + tmp.resolve("prom-rules.yml")
            + "']\n");
    Files.createDirectories(tmp.resolve("rules"));
    Files.writeString(
        tmp.resolve("rules/external.yml"),
        "groups:\n- name: external\n  interval: 1s\n  rules:\n"
            + "  - alert: ExternalMarker\n    expr: external_only_marker == 7\n"
            + "  - alert: VmMarker\n    expr: vm_only_marker == 9\n");
    Process prometheus = null;
    Process victoria = null;
    try (Harness h = new Harness(tmp)) {
      prometheus =
          start(
              tmp.resolve("prometheus.log"),
              "/usr/bin/prometheus",
              "--config.file=" + tmp.resolve("prometheus.yml"),
              "--storage.tsdb.path=" + tmp.resolve("prom-data"),
              "--web.listen-address=127.0.0.1:" + promPort);
      victoria =
          start(
              tmp.resolve("victoria.log"),
              "/usr/bin/victoria-metrics",
              "-storageDataPath=" + tmp.resolve("vm-data"),
              "-httpListenAddr=127.0.0.1:" + vmPort,
              "-search.latencyOffset=0s",
              "-search.disableCache");
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> get(prom + "/api/v1/query?query=external_only_marker").contains("\"7\""));

      h.up(h.writeSpec("shop.yaml", spec("v1", prom, "external_only_marker > 5")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      // The daemon's own store has no such series; its rule and check read Prometheus's.
      JsonNode own =
          new com.fasterxml.jackson.databind.ObjectMapper()
              .readTree(h.ok("query", "external_only_marker", "-o", "json").out());
      assertThat(own.has("result") ? own.get("result") : own.path("data").path("result")).isEmpty();
      await().atMost(Duration.ofSeconds(20)).until(() -> firing(h, "ExternalMarker"));

      // A canary whose check holds on Prometheus's data is promoted; one whose check fails there
      // is rolled back, naming the value Prometheus gave.
      int port = h.status().proxy().port();
      CompletableFuture<LoadResult> load = Harness.load(port, 50, Duration.ofSeconds(12));
      h.ok(
          "apply",
          "-f",
          h.writeSpec("shop.yaml", spec("v2", prom, "external_only_marker > 5")).toString());
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> List.of("Promoted", "RolledBack").contains(h.client().rollout("shop").phase()));
      assertThat(h.client().rollout("shop").phase()).isEqualTo("Promoted");
      load.get();
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      load = Harness.load(port, 50, Duration.ofSeconds(12));
      h.ok(
          "apply",
          "-f",
          h.writeSpec("shop.yaml", spec("v3", prom, "external_only_marker > 100")).toString());
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> List.of("Promoted", "RolledBack").contains(h.client().rollout("shop").phase()));
      var bad = h.client().rollout("shop");
      assertThat(bad.phase()).isEqualTo("RolledBack");
      assertThat(bad.reason()).contains("external").contains("7");
      load.get();

      // VictoriaMetrics: a series imported into it alone.
      HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create(vm + "/api/v1/import/prometheus"))
                  .POST(HttpRequest.BodyPublishers.ofString("vm_only_marker 9\n"))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .ignoreExceptions()
          .until(() -> get(vm + "/api/v1/query?query=vm_only_marker").contains("\"9\""));
      // (v2 is the stable version after the rollback: no rollout, only the source changes)
      h.ok(
          "apply", "-f", h.writeSpec("shop.yaml", spec("v2", vm, "vm_only_marker > 5")).toString());
      await().atMost(Duration.ofSeconds(20)).until(() -> firing(h, "VmMarker"));
      await().atMost(Duration.ofSeconds(20)).until(() -> !firing(h, "ExternalMarker"));

      // A source that does not answer: the rule says why, naming it.
      int closed = RemoteWriteTest.freePort();
      h.ok(
          "apply",
          "-f",
          h.writeSpec("shop.yaml", spec("v2", "http://127.0.0.1:" + closed, "up > 0")).toString());
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () -> {
                for (JsonNode g : h.client().rules().path("groups")) {
                  if (g.path("name").asText().equals("external")
                      && g.path("rules").get(0).path("lastError").asText().contains(":" + closed)) {
                    return true;
                  }
                }
                return false;
              });
    } finally {
      stop(prometheus);
      stop(victoria);
    }
  }
}
