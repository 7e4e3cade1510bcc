package dev.pilothouse.chaos;

/** The port to the metrics store: one instant PromQL query. */
@FunctionalInterface
public interface Metrics {
  /**
   * The value of an expression now: a scalar, or the single element of a vector; NaN for an empty
   * result.
   *
   * @throws IllegalArgumentException when the expression fails or returns several elements
   */
  double instant(String promql);
}
