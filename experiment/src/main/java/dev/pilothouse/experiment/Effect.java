package dev.pilothouse.experiment;

import dev.pilothouse.core.analysis.Normal;

/**
 * A variant's value of one metric against the control's: the difference with a two-sided 95 %
 * confidence interval and p-value (normal approximation, fixed horizon: valid when the experiment
 * concludes at its declared duration or sample size, not for stopping early on a peek).
 *
 * @param relative the difference over the control's value (NaN when that is zero)
 * @param significant whether the interval excludes zero
 */
public record Effect(
    double control,
    double variant,
    double difference,
    double low,
    double high,
    double relative,
    double pValue,
    boolean significant) {

  /** z of a two-sided 95 % interval. */
  static final double Z = 1.959963984540054;

  /** An effect that cannot be estimated (no samples on a side). */
  static Effect none(double control, double variant) {
    return new Effect(
        control, variant, variant - control, Double.NaN, Double.NaN, Double.NaN, Double.NaN, false);
  }

  /** Difference of two proportions x/n (errors per request, conversions per request). */
  static Effect proportions(double x0, double n0, double x1, double n1) {
    if (n0 < 1 || n1 < 1) {
      return none(n0 < 1 ? Double.NaN : x0 / n0, n1 < 1 ? Double.NaN : x1 / n1);
    }
    double p0 = x0 / n0;
    double p1 = x1 / n1;
    double se = Math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1);
    if (p0 > 1 || p1 > 1) { // counts per request above one (items per order): Poisson rates
      se = Math.sqrt(p0 / n0 + p1 / n1);
    }
    return of(p0, p1, se);
  }

  /** Difference of two means with their variances and sample sizes (Welch). */
  static Effect means(double m0, double v0, double n0, double m1, double v1, double n1) {
    if (n0 < 2 || n1 < 2) {
      return none(m0, m1);
    }
    return of(m0, m1, Math.sqrt(v0 / n0 + v1 / n1));
  }

  private static Effect of(double c, double v, double se) {
    double d = v - c;
    double rel = c == 0 ? Double.NaN : d / c;
    if (!(se > 0)) {
      return new Effect(c, v, d, d, d, rel, d == 0 ? 1 : 0, d != 0);
    }
    double p = 2 * Normal.upperTail(Math.abs(d) / se);
    double low = d - Z * se;
    double high = d + Z * se;
    return new Effect(c, v, d, low, high, rel, p, low > 0 || high < 0);
  }
}
