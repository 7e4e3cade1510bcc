package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A canary deploy strategy: traffic steps, the canary's size, targeting rules, deadlines and the
 * thresholds of the statistical analysis.
 *
 * @param canaryReplicas instances of the new version run beside the stable ones
 * @param match requests matching any rule always go to the canary
 * @param progressDeadline the canary must be ready within this, or the deploy rolls back
 * @param maxAnalysisWait an analysis short of traffic waits at most this long, then pauses
 * @param alpha significance level of the tests
 * @param minRequests requests each side needs before a metric is judged
 * @param maxErrorRateIncrease tolerated absolute increase of the error rate
 * @param maxLatencyIncreaseMs tolerated latency shift in milliseconds
 * @param maxLatencyIncreaseRatio tolerated latency shift relative to the stable median
 */
public record CanarySpec(
    List<Step> steps,
    int canaryReplicas,
    List<MatchRule> match,
    Duration progressDeadline,
    Duration maxAnalysisWait,
    double alpha,
    int minRequests,
    double maxErrorRateIncrease,
    double maxLatencyIncreaseMs,
    double maxLatencyIncreaseRatio) {

  /**
   * One step.
   *
   * @param weight percent of traffic, for WEIGHT
   * @param duration PAUSE length (null: until promoted by hand) or ANALYSIS window
   */
  public record Step(Kind kind, int weight, Duration duration) {
    /** What a step does. */
    public enum Kind {
      WEIGHT,
      PAUSE,
      ANALYSIS
    }

    public Step {
      requireNonNull(kind, "kind");
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("weight must be in 0..100, but was " + weight);
      }
      if (kind == Kind.ANALYSIS) {
        requireNonNull(duration, "duration");
      }
    }

    /** Sends percent of traffic to the canary. */
    public static Step weight(int percent) {
      return new Step(Kind.WEIGHT, percent, null);
    }

    /** Waits; null waits until promoted by hand. */
    public static Step pause(Duration d) {
      return new Step(Kind.PAUSE, 0, d);
    }

    /** Compares canary with stable over a window of traffic. */
    public static Step analysis(Duration window) {
      return new Step(Kind.ANALYSIS, 0, window);
    }
  }

  /**
   * Requests carrying a header or cookie with a value ("*": any) go to the canary.
   *
   * @param kind "header" or "cookie"
   */
  public record MatchRule(String kind, String name, String value) {
    public MatchRule {
      requireNonNull(kind, "kind");
      requireNonNull(name, "name");
      requireNonNull(value, "value");
    }
  }

  public CanarySpec {
    steps = List.copyOf(steps);
    match = List.copyOf(match);
    requireNonNull(progressDeadline, "progressDeadline");
    requireNonNull(maxAnalysisWait, "maxAnalysisWait");
    if (canaryReplicas < 1) {
      throw new IllegalArgumentException("canaryReplicas must be >= 1, but was " + canaryReplicas);
    }
  }

  /** These steps with the documented defaults for everything else. */
  public static CanarySpec of(List<Step> steps) {
    return new CanarySpec(
        steps,
        1,
        List.of(),
        Duration.ofMinutes(10),
        Duration.ofMinutes(5),
        0.05,
        50,
        0.01,
        5,
        0.10);
  }
}
