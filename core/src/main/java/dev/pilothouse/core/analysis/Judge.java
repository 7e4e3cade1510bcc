package dev.pilothouse.core.analysis;

import static java.util.Objects.requireNonNull;

import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;

/**
 * Compares a canary with its baseline on error rate (an anytime-valid sequential test, {@link
 * SequentialRates}) and latency (Mann-Whitney U with the Hodges–Lehmann shift, judged at the end of
 * a window). A metric fails only when the difference is both statistically significant and larger
 * than the tolerance; with too little traffic it is inconclusive, never a silent pass.
 */
public final class Judge {

  /**
   * Thresholds of a judge.
   *
   * @param alpha significance level of the one-sided tests, such as 0.05
   * @param minRequests requests each side needs before a metric is judged
   * @param maxErrorRateIncrease tolerated absolute increase of the error rate, such as 0.01
   * @param maxLatencyIncreaseMs tolerated increase of latency (Hodges–Lehmann shift)
   * @param maxLatencyIncreaseRatio tolerated increase relative to the baseline median
   */
  public record Options(
      double alpha,
      int minRequests,
      double maxErrorRateIncrease,
      double maxLatencyIncreaseMs,
      double maxLatencyIncreaseRatio) {
    public Options {
      if (!(alpha > 0 && alpha < 1)) {
        throw new IllegalArgumentException("alpha must be in (0, 1), but was " + alpha);
      }
      if (minRequests < 1) {
        throw new IllegalArgumentException("minRequests must be >= 1, but was " + minRequests);
      }
    }

    /** alpha 0.05, 50 requests per side, +1 point of errors, +max(5 ms, 10%) latency. */
    public static Options defaults() {
      return new Options(0.05, 50, 0.01, 5, 0.10);
    }
  }

  private final Options o;
  private final RandomGenerator random;

  public Judge(Options options, RandomGenerator random) {
    this.o = requireNonNull(options, "options");
    this.random = requireNonNull(random, "random");
  }

  /**
   * Judges the error rate (failures are 5xx answers and transport errors) with the anytime-valid
   * test of {@link SequentialRates}: it may be called after every request. FAIL as soon as the
   * canary fails more often than the baseline plus the tolerance with significance alpha, at any
   * traffic; otherwise INCONCLUSIVE until both sides have minRequests, then PASS.
   */
  public Verdict errorRate(
      long baselineFailures, long baselineTotal, long canaryFailures, long canaryTotal) {
    SequentialRates.Result r =
        SequentialRates.test(
            baselineFailures,
            baselineTotal,
            canaryFailures,
            canaryTotal,
            o.maxErrorRateIncrease(),
            o.alpha());
    double canaryRate = canaryTotal == 0 ? 0 : (double) canaryFailures / canaryTotal;
    double baselineRate = baselineTotal == 0 ? 0 : (double) baselineFailures / baselineTotal;
    String figures =
        String.format(
            Locale.ROOT,
            "canary %.2f%% (%d/%d) vs baseline %.2f%% (%d/%d), p=%.3g",
            100 * canaryRate,
            canaryFailures,
            canaryTotal,
            100 * baselineRate,
            baselineFailures,
            baselineTotal,
            r.pValue());
    if (r.pValue() < o.alpha()) {
      return new Verdict(
          "error-rate",
          Verdict.Outcome.FAIL,
          r.pValue(),
          canaryRate - baselineRate,
          "error rate higher: " + figures);
    }
    if (baselineTotal < o.minRequests() || canaryTotal < o.minRequests()) {
      return new Verdict(
          "error-rate",
          Verdict.Outcome.INCONCLUSIVE,
          r.pValue(),
          canaryRate - baselineRate,
          String.format(
              Locale.ROOT,
              "too little traffic: %d baseline and %d canary requests, %d each needed",
              baselineTotal,
              canaryTotal,
              o.minRequests()));
    }
    return new Verdict(
        "error-rate",
        Verdict.Outcome.PASS,
        r.pValue(),
        canaryRate - baselineRate,
        "error rate within tolerance: " + figures);
  }

  /** Judges latency samples in milliseconds. */
  public Verdict latency(double[] baselineMs, double[] canaryMs) {
    if (baselineMs.length < o.minRequests() || canaryMs.length < o.minRequests()) {
      return new Verdict(
          "latency",
          Verdict.Outcome.INCONCLUSIVE,
          Double.NaN,
          Double.NaN,
          String.format(
              Locale.ROOT,
              "too little traffic: %d baseline and %d canary samples, %d each needed",
              baselineMs.length,
              canaryMs.length,
              o.minRequests()));
    }
    MannWhitney.Result r = MannWhitney.test(baselineMs, canaryMs, random);
    double baselineMedian = median(baselineMs);
    double tolerance =
        Math.max(o.maxLatencyIncreaseMs(), o.maxLatencyIncreaseRatio() * baselineMedian);
    boolean fail = r.pValue() < o.alpha() && r.shift() > tolerance;
    String figures =
        String.format(
            Locale.ROOT,
            "canary median %.1f ms vs baseline %.1f ms, shift %+.1f ms (tolerance %.1f ms), p=%.3g",
            median(canaryMs),
            baselineMedian,
            r.shift(),
            tolerance,
            r.pValue());
    return new Verdict(
        "latency",
        fail ? Verdict.Outcome.FAIL : Verdict.Outcome.PASS,
        r.pValue(),
        r.shift(),
        (fail ? "latency higher: " : "latency within tolerance: ") + figures);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
