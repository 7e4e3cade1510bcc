package dev.pilothouse.core.alerting;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One alert of an alerting rule as its group last left it: what survives a restart.
 *
 * @param rule the alerting rule's name
 * @param labels the alert's labels (alertname included)
 * @param annotations its expanded annotations
 * @param state pending, firing or inactive (resolved, kept a while so its end is known)
 * @param activeAt when it first became a result (Prometheus's activeAt)
 * @param firedAt when it started firing; null while pending
 * @param resolvedAt when it stopped firing; null while active
 * @param keepFiringSince when it stopped being a result while kept firing; null otherwise
 * @param value the latest value of the expression for it
 */
public record AlertState(
    String rule,
    Map<String, String> labels,
    Map<String, String> annotations,
    State state,
    Instant activeAt,
    Instant firedAt,
    Instant resolvedAt,
    Instant keepFiringSince,
    double value) {

  /** Prometheus's alert states. */
  public enum State {
    PENDING,
    FIRING,
    INACTIVE;

    /** The state as Prometheus's API and the ALERTS series spell it. */
    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public AlertState {
    requireNonNull(rule, "rule");
    requireNonNull(state, "state");
    requireNonNull(activeAt, "activeAt");
    labels = new TreeMap<>(labels);
    annotations = new TreeMap<>(annotations);
  }
}
