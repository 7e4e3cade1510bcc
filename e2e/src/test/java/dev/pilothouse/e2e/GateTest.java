package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.client.Wire;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gates (Flagger's webhooks) with a real daemon, demo instances and a real HTTP gate on loopback: a
 * confirm-promotion gate that says no holds the canary visibly, a yes promotes it, and each call
 * carries the rollout's context.
 */
class GateTest {
  @TempDir Path tmp;

  static String spec(String version, int gatePort) {
    return Harness.routedShop(version, 1, "")
        + "    strategy:\n"
        + "      type: canary\n"
        + "      steps: [{weight: 50}]\n"
        + "      gates:\n"
        + "        - {name: approve, type: confirm-promotion, url: 'http://127.0.0.1:"
        + gatePort
        + "/approve', timeout: 2s}\n"
        + "        - {type: post-rollout, url: 'http://127.0.0.1:"
        + gatePort
        + "/done'}\n";
  }

  @Test
  void confirmPromotionGate_holdsTheCanaryUntilItSaysYes_andIsToldTheContext() throws Exception {
    AtomicInteger answer = new AtomicInteger(403);
    List<JsonNode> bodies = new CopyOnWriteArrayList<>();
    ObjectMapper json = new ObjectMapper();
    HttpServer gate = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    gate.createContext(
        "/",
        x -> {
          bodies.add(json.readTree(x.getRequestBody().readAllBytes()));
          boolean approve = x.getRequestURI().getPath().equals("/approve");
          byte[] out =
              (approve && answer.get() != 200 ? "{\"reason\": \"change freeze\"}" : "{}")
                  .getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(approve ? answer.get() : 200, out.length);
          x.getResponseBody().write(out);
          x.close();
        });
    gate.start();
    try (Harness h = new Harness(tmp)) {
      int port = gate.getAddress().getPort();
      h.up(h.writeSpec("v1.yaml", spec("v1", port)));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2", port)).toString());
      await()
          .atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> h.client().rollout("shop").reason().startsWith("waiting for the"));
      Wire.Rollout held = h.client().rollout("shop");
      assertThat(held.phase()).isEqualTo("Progressing");
      assertThat(held.weight()).as("the step ran; promotion is what waits").isEqualTo(50);
      assertThat(held.reason())
          .isEqualTo(
              "waiting for the confirm-promotion gate: approve: webhook answered 403 (change"
                  + " freeze)");
      Thread.sleep(3000);
      assertThat(h.client().rollout("shop").phase()).as("still held").isEqualTo("Progressing");
      answer.set(200);
      Wire.Rollout done = DeployTest.awaitDone(h, Duration.ofSeconds(20));
      assertThat(done.phase()).isEqualTo("Promoted");
      assertThat(h.client().events(-1, 500))
          .extracting(Wire.Event::type)
          .contains("RolloutGateWaiting", "RolloutGatePassed", "RolloutPromoted");
      JsonNode first = bodies.get(0);
      assertThat(first.path("gate").asText()).isEqualTo("confirm-promotion");
      assertThat(first.path("service").asText()).isEqualTo("shop");
      assertThat(first.path("version").asText()).isEqualTo("v2");
      assertThat(first.path("stable_version").asText()).isEqualTo("v1");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> bodies.stream().anyMatch(b -> b.path("gate").asText().equals("post-rollout")));
    } finally {
      gate.stop(0);
    }
  }
}
