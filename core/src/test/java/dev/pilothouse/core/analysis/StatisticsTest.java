package dev.pilothouse.core.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;

/**
 * Reference values: R's ?wilcox.test example (W = 35, Hodges–Lehmann "difference in location"
 * 0.305) and SciPy 1.17 (scipy.stats.mannwhitneyu with method='asymptotic', use_continuity=True;
 * scipy.stats.norm.sf for the two-proportion z-test).
 */
class StatisticsTest {
  final SplittableRandom random = new SplittableRandom(42);

  @Test
  void normalTail_matchesReference() {
    assertThat(Normal.upperTail(1.96))
        .isCloseTo(0.024997895148220435, Percentage.withPercentage(1e-4));
    assertThat(Normal.upperTail(3.5))
        .isCloseTo(0.00023262907903552502, Percentage.withPercentage(1e-4));
    assertThat(Normal.cdf(-0.5)).isCloseTo(0.3085375387259869, Percentage.withPercentage(1e-4));
    assertThat(Normal.upperTail(6.0))
        .isCloseTo(9.865876450376946e-10, Percentage.withPercentage(1e-4));
    assertThat(Normal.cdf(0)).isCloseTo(0.5, within(1.2e-7)); // the documented accuracy of erfcc
  }

  @Test
  void mannWhitney_rExample() {
    double[] x = {0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46};
    double[] y = {1.15, 0.88, 0.90, 0.74, 1.21};
    MannWhitney.Result r = MannWhitney.test(y, x, random); // is x (canary) greater than y?
    assertThat(r.u()).isEqualTo(35.0);
    assertThat(r.pValue()).isCloseTo(0.12231180256349167, Percentage.withPercentage(1e-4));
    assertThat(r.shift()).isCloseTo(0.305, within(1e-9));
  }

  @Test
  void mannWhitney_withTies() {
    double[] baseline = {1, 2, 2, 3, 3, 3, 4, 5};
    double[] canary = {3, 4, 4, 5, 6, 6, 7};
    MannWhitney.Result r = MannWhitney.test(baseline, canary, random);
    assertThat(r.u()).isEqualTo(49.0);
    assertThat(r.pValue()).isCloseTo(0.007992342562598122, Percentage.withPercentage(1e-4));
    assertThat(r.shift()).isEqualTo(2.0);
  }

  @Test
  void judge_failsA30PercentErrorCanary_andExplainsWhy() {
    Judge j = new Judge(Judge.Options.defaults(), random);
    Verdict v = j.errorRate(1, 500, 30, 100);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.FAIL);
    assertThat(v.reason())
        .startsWith("error rate higher: canary 30.00% (30/100) vs baseline 0.20% (1/500), p=");
    assertThat(j.errorRate(5, 500, 1, 100).outcome()).isEqualTo(Verdict.Outcome.PASS);
  }

  @Test
  void judge_tinyButRealDifference_withinTolerance_passes() {
    Judge j = new Judge(Judge.Options.defaults(), random);
    // 0.1% vs 0.5% on 100k requests is a real difference, but under the 1-point tolerance: the
    // test is against the baseline's rate plus the tolerance, so there is no evidence at all.
    Verdict v = j.errorRate(100, 100_000, 500, 100_000);
    assertThat(v.pValue()).isEqualTo(1.0);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.PASS);
  }

  @Test
  void judge_lowTraffic_isInconclusive_notAPass() {
    Judge j = new Judge(Judge.Options.defaults(), random);
    Verdict v = j.errorRate(0, 40, 1, 12);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.INCONCLUSIVE);
    assertThat(v.reason())
        .contains("too little traffic: 40 baseline and 12 canary requests, 50 each needed");
    // Overwhelming evidence needs no minimum: 10 failures in 12 fail at once.
    assertThat(j.errorRate(0, 40, 10, 12).outcome()).isEqualTo(Verdict.Outcome.FAIL);
    assertThat(j.latency(new double[10], new double[100]).outcome())
        .isEqualTo(Verdict.Outcome.INCONCLUSIVE);
  }

  @Test
  void judge_failsCanarySlowerBy300ms_passesEqualLatency() {
    Judge j = new Judge(Judge.Options.defaults(), random);
    double[] baseline = new double[200];
    double[] same = new double[200];
    double[] slow = new double[200];
    for (int i = 0; i < 200; i++) {
      baseline[i] = 2 + random.nextDouble() * 3;
      same[i] = 2 + random.nextDouble() * 3;
      slow[i] = 302 + random.nextDouble() * 3;
    }
    Verdict bad = j.latency(baseline, slow);
    assertThat(bad.outcome()).isEqualTo(Verdict.Outcome.FAIL);
    assertThat(bad.effect()).isCloseTo(300, within(2.0));
    assertThat(bad.reason()).startsWith("latency higher: canary median");
    assertThat(j.latency(baseline, same).outcome()).isEqualTo(Verdict.Outcome.PASS);
  }

  @Test
  void hodgesLehmann_subsamplesLargeSamples_staysAccurate() {
    double[] a = new double[5000];
    double[] b = new double[5000];
    for (int i = 0; i < a.length; i++) {
      a[i] = random.nextDouble() * 10;
      b[i] = random.nextDouble() * 10 + 7;
    }
    assertThat(MannWhitney.test(a, b, random).shift()).isCloseTo(7.0, within(0.3));
  }
}
