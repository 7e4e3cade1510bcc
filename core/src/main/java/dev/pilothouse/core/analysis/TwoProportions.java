package dev.pilothouse.core.analysis;

/**
 * The two-proportion z-test (pooled variance) of whether the canary's failure rate is higher than
 * the baseline's.
 */
public final class TwoProportions {
  private TwoProportions() {}

  /**
   * The outcome of one test.
   *
   * @param difference canary rate minus baseline rate
   * @param pValue one-sided: P(a difference at least this large | equal rates)
   */
  public record Result(
      double baselineRate, double canaryRate, double difference, double z, double pValue) {}

  /** Tests failuresCanary/totalCanary against failuresBaseline/totalBaseline. */
  public static Result test(
      long failuresBaseline, long totalBaseline, long failuresCanary, long totalCanary) {
    if (totalBaseline <= 0 || totalCanary <= 0) {
      throw new IllegalArgumentException("both samples need at least one request");
    }
    if (failuresBaseline < 0
        || failuresBaseline > totalBaseline
        || failuresCanary < 0
        || failuresCanary > totalCanary) {
      throw new IllegalArgumentException("failures must be between 0 and the total");
    }
    double p1 = (double) failuresBaseline / totalBaseline;
    double p2 = (double) failuresCanary / totalCanary;
    double pooled = (double) (failuresBaseline + failuresCanary) / (totalBaseline + totalCanary);
    double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / totalBaseline + 1.0 / totalCanary));
    if (se == 0) {
      // Both rates are 0 or both are 1: no evidence of a difference.
      return new Result(p1, p2, p2 - p1, 0, p2 > p1 ? 0 : 1);
    }
    double z = (p2 - p1) / se;
    return new Result(p1, p2, p2 - p1, z, Normal.upperTail(z));
  }
}
