package dev.pilothouse.core.analysis;

/**
 * An anytime-valid test of whether the canary fails more often than the baseline plus a tolerance:
 * its verdict may be looked at after every request, as often as wanted, and a canary no worse than
 * that is failed with probability at most alpha over the whole analysis (not per look).
 *
 * <p>Two parts, each at alpha/2, joined by a union bound:
 *
 * <ol>
 *   <li>An upper confidence sequence for the baseline's failure rate: Robbins' mixture confidence
 *       sequence for a Bernoulli rate with the Jeffreys prior Beta(1/2, 1/2), {p : B(x+1/2,
 *       n-x+1/2) / B(1/2, 1/2) / (p^x (1-p)^(n-x)) < 2/alpha} (tighter than a uniform prior for the
 *       small rates a healthy service has). Its upper end u holds the true rate at every time
 *       simultaneously, with probability at least 1 - alpha/2.
 *   <li>A test martingale against the canary failing at the rate p0 = u + tolerance: the likelihood
 *       ratio of its failures, mixed over a uniform prior on rates q in (p0, 1). For any true rate
 *       at most p0, each ratio (q/p0)^x ((1-q)/(1-p0))^(n-x) is a non-negative supermartingale, so
 *       is their mixture, and Ville's inequality bounds the chance that it ever exceeds 2/alpha by
 *       alpha/2.
 * </ol>
 *
 * Both are exact for any count (no normal approximation), so a handful of requests suffice when the
 * evidence is overwhelming (7 failures in 25 canary requests against 1 in 225 fails at alpha 0.05),
 * while an A/A comparison is failed at most alpha of the time however long it runs. References:
 * Robbins (1970) "Statistical methods related to the law of the iterated logarithm"; Howard,
 * Ramdas, McAuliffe, Sekhon (2021) "Time-uniform, nonparametric, nonasymptotic confidence
 * sequences"; Lindon, Sanden, Shirikian (2022) "Rapid regression detection in software deployments
 * through sequential testing".
 */
public final class SequentialRates {
  private SequentialRates() {}

  /**
   * One look at the evidence.
   *
   * @param baselineUpper the upper end of the baseline rate's confidence sequence
   * @param nullRate the canary rate tested against: baselineUpper + tolerance (capped at 1)
   * @param evidence the mixture likelihood ratio of the canary's failures against nullRate
   * @param pValue anytime-valid p-value of the whole test, min(1, 2 / evidence); the canary fails
   *     when it is below alpha
   */
  public record Result(double baselineUpper, double nullRate, double evidence, double pValue) {}

  /** Tests the canary's failures against the baseline's plus tolerance, at level alpha. */
  public static Result test(
      long baselineFailures,
      long baselineTotal,
      long canaryFailures,
      long canaryTotal,
      double tolerance,
      double alpha) {
    check(baselineFailures, baselineTotal);
    check(canaryFailures, canaryTotal);
    double upper = upperBound(baselineFailures, baselineTotal, alpha / 2);
    double p0 = Math.min(1, upper + tolerance);
    double logEvidence = logEvidence(canaryFailures, canaryTotal, p0);
    double evidence = Math.exp(logEvidence);
    double p = Math.min(1, Math.exp(Math.log(2) - logEvidence));
    return new Result(upper, p0, evidence, p);
  }

  private static void check(long failures, long total) {
    if (total < 0 || failures < 0 || failures > total) {
      throw new IllegalArgumentException(
          "failures must be between 0 and the total, but were " + failures + " of " + total);
    }
  }

  /**
   * The upper end of the Jeffreys-mixture confidence sequence for a Bernoulli rate after x failures
   * in n trials: the largest p with log B(x+1/2, n-x+1/2) - log B(1/2, 1/2) - x log p - (n-x)
   * log(1-p) below log(1/level). 1 when nothing was observed.
   */
  static double upperBound(long x, long n, double level) {
    if (n == 0) {
      return 1;
    }
    double threshold = -Math.log(level);
    double logB = Beta.logBeta(x + 0.5, n - x + 0.5) - Beta.logBeta(0.5, 0.5);
    double lo = (double) x / n; // the ratio's minimum, below 1: always inside the sequence
    double hi = 1;
    if (x == n) {
      return 1;
    }
    for (int i = 0; i < 100 && hi - lo > 1e-12; i++) {
      double mid = (lo + hi) / 2;
      double logRatio = logB - xlogy(x, mid) - xlogy(n - x, 1 - mid);
      if (logRatio < threshold) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return hi;
  }

  /**
   * log of the mixture likelihood ratio of x failures in n trials: rates q uniform on (p0, 1)
   * against p0. 0 (no evidence) without trials or when p0 is 1.
   */
  static double logEvidence(long x, long n, double p0) {
    if (n == 0 || p0 >= 1) {
      return 0;
    }
    double a = x + 1;
    double b = n - x + 1;
    // The integral of q^x (1-q)^(n-x) over (p0, 1) is B(a, b) * I_{1-p0}(b, a).
    double tail = Beta.regularized(1 - p0, b, a);
    if (tail <= 0) {
      return Double.NEGATIVE_INFINITY;
    }
    return Beta.logBeta(a, b)
        + Math.log(tail)
        - Math.log1p(-p0)
        - xlogy(x, p0)
        - xlogy(n - x, 1 - p0);
  }

  /** x log y, 0 when x is 0 (also for y = 0). */
  private static double xlogy(long x, double y) {
    return x == 0 ? 0 : x * Math.log(y);
  }
}
