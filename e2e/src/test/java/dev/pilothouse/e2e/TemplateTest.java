package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.client.Wire;
import dev.pilothouse.client.load.LoadResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An analysis template with real processes: a PromQL metric over the load balancer's own latency
 * histogram, selecting the canary's and the stable version's series by their version label (the
 * built-in arguments), measured on its schedule. A slower canary is rolled back by it; a canary as
 * fast as the stable version passes it and is promoted.
 */
class TemplateTest {
  @TempDir Path tmp;

  static final String TEMPLATE =
      "metrics: {scrapeInterval: 1s}\n"
          + "analysisTemplates:\n"
          + "  p99-vs-stable:\n"
          + "    args:\n"
          + "      - {name: slack, value: '0.05'}\n"
          + "    metrics:\n"
          + "      - name: p99\n"
          + "        promql: >-\n"
          + "          histogram_quantile(0.99, sum by (le) (rate("
          + "pilothouse_proxy_request_duration_seconds_bucket{service=\"{{args.service}}\","
          + "version=\"{{args.canaryVersion}}\"}[5s])))\n"
          + "          < histogram_quantile(0.99, sum by (le) (rate("
          + "pilothouse_proxy_request_duration_seconds_bucket{service=\"{{args.service}}\","
          + "version=\"{{args.stableVersion}}\"}[5s]))) + {{args.slack}}\n"
          + "        interval: 3s\n"
          + "        count: 3\n"
          + "        failureLimit: 1\n"
          + "        inconclusiveLimit: 3\n";

  static String spec(String version, int latencyMs) {
    return TEMPLATE
        + Harness.routedShop(version, 1, ", DEMO_LATENCY_MS: '" + latencyMs + "'")
        + "    strategy:\n"
        + "      type: canary\n"
        + "      steps:\n"
        + "        - weight: 50\n"
        + "        - analysis: {template: p99-vs-stable, args: {slack: '0.1'}}\n";
  }

  @Test
  void templateOverVersionLabels_rollsBackASlowCanary_andPromotesAFastOne() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", 0)));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      // Both rollouts end within about 23 s of the load's start on this machine.
      CompletableFuture<LoadResult> run = new DeployTest().load(h, Duration.ofSeconds(32));
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2", 400)).toString());
      Wire.Rollout slow = DeployTest.awaitDone(h, Duration.ofSeconds(40));
      assertThat(slow.phase()).isEqualTo("RolledBack");
      assertThat(slow.reason())
          .startsWith("analysis 'p99-vs-stable' failed: p99: ")
          .contains("2 failed (limit 1)");
      h.ok("apply", "-f", h.writeSpec("v3.yaml", spec("v3", 0)).toString());
      Wire.Rollout fast = DeployTest.awaitDone(h, Duration.ofSeconds(40));
      assertThat(fast.phase()).isEqualTo("Promoted");
      assertThat(fast.verdicts())
          .anySatisfy(
              v -> assertThat(v.reason()).startsWith("p99: 3 of 3 measured, ").contains("last: "));
      System.out.println("template: " + slow.reason() + " / " + run.get());
    }
  }
}
