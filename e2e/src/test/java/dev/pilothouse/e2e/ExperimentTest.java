package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An A/B test as a user runs it (examples/shop-ab.yaml with a free port, one instance per variant,
 * a 1 s scrape and a smaller sample size): each user always sees one variant, traffic splits by
 * weight, per-variant results come from the metrics store with effects and intervals, the
 * experiment concludes at its sample size with the better variant as leader, and promoting it
 * deploys that variant's version to the service.
 */
class ExperimentTest {
  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  HttpResponse<String> get(int port, String path, String user) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("x-user", user)
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Over the API (polled); the CLI's -o json is checked once. */
  static JsonNode status(Harness h) {
    return h.client().experiments("checkout-button");
  }

  @Test
  void abTest_keepsEachUserOnAVariant_concludesAtItsSampleSize_andPromotesTheWinner()
      throws Exception {
    String spec =
        Files.readString(MigrationTest.example("shop-ab.yaml"))
            .replace("port: 8080", "port: 0")
            .replace("scrapeInterval: 5s", "scrapeInterval: 1s")
            .replace("replicas: 2", "replicas: 1")
            .replace("minSamples: 1500", "minSamples: 600");
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop-ab.yaml", spec));
      h.awaitReady("shop", 1, Duration.ofSeconds(60));
      h.awaitReady("shop--green", 1, Duration.ofSeconds(60));
      int port = h.status().proxy().port();

      for (int i = 0; i < 10; i++) {
        assertThat(get(port, "/buy", "user-7").headers().firstValue("X-Version"))
            .as("one user always sees one variant")
            .isEqualTo(get(port, "/buy", "user-7").headers().firstValue("X-Version"));
      }
      Map<String, Integer> seen = new HashMap<>();
      for (int i = 0; i < 400; i++) {
        seen.merge(
            get(port, "/buy", "user-" + i).headers().firstValue("X-Version").orElse("?"),
            1,
            Integer::sum);
      }
      assertThat(seen).containsOnlyKeys("v1", "v1-green");
      assertThat(seen.get("v1")).as("about half of 400 users").isBetween(140, 260);

      // Visits to the checkout until the experiment has its samples.
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                for (int i = 0; i < 100; i++) {
                  get(port, "/buy", "user-" + (int) (Math.random() * 5000));
                }
                return status(h).path("phase").asText().equals("Concluded");
              });
      JsonNode done =
          new ObjectMapper()
              .readTree(h.ok("experiment", "status", "checkout-button", "-o", "json").out());
      System.out.println("experiment: " + done);
      JsonNode control = done.path("variants").get(0);
      JsonNode green = done.path("variants").get(1);
      assertThat(control.path("requests").asLong()).isGreaterThanOrEqualTo(600);
      assertThat(green.path("requests").asLong()).isGreaterThanOrEqualTo(600);
      // Every request was a visit to /buy: conversions per request are 10 % and 20 %.
      double controlRate = control.path("metrics").path("conversion").path("perRequest").asDouble();
      double greenRate = green.path("metrics").path("conversion").path("perRequest").asDouble();
      assertThat(controlRate).isBetween(0.05, 0.16);
      assertThat(greenRate).isBetween(0.13, 0.28).isGreaterThan(controlRate);
      JsonNode conversion = null;
      for (JsonNode c : done.path("comparisons")) {
        if (c.path("variant").asText().equals("green")
            && c.path("metric").asText().equals("conversion")) {
          conversion = c;
        }
      }
      assertThat(conversion).isNotNull();
      assertThat(conversion.path("low").asDouble())
          .isLessThan(conversion.path("difference").asDouble());
      assertThat(conversion.path("high").asDouble())
          .isGreaterThan(conversion.path("difference").asDouble());
      assertThat(conversion.path("significant").asBoolean()).isTrue();
      assertThat(done.path("leader").asText()).isEqualTo("green");
      assertThat(h.ok("experiment", "status", "checkout-button").out())
          .contains("VARIANT")
          .contains("leader: green");

      assertThat(h.ok("rollout", "status", "shop").out())
          .as("rollout status shows a service's experiments with their per-variant results")
          .contains("experiment checkout-button on shop: Concluded")
          .contains("v1-green");
      h.ok("experiment", "promote", "checkout-button", "green");
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(300))
          .until(
              () ->
                  h.client().rollout("shop").toVersion().equals("v1-green")
                      && h.client().rollout("shop").phase().equals("Promoted")
                      && h.status().services().stream()
                          .noneMatch(s -> s.name().equals("shop--green")));
      assertThat(get(port, "/", "user-1").headers().firstValue("X-Version")).hasValue("v1-green");
      assertThat(status(h).path("phase").asText()).isEqualTo("Ended");
      assertThat(status(h).path("outcome").asText()).isEqualTo("promoted green");
    }
  }
}
