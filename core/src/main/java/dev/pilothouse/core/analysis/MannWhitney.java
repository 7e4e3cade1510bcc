package dev.pilothouse.core.analysis;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The Mann-Whitney U test (normal approximation with tie and continuity correction) of whether
 * canary values tend to be larger than baseline values, with the Hodges–Lehmann estimate of the
 * shift (the median of all canary − baseline differences).
 */
public final class MannWhitney {
  /** Pairwise differences are computed exactly up to this many per sample; beyond, subsampled. */
  static final int HL_MAX_PER_SAMPLE = 1000;

  private MannWhitney() {}

  /**
   * The outcome of one test.
   *
   * @param u U statistic of the canary sample
   * @param pValue one-sided: P(U at least this large | same distribution)
   * @param shift Hodges–Lehmann estimate of canary − baseline
   */
  public record Result(double u, double z, double pValue, double shift) {}

  /** Tests canary against baseline; random is used only to subsample very large samples. */
  public static Result test(double[] baseline, double[] canary, RandomGenerator random) {
    int n1 = baseline.length;
    int n2 = canary.length;
    if (n1 == 0 || n2 == 0) {
      throw new IllegalArgumentException("both samples need at least one value");
    }
    int n = n1 + n2;
    double[] all = new double[n];
    boolean[] isCanary = new boolean[n];
    Integer[] order = new Integer[n];
    for (int i = 0; i < n1; i++) {
      all[i] = baseline[i];
    }
    for (int i = 0; i < n2; i++) {
      all[n1 + i] = canary[i];
      isCanary[n1 + i] = true;
    }
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(all[a], all[b]));
    double rankSumCanary = 0;
    double tieTerm = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      while (j + 1 < n && all[order[j + 1]] == all[order[i]]) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1; // average rank of the tie group
      int t = j - i + 1;
      tieTerm += (double) t * t * t - t;
      for (int k = i; k <= j; k++) {
        if (isCanary[order[k]]) {
          rankSumCanary += rank;
        }
      }
      i = j + 1;
    }
    double u = rankSumCanary - n2 * (n2 + 1) / 2.0;
    double mean = n1 * (double) n2 / 2.0;
    double variance = n1 * (double) n2 / 12.0 * ((n + 1) - tieTerm / ((double) n * (n - 1)));
    double z;
    double p;
    if (variance <= 0) {
      z = 0;
      p = 1;
    } else {
      z = (u - mean - 0.5) / Math.sqrt(variance);
      p = Normal.upperTail(z);
    }
    return new Result(u, z, Math.min(1, p), hodgesLehmann(baseline, canary, random));
  }

  /** The median of all pairwise differences canary[j] − baseline[i]. */
  static double hodgesLehmann(double[] baseline, double[] canary, RandomGenerator random) {
    double[] b = subsample(baseline, random);
    double[] c = subsample(canary, random);
    double[] d = new double[b.length * c.length];
    int k = 0;
    for (double y : c) {
      for (double x : b) {
        d[k++] = y - x;
      }
    }
    Arrays.sort(d);
    int m = d.length;
    return m % 2 == 1 ? d[m / 2] : (d[m / 2 - 1] + d[m / 2]) / 2;
  }

  private static double[] subsample(double[] v, RandomGenerator random) {
    if (v.length <= HL_MAX_PER_SAMPLE) {
      return v;
    }
    double[] copy = v.clone();
    for (int i = 0; i < HL_MAX_PER_SAMPLE; i++) {
      int j = i + random.nextInt(copy.length - i);
      double t = copy[i];
      copy[i] = copy[j];
      copy[j] = t;
    }
    return Arrays.copyOf(copy, HL_MAX_PER_SAMPLE);
  }
}
