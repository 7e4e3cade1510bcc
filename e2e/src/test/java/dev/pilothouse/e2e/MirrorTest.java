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
 * A canary judged on mirrored traffic only (weight 0, mirror 100 %), with real daemon, load
 * balancer and demo processes: the bad version is rolled back on the copies' errors while no user
 * request ever reaches it.
 */
class MirrorTest {
  @TempDir Path tmp;

  static String spec(String version, String errorRate) {
    return Harness.routedShop(version, 1, ", DEMO_ERROR_RATE: '" + errorRate + "'")
        + "    strategy:\n"
        + "      type: canary\n"
        + "      steps: [{weight: 0}, {analysis: 20s}]\n"
        + "      mirror: {percent: 100}\n"
        + "      analysis: {minRequests: 20}\n";
  }

  @Test
  void badCanary_judgedOnMirroredTraffic_isRolledBack_withoutOneFailedUserRequest()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("v1.yaml", spec("v1", "0")));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      CompletableFuture<LoadResult> run = new DeployTest().load(h, Duration.ofSeconds(18));
      Thread.sleep(1000);
      h.ok("apply", "-f", h.writeSpec("v2.yaml", spec("v2", "0.3")).toString());
      Wire.Rollout r = DeployTest.awaitDone(h, Duration.ofSeconds(40));
      assertThat(r.phase()).isEqualTo("RolledBack");
      assertThat(r.reason()).startsWith("error rate higher: canary ");
      assertThat(r.weight()).isZero();
      LoadResult load = run.get();
      System.out.println("mirror: " + load + " / " + r.reason());
      assertThat(load.errors()).isZero();
      assertThat(load.status()).as("no user saw the bad version").containsOnlyKeys("200");
    }
  }
}
