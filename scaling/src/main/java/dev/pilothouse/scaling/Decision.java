package dev.pilothouse.scaling;

import java.time.Instant;
import java.util.List;

/**
 * The autoscaler's latest decision for one service and how it was reached ({@code pilothouse scale
 * explain}).
 *
 * @param current the count the service ran before the decision
 * @param desired the count it runs after it
 * @param state scaling (the count changes), stable, frozen (a rollout is under way), fallback (no
 *     target measurable for too long) or waiting (nothing measured yet)
 * @param recommended the highest target proposal (the current count when none applies)
 * @param limitedBy what held the count back from the recommendation: a stabilization window, a
 *     policy, min or max; empty when nothing did
 * @param reason the decision in one line
 * @param floor the fewest instances now: min, or what a schedule or the forecast raises it to
 * @param cap the most instances now: max, or what a schedule lowers it to
 * @param bounds the schedules and forecast that set floor and cap; empty when min and max do
 * @param prediction the forecast of a predictive service; null without one or without history
 */
public record Decision(
    String service,
    Instant at,
    int current,
    int desired,
    int min,
    int max,
    String state,
    List<Reading> targets,
    int recommended,
    String limitedBy,
    String reason,
    int floor,
    int cap,
    String bounds,
    Prediction prediction) {

  /**
   * A seasonal forecast's reading.
   *
   * @param mode "on" (the floor applies) or "forecast-only"
   * @param expected the peak request rate expected within the lead
   * @param basis "weekly" or "daily"
   * @param floor the count that carries the expected peak
   */
  public record Prediction(
      String mode, double expected, String basis, int samples, String lead, int floor) {}

  /**
   * One target's measurement and the count it proposes.
   *
   * @param target the spec's name of the target, e.g. requestsPerSecond
   * @param value what was measured (per instance for per-instance targets); null when nothing was
   * @param goal the value the target holds the service at
   * @param unit how value and goal are counted, e.g. "req/s per instance", "% of resources.cpu"
   * @param proposal the count it proposes; null when it was not measured
   * @param note why it proposes nothing or what it left out (warming instances), else empty
   */
  public record Reading(
      String target, Double value, double goal, String unit, Integer proposal, String note) {}
}
