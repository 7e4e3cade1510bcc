package dev.pilothouse.core.rollout;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Judge;
import dev.pilothouse.core.traffic.Split;
import java.time.Duration;
import java.util.List;

/**
 * The steps of a canary deploy: traffic weights, pauses and analyses, with the canary's size,
 * targeting rules and deadlines.
 *
 * @param canaryReplicas instances of the new version run beside the stable ones
 * @param rules requests matching any of these always go to the canary (A/B, smoke tests)
 * @param progressDeadline the canary must be ready within this, or the deploy rolls back
 * @param maxAnalysisWait an analysis short of traffic waits at most this long, then pauses
 */
public record CanaryPlan(
    List<Step> steps,
    int canaryReplicas,
    List<Split.Rule> rules,
    Duration progressDeadline,
    Duration maxAnalysisWait,
    Judge.Options judge) {

  /** One step. */
  public sealed interface Step {}

  /** Send this percent of traffic to the canary. */
  public record Weight(int percent) implements Step {
    public Weight {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException("weight must be in 0..100, but was " + percent);
      }
    }
  }

  /** Wait; a null duration waits until promoted by hand. */
  public record Pause(Duration duration) implements Step {}

  /** Compare canary with stable over the traffic of the given window. */
  public record Analysis(Duration window) implements Step {
    public Analysis {
      requireNonNull(window, "window");
    }
  }

  public CanaryPlan {
    steps = List.copyOf(steps);
    rules = List.copyOf(rules);
    requireNonNull(progressDeadline, "progressDeadline");
    requireNonNull(maxAnalysisWait, "maxAnalysisWait");
    requireNonNull(judge, "judge");
    if (canaryReplicas < 1) {
      throw new IllegalArgumentException("canaryReplicas must be >= 1, but was " + canaryReplicas);
    }
  }
}
