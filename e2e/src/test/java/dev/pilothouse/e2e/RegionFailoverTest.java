package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.client.Wire;
import dev.pilothouse.runtime.kubernetes.SimulatedCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-region drill of docs/runbooks/region-failover.md, with the shipped daemon and CLI: a
 * service in two regions (two simulated clusters, fabric8's mock API server each), the built-in
 * load balancer splitting its traffic between the regions' endpoints by weight; one region's
 * endpoint goes dark, {@code region failover} moves its weight, and the time from the command to
 * every request answered by the other region is measured. The endpoints stand in for each region's
 * Gateway: plain HTTP servers on loopback that answer with their region's name (no cluster, no
 * Gateway implementation runs here).
 */
@QuotedFigures
class RegionFailoverTest {
  @TempDir Path tmp;

  private static HttpServer endpoint(String region) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    s.createContext(
        "/",
        x -> {
          byte[] body = region.getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    s.setExecutor(Executors.newFixedThreadPool(4));
    s.start();
    return s;
  }

  private static String spec(int eu, int us) {
    return "proxy: {port: 0}\n"
        + "regions:\n"
        + "  eu: {namespace: shop, kubeconfig: eu.kubeconfig, endpoint: 'http://127.0.0.1:"
        + eu
        + "', weight: 50}\n"
        + "  us: {namespace: shop, kubeconfig: us.kubeconfig, endpoint: 'http://127.0.0.1:"
        + us
        + "', weight: 50}\n"
        + "services:\n"
        + "  web:\n"
        + "    image: registry.example.com/shop/web:1\n"
        + "    version: v1\n"
        + "    replicas: 2\n"
        + "    env: {VERSION: v1}\n"
        + "    readiness: {exec: ['true'], interval: 1s}\n"
        + "    route: {pathPrefix: /, timeouts: {request: 2s}}\n"
        + "  batch:\n"
        + "    image: registry.example.com/shop/batch:1\n"
        + "    regions: [us]\n";
  }

  /** One request through the load balancer: the answering region, or "" on a failure. */
  private static String get(HttpClient http, int port) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                  .timeout(Duration.ofSeconds(3))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  @Test
  void aServiceInTwoRegions_isSplitByWeight_andAFailoverMovesEveryRequestWithinSeconds()
      throws Exception {
    HttpServer eu = endpoint("eu");
    HttpServer us = endpoint("us");
    try (SimulatedCluster euCluster = new SimulatedCluster().running(Duration.ofMillis(100));
        SimulatedCluster usCluster = new SimulatedCluster().running(Duration.ofMillis(100));
        Harness h = new Harness(tmp);
        HttpClient http = HttpClient.newHttpClient()) {
      euCluster.kubeconfig(tmp.resolve("eu.kubeconfig"));
      usCluster.kubeconfig(tmp.resolve("us.kubeconfig"));
      h.up(h.writeSpec("shop.yaml", spec(eu.getAddress().getPort(), us.getAddress().getPort())));
      h.awaitReady("web", 4, Duration.ofSeconds(30)); // two pods in each region
      h.awaitReady("batch", 1, Duration.ofSeconds(30)); // placed in us only
      assertThat(deployments(euCluster)).containsExactly("web");
      assertThat(deployments(usCluster)).containsExactlyInAnyOrder("web", "batch");
      assertThat(h.client().regions())
          .extracting(r -> r.name() + " " + r.weight() + " " + r.services())
          .containsExactly("eu 50 [web]", "us 50 [web, batch]");

      int port = LoadBalancerTest.proxyPort(h);
      List<String> answers = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        answers.add(get(http, port));
      }
      long fromEu = answers.stream().filter("eu"::equals).count();
      long fromUs = answers.stream().filter("us"::equals).count();
      assertThat(fromEu + fromUs).as("every request answered").isEqualTo(200);
      assertThat(fromEu).as("about half from eu").isBetween(60L, 140L);

      // The drill: eu's entry goes dark; the operator fails eu over to us.
      eu.stop(0);
      long outage = System.nanoTime();
      long failedBefore = 0;
      for (int i = 0; i < 20; i++) {
        failedBefore += get(http, port).isEmpty() ? 1 : 0;
      }
      long command = System.nanoTime();
      assertThat(h.ok("region", "failover", "eu", "--to", "us").out()).contains("revision");
      int inARow = 0;
      long recovered = 0;
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (inARow < 50 && System.nanoTime() < deadline) {
        long at = System.nanoTime();
        if (get(http, port).equals("us")) {
          if (inARow++ == 0) {
            recovered = at;
          }
        } else {
          inARow = 0;
        }
      }
      List<String> after = new ArrayList<>();
      for (int i = 0; i < 20 && inARow < 50; i++) {
        after.add(get(http, port));
      }
      assertThat(inARow)
          .as(
              "50 requests in a row answered by us; then: "
                  + after
                  + " "
                  + h.ok("status").out()
                  + h.client().regions())
          .isEqualTo(50);
      long rtoMs = (recovered - command) / 1_000_000;
      long outageMs = (recovered - outage) / 1_000_000;
      System.out.printf(
          "region failover: %d of 20 requests failed during the outage before the command;"
              + " command to every request served by us: %d ms (outage to recovery: %d ms)%n",
          failedBefore, rtoMs, outageMs);
      assertThat(rtoMs).as("recovery time after the failover command").isLessThan(10_000);
      assertThat(h.client().regions())
          .extracting(r -> r.name() + " " + r.weight())
          .containsExactly("eu 0", "us 100");
      assertThat(h.client().events(-1, 500))
          .anyMatch(e -> e.message().contains("region failover eu to us"));
      // eu's pods run on: the failover moved traffic, not workloads.
      assertThat(deployments(euCluster)).containsExactly("web");

      Harness.Result nowhere = h.cli("region", "failover", "mars");
      assertThat(nowhere.exit()).isNotZero();
      assertThat(nowhere.err()).contains("no region named 'mars'", "known regions: eu, us");
      Harness.Result none = h.cli("region", "weights", "us=0");
      assertThat(none.exit()).isNotZero();
      assertThat(none.err()).contains("every region would get no traffic");
      h.ok("region", "weights", "eu=50", "us=50");
      assertThat(h.client().regions()).extracting(Wire.Region::weight).containsExactly(50, 50);
    } finally {
      eu.stop(0);
      us.stop(0);
    }
  }

  private static List<String> deployments(SimulatedCluster c) {
    return c
        .api()
        .apps()
        .deployments()
        .inNamespace(SimulatedCluster.NAMESPACE)
        .list()
        .getItems()
        .stream()
        .map(d -> d.getMetadata().getName())
        .toList();
  }
}
