package dev.pilothouse.tsdb.promql;

/** A query that parsed but cannot be evaluated (e.g. ambiguous vector matching). */
public final class EvalException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  EvalException(String message) {
    super(message);
  }
}
