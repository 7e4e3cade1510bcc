package dev.pilothouse.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How answers of a Prometheus-compatible API are read, and every way one can fail. The server here
 * answers as Prometheus's API does (its documented JSON); it stands in for the failures a real
 * Prometheus cannot be made to give on demand (garbage, oversize, silence). Real Prometheus and
 * VictoriaMetrics are asked in e2e's ExternalMetricsTest.
 */
class PrometheusApiTest {
  HttpServer server;
  final AtomicReference<String> body = new AtomicReference<>("");
  final AtomicReference<String> asked = new AtomicReference<>("");
  final AtomicReference<String> auth = new AtomicReference<>("");
  final AtomicReference<String> tenant = new AtomicReference<>("");
  volatile int status = 200;
  volatile long delayMs;

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  PrometheusApi api(String token, Duration timeout) throws Exception {
    return api(token, Map.of(), timeout);
  }

  PrometheusApi api(String token, Map<String, String> headers, Duration timeout) throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(
        "/prom",
        ex -> {
          asked.set(ex.getRequestURI().toString());
          auth.set(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
          tenant.set(String.valueOf(ex.getRequestHeaders().getFirst("X-Scope-OrgID")));
          try {
            Thread.sleep(delayMs);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
          try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
          }
        });
    server.start();
    return new PrometheusApi(
        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/prom/"),
        token,
        headers,
        timeout);
  }

  @Test
  void vectorsAndScalars_areRead_withTheTimeAndTheToken() throws Exception {
    PrometheusApi api = api("s3cret", Map.of("X-Scope-OrgID", "tenant-1"), Duration.ofSeconds(5));
    body.set(
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
            + "{\"metric\":{\"job\":\"a\"},\"value\":[1700000000.5,\"0.25\"]},"
            + "{\"metric\":{\"job\":\"b\"},\"value\":[1700000000.5,\"NaN\"]}]}}");
    var r = api.query("rate(x[1m]) > 0", Instant.ofEpochMilli(1_700_000_000_500L));
    assertThat(r).hasSize(2);
    assertThat(r.get(0)).isEqualTo(new PrometheusApi.Sample(Map.of("job", "a"), 0.25));
    assertThat(r.get(1).value()).isNaN();
    assertThat(asked.get())
        .isEqualTo("/prom/api/v1/query?query=rate%28x%5B1m%5D%29+%3E+0&time=1700000000.500");
    assertThat(auth.get()).isEqualTo("Bearer s3cret");
    assertThat(tenant.get()).isEqualTo("tenant-1");
    body.set(
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"+Inf\"]}}");
    assertThat(api.query("1/0", Instant.EPOCH))
        .containsExactly(new PrometheusApi.Sample(Map.of(), Double.POSITIVE_INFINITY));
  }

  @Test
  void failures_nameTheSource_andWhatItSaid() throws Exception {
    PrometheusApi api = api("", Duration.ofMillis(500));
    String where = "metrics source http://127.0.0.1:" + server.getAddress().getPort() + "/prom";
    status = 400;
    body.set("{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"parse error at 3\"}");
    assertThatThrownBy(() -> api.query("x +", Instant.EPOCH))
        .hasMessage(where + " (HTTP 400) refused the query: bad_data: parse error at 3");
    assertThat(auth.get()).isEqualTo("null"); // no token, no header
    status = 502;
    body.set("<html>bad gateway</html>");
    assertThatThrownBy(() -> api.query("x", Instant.EPOCH))
        .hasMessage(where + " answered HTTP 502 without JSON");
    status = 200;
    body.set("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}");
    assertThatThrownBy(() -> api.query("x[1m]", Instant.EPOCH))
        .hasMessageContaining("gave a matrix; an instant vector or a scalar is needed");
    body.set("x".repeat((int) PrometheusApi.MAX_BODY + 10));
    assertThatThrownBy(() -> api.query("x", Instant.EPOCH))
        .hasMessageContaining("answered more than 16 MiB");
    body.set("{}");
    delayMs = 2000;
    assertThatThrownBy(() -> api.query("x", Instant.EPOCH))
        .hasMessageStartingWith(where + " did not answer");
  }
}
