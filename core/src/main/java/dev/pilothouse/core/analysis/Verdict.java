package dev.pilothouse.core.analysis;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * The judgement of one metric at one analysis step, explaining itself.
 *
 * @param pValue NaN when no test could be run
 * @param effect canary minus baseline, in the metric's unit (rate, or milliseconds)
 */
public record Verdict(String metric, Outcome outcome, double pValue, double effect, String reason) {
  /** What an analysis concluded. */
  public enum Outcome {
    PASS,
    FAIL,
    INCONCLUSIVE;

    /** Lower-case name for APIs. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Verdict {
    requireNonNull(metric, "metric");
    requireNonNull(outcome, "outcome");
    requireNonNull(reason, "reason");
  }
}
