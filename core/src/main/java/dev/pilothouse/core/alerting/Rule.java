package dev.pilothouse.core.alerting;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** One rule of a Prometheus rule file: a recording rule or an alerting rule. */
public sealed interface Rule {
  /** The PromQL expression evaluated at every evaluation of the group. */
  String expr();

  /** Labels added to (or replacing those of) every result. */
  Map<String, String> labels();

  /** The rule's name: the recorded metric or the alert name. */
  String name();

  /**
   * A recording rule: the expression's result stored as the metric record.
   *
   * @param record the metric name the results are stored under
   */
  record Recording(String record, String expr, Map<String, String> labels) implements Rule {
    public Recording {
      requireNonNull(record, "record");
      requireNonNull(expr, "expr");
      labels = new TreeMap<>(labels == null ? Map.of() : labels);
    }

    @Override
    public String name() {
      return record;
    }
  }

  /**
   * An alerting rule: every result of the expression is an alert, pending until it has been a
   * result for holdFor, then firing; it keeps firing for keepFiringFor after it stops being one.
   *
   * @param holdFor Prometheus's {@code for}
   * @param annotations Go templates expanded with the alert's labels and value
   */
  record Alerting(
      String alert,
      String expr,
      Duration holdFor,
      Duration keepFiringFor,
      Map<String, String> labels,
      Map<String, String> annotations)
      implements Rule {
    public Alerting {
      requireNonNull(alert, "alert");
      requireNonNull(expr, "expr");
      holdFor = holdFor == null ? Duration.ZERO : holdFor;
      keepFiringFor = keepFiringFor == null ? Duration.ZERO : keepFiringFor;
      labels = new TreeMap<>(labels == null ? Map.of() : labels);
      annotations = new TreeMap<>(annotations == null ? Map.of() : annotations);
    }

    @Override
    public String name() {
      return alert;
    }
  }
}
