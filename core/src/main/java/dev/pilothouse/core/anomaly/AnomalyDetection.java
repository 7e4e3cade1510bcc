package dev.pilothouse.core.anomaly;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * An anomaly detector the spec asks for: every series of a PromQL expression, evaluated on an
 * interval, gets an online detector; the scores are written back as {@code anomaly:score} with the
 * series' labels and {@code detector="NAME"}.
 *
 * @param name the {@code detector} label
 * @param expr an instant-vector expression
 * @param interval how often it is evaluated and scored
 */
public record AnomalyDetection(String name, String expr, Duration interval) {
  public AnomalyDetection {
    requireNonNull(name, "name");
    requireNonNull(expr, "expr");
    requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive");
    }
  }
}
