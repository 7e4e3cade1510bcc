package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Autoscaling real instances behind the load balancer, under the built-in load generator. */
@HeavyLoad
@QuotedFigures
class AutoscaleTest {
  @TempDir java.nio.file.Path tmp;

  static CompletableFuture<LoadResult> load(int port, double rate, Duration d) {
    return Harness.load(port, rate, d);
  }

  @Test
  void aLoadStepFrom20To300_isDecidedWithin5s_newCapacityServes_andNoRequestFails()
      throws Exception {
    String spec =
        Harness.routedShop("v1", 1, "")
            + "    autoscale:\n"
            + "      min: 1\n"
            + "      max: 8\n"
            + "      targets: [{requestsPerSecond: 50}]\n"
            + "      warmup: 2s\n";
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      CompletableFuture<LoadResult> base = load(port, 20, Duration.ofSeconds(12));
      Thread.sleep(4000); // 20 req/s settles: one instance carries it
      assertThat(scaled(h)).as("20 req/s fits one instance").isEmpty();
      Instant step = Instant.now();
      CompletableFuture<LoadResult> surge = load(port, 280, Duration.ofSeconds(8));
      await()
          .atMost(Duration.ofSeconds(10))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> !scaled(h).isEmpty());
      Wire.Event first = scaled(h).get(0);
      Instant decided = Instant.parse(first.at());
      double decisionS = Duration.between(step, decided).toMillis() / 1000.0;
      int wanted = Integer.parseInt(first.fields().get("to"));
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> h.service("shop").readyReplicas() >= wanted);
      double capacityS = Duration.between(step, Instant.now()).toMillis() / 1000.0;
      LoadResult a = base.get();
      LoadResult b = surge.get();
      Harness.Result explain = h.ok("scale", "explain", "shop");
      System.out.printf(
          "autoscale step 20 -> 300 req/s: decision %.2f s (1 -> %d), capacity serving %.2f s;"
              + " %s; %s; final count %d%n%s%n",
          decisionS, wanted, capacityS, a, b, h.service("shop").desiredReplicas(), explain.out());
      assertThat(decisionS).isLessThanOrEqualTo(5.0);
      assertThat(a.errors() + b.errors()).isZero();
      assertThat(a.status()).containsOnlyKeys("200");
      assertThat(b.status()).containsOnlyKeys("200");
      // 300 req/s needs 6; the default scale-up policy allows 1 + 4 in the first 15 s.
      assertThat(h.service("shop").desiredReplicas()).isBetween(5, 8);
      assertThat(explain.out()).contains("requestsPerSecond").contains("TARGET");
      assertThat(h.ok("status").out()).contains("AUTOSCALED");
    }
  }

  @Test
  void
      aServiceAtZero_isWokenByARequest_whichTheLoadBalancerHoldsUntilAnInstanceAnswers_andAJvmStartupBurnIsNotLoad()
          throws Exception {
    // Each instance burns a whole core for 4 s once it is up (a JVM's JIT and cache priming):
    // 1,000% of its resources.cpu. Counted, the CPU target would scale it to max at once. The
    // burn is 4 s of CPU time, which on a loaded machine takes longer than 4 s: the warmup is
    // long enough for it to end within (at 6 s, a CI run's burn outlasted it and was counted).
    String spec =
        Harness.routedShop("v1", 1, ", DEMO_STARTUP_BURN_MS: '4000'")
            + "    resources: {cpu: 100m}\n"
            + "    autoscale:\n"
            + "      min: 0\n"
            + "      max: 3\n"
            + "      targets: [{requestsPerSecond: 50}, {cpu: 50%}]\n"
            + "      warmup: 20s\n"
            + "      scaleDown: {stabilization: 0s}\n"
            + "      scaleToZero: {cooldown: 6s, holdTimeout: 20s}\n";
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec));
      int port = h.status().proxy().port();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.service("shop").instances().isEmpty());
      assertThat(h.service("shop").desiredReplicas()).isZero();
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      Instant sent = Instant.now();
      java.net.http.HttpResponse<String> r =
          http.send(
              java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                  .timeout(Duration.ofSeconds(25))
                  .build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      double coldS = Duration.between(sent, Instant.now()).toMillis() / 1000.0;
      System.out.printf("scale from zero: first request answered after %.2f s%n", coldS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).startsWith("hello from v1");
      assertThat(scaled(h))
          .anyMatch(
              e -> e.fields().get("state").equals("waking") && e.fields().get("to").equals("1"));
      assertThat(scaled(h))
          .anyMatch(e -> e.fields().get("from").equals("1") && e.fields().get("to").equals("0"));
      Wire.Instance woken = h.service("shop").instances().get(0);
      String explain = h.ok("scale", "explain", "shop", "-o", "json").out();
      assertThat(explain).contains("not ready or warming up, not trusted");
      // The burn was real: the woken instance's process used seconds of CPU. A request every
      // half second (1 req/s of 50 per instance) keeps it from scaling back to zero meanwhile.
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(500))
          .until(
              () -> {
                http.send(
                    java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/"))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
                return cpuSeconds(woken.pid()) >= 2.0;
              });
      assertThat(scaled(h))
          .as("the start-up burn never counted as load")
          .allMatch(e -> Integer.parseInt(e.fields().get("to")) <= 1);
    }
  }

  /** CPU seconds (user + system) a process has used, from /proc. */
  static double cpuSeconds(long pid) throws java.io.IOException {
    java.nio.file.Path p = java.nio.file.Path.of("/proc/" + pid + "/stat");
    if (!java.nio.file.Files.exists(p)) {
      return -1; // gone (scaled back to zero before it burned for long)
    }
    String stat = java.nio.file.Files.readString(p);
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  private static List<Wire.Event> scaled(Harness h) {
    return h.client().events(0, 1000).stream().filter(e -> e.type().equals("Scaled")).toList();
  }
}
