package dev.pilothouse.client.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {
  HttpServer server;
  final AtomicInteger hits = new AtomicInteger();
  final java.util.Set<String> hosts = java.util.concurrent.ConcurrentHashMap.newKeySet();
  volatile long delayMs;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        ex -> {
          int n = hits.incrementAndGet();
          hosts.add(ex.getRequestHeaders().getFirst("Host"));
          try {
            Thread.sleep(delayMs);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          int code = n % 10 == 0 ? 503 : 200;
          ex.sendResponseHeaders(code, 2);
          ex.getResponseBody().write("ok".getBytes());
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/x");
  }

  @Test
  void sendsTheGivenHostHeader_elseTheUrls() {
    LoadGenerator.run(
        new LoadGenerator.Options(
            uri(), 50, Duration.ofMillis(200), 1, Duration.ofSeconds(5), "shop.example"),
        null);
    assertThat(hosts).containsExactly("shop.example");
    hosts.clear();
    LoadGenerator.run(
        new LoadGenerator.Options(uri(), 50, Duration.ofMillis(200), 1, Duration.ofSeconds(5)),
        null);
    assertThat(hosts).containsExactly("127.0.0.1:" + server.getAddress().getPort());
  }

  @Test
  void sendsAtTheConstantRate_andCountsStatuses() {
    LoadResult r =
        LoadGenerator.run(
            new LoadGenerator.Options(uri(), 200, Duration.ofSeconds(2), 4, Duration.ofSeconds(5)),
            null);
    assertThat(r.requests()).isEqualTo(400);
    assertThat(r.errors()).isZero();
    assertThat(r.status()).containsEntry("200", 360L).containsEntry("503", 40L);
    assertThat(r.serverErrors()).isEqualTo(40);
    assertThat(r.durationS()).isBetween(1.9, 3.5);
    assertThat(r.latencyMs()).containsKeys("p50", "p90", "p99", "p999", "max", "mean");
  }

  @Test
  void slowServer_latencyIncludesQueueingFromIntendedStart() {
    // One connection, 50 ms per request, 40 requests/s: the server can do only 20/s, so
    // requests queue and their latency (from intended start) grows far above 50 ms.
    delayMs = 50;
    LoadResult r =
        LoadGenerator.run(
            new LoadGenerator.Options(uri(), 40, Duration.ofSeconds(2), 1, Duration.ofSeconds(10)),
            null);
    assertThat(r.requests()).isEqualTo(80);
    assertThat(r.latencyMs().get("p99")).isGreaterThan(1000.0);
    assertThat(r.latencyMs().get("p50")).isGreaterThan(200.0);
  }

  @Test
  void deadServer_countsTransportErrors() {
    int port = server.getAddress().getPort();
    server.stop(0);
    LoadResult r =
        LoadGenerator.run(
            new LoadGenerator.Options(
                URI.create("http://127.0.0.1:" + port + "/"),
                50,
                Duration.ofSeconds(1),
                2,
                Duration.ofMillis(500)),
            null);
    assertThat(r.requests()).isZero();
    assertThat(r.errors()).isEqualTo(50);
  }

  @Test
  void rejectsBadOptions() {
    assertThatThrownBy(
            () ->
                new LoadGenerator.Options(
                    URI.create("https://x/"), 1, Duration.ofSeconds(1), 1, Duration.ofSeconds(1)))
        .hasMessageContaining("only http://");
    assertThatThrownBy(
            () ->
                new LoadGenerator.Options(
                    uri(), 0, Duration.ofSeconds(1), 1, Duration.ofSeconds(1)))
        .hasMessageContaining("rate must be");
  }
}
