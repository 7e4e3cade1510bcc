package dev.pilothouse.spec;

/**
 * Checks the PromQL expressions a spec holds (custom rollout checks): the parser's port to a query
 * language it does not implement itself.
 */
@FunctionalInterface
public interface ExpressionCheck {
  /** What is wrong with the expression, or null when it parses. */
  String problem(String promql);

  /** Accepts every expression (the daemon checks them when the spec is applied). */
  static ExpressionCheck none() {
    return e -> null;
  }
}
