package dev.pilothouse.core.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Scale;
import org.junit.jupiter.api.Test;

class SequentialRatesTest {

  @Property(tries = 300)
  void beta_matchesApacheCommonsMath(
      @ForAll @DoubleRange(min = 0.0001, max = 0.9999) @Scale(6) double x,
      @ForAll @IntRange(min = 1, max = 200_000) int a,
      @ForAll @IntRange(min = 1, max = 200_000) int b) {
    assertThat(Beta.logBeta(a, b))
        .isCloseTo(
            org.apache.commons.math3.special.Beta.logBeta(a, b),
            within(1e-9 * Math.max(1, Math.abs(Beta.logBeta(a, b)))));
    assertThat(Beta.regularized(x, a, b))
        .isCloseTo(org.apache.commons.math3.special.Beta.regularizedBeta(x, a, b), within(1e-9));
  }

  @Test
  void aClearlyBadCanary_failsOnAHandfulOfRequests() {
    // The README's bad demo at 10 % of 50 req/s: after 5 s, 25 canary requests, 30 % failing.
    SequentialRates.Result r = SequentialRates.test(1, 225, 7, 25, 0.01, 0.05);
    assertThat(r.pValue()).isLessThan(0.05);
    assertThat(r.baselineUpper())
        .as("the baseline's rate is bounded, not guessed")
        .isBetween(0.0044, 0.1);
    // One failure in ten is not yet evidence of anything.
    assertThat(SequentialRates.test(1, 90, 1, 10, 0.01, 0.05).pValue()).isGreaterThan(0.05);
  }

  @Test
  void withoutTrafficOrBaseline_thereIsNoEvidence() {
    assertThat(SequentialRates.test(0, 0, 5, 5, 0.01, 0.05).pValue()).isEqualTo(1.0);
    assertThat(SequentialRates.test(3, 100, 0, 0, 0.01, 0.05).pValue()).isEqualTo(1.0);
  }

  /**
   * The guarantee: a canary failing exactly at the baseline's rate plus the tolerance (the worst
   * case of the null hypothesis), looked at after every request for 5,000 requests, is failed in at
   * most alpha of the rollouts.
   */
  @Test
  void atTheNullsBoundary_lookingAfterEveryRequest_failsAtMostAlphaOfTheTime() {
    SplittableRandom random = new SplittableRandom(42);
    int rollouts = 400;
    int failed = 0;
    for (int i = 0; i < rollouts; i++) {
      if (run(random, 0.02, 0.03, 0.01, 5_000, 1) >= 0) {
        failed++;
      }
    }
    assertThat((double) failed / rollouts).isLessThanOrEqualTo(0.05);
  }

  /** A/A: both sides fail 0.5 % of requests; looks every 5 canary requests (about 1 s). */
  @Test
  void aaComparisons_areAlmostNeverFailed() {
    SplittableRandom random = new SplittableRandom(7);
    int rollouts = 1_000;
    int failed = 0;
    for (int i = 0; i < rollouts; i++) {
      if (run(random, 0.005, 0.005, 0.01, 3_000, 5) >= 0) {
        failed++;
      }
    }
    assertThat(failed).as("of 1,000 A/A rollouts").isLessThanOrEqualTo(10);
  }

  /** Detection delay by effect size: canary requests until the verdict, median of 200 runs. */
  @Test
  void detectionDelay_shrinksWithTheEffect() {
    SplittableRandom random = new SplittableRandom(3);
    int at30 = medianDelay(random, 0.30);
    int at10 = medianDelay(random, 0.10);
    int at5 = medianDelay(random, 0.05);
    assertThat(at30).as("30 %% errors").isLessThanOrEqualTo(25);
    assertThat(at10).as("10 %% errors").isBetween(at30, 150);
    assertThat(at5).as("5 %% errors").isBetween(at10, 600);
  }

  private static int medianDelay(SplittableRandom random, double canaryRate) {
    int[] delays = new int[200];
    for (int i = 0; i < delays.length; i++) {
      delays[i] = run(random, 0.005, canaryRate, 0.01, 20_000, 1);
      assertThat(delays[i]).as("detected").isPositive();
    }
    java.util.Arrays.sort(delays);
    return delays[delays.length / 2];
  }

  /**
   * One simulated analysis: the canary gets 10 % of the traffic; returns the canary request count
   * at which it failed, or -1 if it never did within maxCanary requests.
   */
  private static int run(
      SplittableRandom random,
      double baselineRate,
      double canaryRate,
      double tolerance,
      int maxCanary,
      int every) {
    long bf = 0;
    long bn = 0;
    long cf = 0;
    for (int n = 1; n <= maxCanary; n++) {
      for (int k = 0; k < 9; k++) {
        bn++;
        bf += random.nextDouble() < baselineRate ? 1 : 0;
      }
      cf += random.nextDouble() < canaryRate ? 1 : 0;
      if (n % every == 0 && SequentialRates.test(bf, bn, cf, n, tolerance, 0.05).pValue() < 0.05) {
        return n;
      }
    }
    return -1;
  }
}
