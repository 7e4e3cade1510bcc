package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary experiment with real processes: fresh instances of the stable version (the baseline)
 * start beside the canary, take as much traffic as it does, and are what it is judged against; the
 * canary's size follows its weight ({@code canaryReplicas: auto}); both go when it is promoted.
 */
class BaselineTest {
  @TempDir Path tmp;

  static String spec(String version) {
    return Harness.routedShop(version, 3, "")
        + "    strategy:\n"
        + "      type: canary\n"
        + "      canaryReplicas: auto\n"
        + "      baseline: true\n"
        + "      analysis: {minRequests: 20}\n"
        + "      steps: [{weight: 25}, {analysis: 5s}, {weight: 50}, {analysis: 4s}]\n";
  }

  @Test
  void baselineBesideTheCanary_takesItsShare_andTheCanaryGrowsWithItsWeight() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1")));
      h.awaitReady("shop", 3, Duration.ofSeconds(30));
      int port = h.status().proxy().port();
      CompletableFuture<LoadResult> load = new DeployTest().load(h, Duration.ofSeconds(32));
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2")).toString());
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.client().rollout("shop").weight() == 25);
      Wire.Service baseline = h.awaitReady("shop--baseline", 1, Duration.ofSeconds(10));
      assertThat(baseline.instances()).allSatisfy(i -> assertThat(i.version()).isEqualTo("v1"));
      Set<String> answeredBy = new HashSet<>();
      HttpClient http = HttpClient.newHttpClient();
      for (int i = 0; i < 200; i++) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        answeredBy.add(
            r.headers().firstValue("X-Instance").orElse("?").replaceAll("-[0-9a-f]+$", ""));
      }
      assertThat(answeredBy)
          .as("stable, canary and baseline instances all answer")
          .contains("shop", "shop--baseline");
      Wire.Rollout done = DeployTest.awaitDone(h, Duration.ofSeconds(60));
      assertThat(done.phase()).isEqualTo("Promoted");
      assertThat(h.client().events(-1, 500))
          .extracting(Wire.Event::message)
          .anySatisfy(m -> assertThat(m).startsWith("canary growing to 2 instances for 50%"));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  h.status().services().stream().noneMatch(s -> s.name().equals("shop--baseline")));
      assertThat(load.get().errors()).isZero();
    }
  }
}
