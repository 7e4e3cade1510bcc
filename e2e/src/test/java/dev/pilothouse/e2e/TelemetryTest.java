package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in metrics end to end: the daemon scrapes the demo instances, itself and the host;
 * `pilothouse query`, the Prometheus HTTP API and promtool (Debian's) read them back.
 */
class TelemetryTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();

  static String spec(String maxSamples) {
    return "proxy: {port: 0}\n"
        + "metrics: {scrapeInterval: 1s, scrapeTimeout: 1s"
        + maxSamples
        + "}\n"
        + "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    version: v1\n"
        + "    replicas: 2\n"
        + "    env: {DEMO_VERSION: v1}\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    route: /\n"
        + "    metrics: /metrics\n";
  }

  @Test
  void instancesHostAndDaemon_areScraped_andQueryableByCliApiAndPromtool() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec("")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      HttpClient http = HttpClient.newHttpClient();
      for (int i = 0; i < 20; i++) {
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> h.ok("query", "count(up{job=\"shop\"} == 1)").out().contains("2"));
      JsonNode v =
          JSON.readTree(
              h.ok("query", "sum(demo_requests_total{job=\"shop\"})", "-o", "json").out());
      assertThat(v.path("resultType").asText()).isEqualTo("vector");
      await()
          .atMost(Duration.ofSeconds(15))
          .until(
              () ->
                  JSON.readTree(
                              h.ok("query", "sum(demo_requests_total{job=\"shop\"})", "-o", "json")
                                  .out())
                          .path("result")
                          .path(0)
                          .path("value")
                          .path(1)
                          .asDouble()
                      >= 20);
      String table =
          h.ok("query", "pilothouse_instance_resident_memory_bytes{service=\"shop\"}").out();
      assertThat(table).contains("instance_id=").contains("SERIES");
      assertThat(h.ok("query", "count(node_cpu_seconds_total) > 0").out()).contains("{}");
      assertThat(
              h.ok(
                      "query",
                      "sum(rate(pilothouse_proxy_requests_total[30s]))",
                      "--range",
                      "1m",
                      "--step",
                      "5s")
                  .out())
          .contains("TREND");

      Harness.Result bad = h.cli("query", "sum(rate(x[5m])");
      assertThat(bad.exit()).isEqualTo(1);
      assertThat(bad.err())
          .contains("parse error at char 16: unexpected end of input, expected \")\"");

      String api = h.client().base();
      String token = Files.readString(h.stateDir.resolve("api-token")).trim();
      String auth = api.replace("http://", "http://promtool:" + token + "@");
      List<String> lines = promtool("query", "instant", auth, "up{job=\"shop\"}");
      assertThat(lines).hasSize(2).allMatch(l -> l.contains("=> 1 @["));
      assertThat(promtool("query", "labels", auth, "job")).contains("node", "pilothouse", "shop");
      assertThat(promtool("query", "series", "--match=up{job=\"node\"}", auth)).hasSize(1);
      // start and end narrow the answer, as in Prometheus (a day in 2001: nothing was stored)
      String[] past = {"--start=2001-01-01T00:00:00Z", "--end=2001-01-02T00:00:00Z"};
      assertThat(promtool("query", "series", "--match=up{job=\"node\"}", past[0], past[1], auth))
          .isEmpty();
      assertThat(promtool("query", "labels", past[0], past[1], auth, "job")).isEmpty();
      HttpResponse<String> badStart = get(http, api + "/api/v1/labels?start=abc", token);
      assertThat(badStart.statusCode()).isEqualTo(400);
      assertThat(JSON.readTree(badStart.body()).path("error").asText())
          .isEqualTo("invalid parameter \"start\": cannot parse \"abc\" to a valid timestamp");

      HttpResponse<String> buildinfo = get(http, api + "/api/v1/status/buildinfo", token);
      assertThat(JSON.readTree(buildinfo.body()).path("data").path("version").asText())
          .isEqualTo("2.42.0");
      HttpResponse<String> post =
          http.send(
              HttpRequest.newBuilder(URI.create(api + "/api/v1/query"))
                  .header("Authorization", "Bearer " + token)
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString("query=vector(42)"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.body()).contains("\"status\":\"success\"").contains("\"42\"");
      HttpResponse<String> noToken =
          http.send(
              HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query=up")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(noToken.statusCode()).isEqualTo(401);

      // Scaled down, the stopped instance's series end at once (staleness markers, `up` among
      // them), rather than holding their last value for the five minutes of lookback.
      h.ok("scale", "shop", "1");
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(20)).until(() -> h.service("shop").instances().size() == 1);
      String kept = h.service("shop").instances().get(0).id();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                JsonNode up = JSON.readTree(h.ok("query", "up{job=\"shop\"}", "-o", "json").out());
                return up.path("result").size() == 1
                    && up.path("result")
                        .path(0)
                        .path("metric")
                        .path("instance")
                        .asText()
                        .equals(kept);
              });
    }
  }

  @Test
  void aQueryOverItsSampleBudget_failsClearly_andTheDaemonLivesOn() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec(", queryMaxSamples: 1000")));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> h.ok("query", "count(node_cpu_seconds_total)").out().contains("{}"));
      Thread.sleep(3000);
      Harness.Result big = h.cli("query", "count_over_time({job=~\".+\"}[1h])");
      assertThat(big.exit()).isEqualTo(1);
      assertThat(big.err()).contains("query processing would load too many samples into memory");
      assertThat(h.ok("query", "vector(1)").out()).contains("1");
      assertThat(h.ok("status").exit()).isZero();
    }
  }

  static HttpResponse<String> get(HttpClient http, String url, String token) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static List<String> promtool(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add("/usr/bin/promtool");
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out.lines().filter(l -> !l.isBlank()).toList();
  }
}
