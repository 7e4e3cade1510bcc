package dev.pilothouse.experiment;

import java.util.List;
import java.util.Map;

/** Evaluates PromQL against the metrics store (the server wires the built-in store). */
public interface MetricsQuery {
  /** One series of an instant result (a scalar is one series without labels). */
  record Sample(Map<String, String> labels, double value) {}

  /**
   * The instant result of expression evaluated at a moment.
   *
   * @throws RuntimeException naming what is wrong with the expression or its evaluation
   */
  List<Sample> query(String expression, java.time.Instant at);
}
