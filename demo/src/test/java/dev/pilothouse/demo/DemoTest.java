package dev.pilothouse.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The demo service's endpoints and fault knobs, over real sockets. */
class DemoTest {
  final HttpClient http = HttpClient.newHttpClient();
  HttpServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  String base() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void answersWithItsVersion_andCountsRequestsInPrometheusFormat() throws Exception {
    server = Main.start(0, Map.of("DEMO_VERSION", "v7", "PILOTHOUSE_INSTANCE_ID", "shop-1"));
    HttpResponse<String> r = get("/");
    assertThat(r.body()).isEqualTo("hello from v7 (shop-1)\n");
    assertThat(r.headers().firstValue("x-version")).contains("v7");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    String metrics = get("/metrics").body();
    assertThat(metrics)
        .contains("# TYPE demo_requests_total counter")
        .contains("demo_requests_total{code=\"200\",version=\"v7\"} 1")
        .contains("demo_request_duration_seconds_bucket{le=\"+Inf\"} 1")
        .contains("demo_request_duration_seconds_count 1");
  }

  @Test
  void call_asksTheUpstream_andSaysWhatItAnswered_orThatItTimedOut() throws Exception {
    HttpServer up = Main.start(0, Map.of("DEMO_ERROR_RATE", "1.0"));
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0)) {
      server =
          Main.start(
              0, Map.of("DEMO_UPSTREAM", "http://127.0.0.1:" + up.getAddress().getPort() + "/"));
      assertThat(get("/call").body()).isEqualTo("upstream 500\n");
      server.stop(0);
      // An upstream that accepts and never answers: the call gives up after 2 s.
      server =
          Main.start(0, Map.of("DEMO_UPSTREAM", "http://127.0.0.1:" + silent.getLocalPort() + "/"));
      HttpResponse<String> r = get("/call");
      assertThat(r.statusCode()).isEqualTo(504);
      assertThat(r.body()).isEqualTo("upstream timed out\n");
    } finally {
      up.stop(0);
    }
  }

  @Test
  void faultsFromEnv_errorRateAndSlowStart() throws Exception {
    server = Main.start(0, Map.of("DEMO_ERROR_RATE", "1.0", "DEMO_SLOW_START_S", "1"));
    assertThat(get("/").statusCode()).isEqualTo(500);
    assertThat(get("/readyz").statusCode()).isEqualTo(503);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> get("/readyz").statusCode() == 200);
  }

  @Test
  void faultsAtRunTime_latencyErrorsAndHang() throws Exception {
    server = Main.start(0, Map.of());
    assertThat(post("/admin/faults", "{\"latency_ms\": 200, \"error_rate\": 0.5}").body())
        .contains("\"latency_ms\":200")
        .contains("\"error_rate\":0.5");
    long t0 = System.nanoTime();
    get("/");
    assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(200);
    int errors = 0;
    post("/admin/faults", "latency_ms=0");
    for (int i = 0; i < 200; i++) {
      errors += get("/").statusCode() == 500 ? 1 : 0;
    }
    assertThat(errors).isBetween(60, 140); // Binomial(200, 0.5), far beyond 5 sd
    assertThat(post("/admin/faults", "{\"error_rate\": 2}").statusCode()).isEqualTo(400);
    post("/admin/faults", "{\"hang\": true}");
    HttpRequest slow =
        HttpRequest.newBuilder(URI.create(base() + "/healthz"))
            .timeout(Duration.ofMillis(500))
            .build();
    try {
      http.send(slow, HttpResponse.BodyHandlers.ofString());
      throw new AssertionError("a hung demo must not answer");
    } catch (HttpTimeoutException expected) {
      // hung, as asked
    }
  }

  @Test
  void crashAfter_exitsTheProcessWithCode1() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName())
            .redirectErrorStream(true);
    pb.environment().putAll(Map.of("PORT", "0", "DEMO_CRASH_AFTER_S", "1"));
    Process p = pb.start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(new String(p.getInputStream().readAllBytes())).contains("crashing as configured");
  }

  @Test
  void memoryGrowth_isAcceptedAndReported() throws Exception {
    server = Main.start(0, Map.of("DEMO_MEMORY_GROWTH_MB_PER_S", "1"));
    assertThat(get("/admin/faults").body()).contains("\"memory_growth_mb_per_s\":1.0");
    assertThat(List.of(200)).contains(get("/").statusCode());
  }
}
