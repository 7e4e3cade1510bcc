package dev.pilothouse.core.flags;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A gradual change of a flag: its users move from one variant to another by percentage steps on a
 * schedule (1 % → 10 % → 50 % → 100 %), while checks watch; a failed check, or an abort, puts
 * everyone back on the variant they had.
 *
 * @param from the variant everyone had (the flag's default when the rollout started)
 * @param to the variant users move to
 * @param steps percentages, rising, ending at 100
 * @param every how long each step lasts before the next (if the checks pass)
 * @param checks PromQL conditions, webhooks or commands, as a canary's checks
 * @param step index into steps of the share now served
 * @param verdicts the checks' latest answers
 */
public record FlagRollout(
    String key,
    String from,
    String to,
    List<Integer> steps,
    Duration every,
    List<Strategy.Check> checks,
    Phase phase,
    int step,
    Instant startedAt,
    Instant stepStartedAt,
    String reason,
    String source,
    List<Verdict> verdicts) {

  /** The name of the rule a rollout adds to its flag (last, before the default). */
  public static final String RULE = "gradual-rollout";

  /** At most this many steps and checks. */
  public static final int MAX_STEPS = 20;

  public static final int MAX_CHECKS = 10;

  /** Where a rollout stands. */
  public enum Phase {
    PROGRESSING,
    COMPLETED,
    ROLLED_BACK,
    ABORTED;

    /** Whether it is over. */
    public boolean done() {
      return this != PROGRESSING;
    }

    /** The name in JSON and tables: Progressing, Completed, RolledBack, Aborted. */
    public String wire() {
      return switch (this) {
        case PROGRESSING -> "Progressing";
        case COMPLETED -> "Completed";
        case ROLLED_BACK -> "RolledBack";
        case ABORTED -> "Aborted";
      };
    }
  }

  public FlagRollout {
    requireNonNull(key, "key");
    requireNonNull(from, "from");
    requireNonNull(to, "to");
    steps = List.copyOf(steps);
    requireNonNull(every, "every");
    checks = checks == null ? List.of() : List.copyOf(checks);
    requireNonNull(phase, "phase");
    requireNonNull(startedAt, "startedAt");
    requireNonNull(stepStartedAt, "stepStartedAt");
    requireNonNull(reason, "reason");
    requireNonNull(source, "source");
    verdicts = verdicts == null ? List.of() : List.copyOf(verdicts);
  }

  /** What is wrong with a rollout's plan, as "field: problem" lines; empty when nothing. */
  public static List<String> problems(List<Integer> steps, Duration every, int checks) {
    List<String> out = new ArrayList<>();
    if (steps.isEmpty() || steps.size() > MAX_STEPS) {
      out.add("steps: give 1 to " + MAX_STEPS + " percentages, e.g. [1, 10, 50, 100]");
    } else {
      for (int i = 0; i < steps.size(); i++) {
        int p = steps.get(i);
        if (p < 1 || p > 100) {
          out.add("steps[" + i + "]: " + p + " is not a percentage from 1 to 100");
        } else if (i > 0 && p <= steps.get(i - 1)) {
          out.add("steps[" + i + "]: " + p + " does not rise above " + steps.get(i - 1));
        }
      }
      if (steps.get(steps.size() - 1) != 100) {
        out.add("steps: the last step must be 100 (everyone), e.g. [1, 10, 50, 100]");
      }
    }
    if (every.compareTo(Duration.ofSeconds(1)) < 0 || every.compareTo(Duration.ofDays(7)) > 0) {
      out.add("every: must be from 1s to 7d, but was " + every.toSeconds() + "s");
    }
    if (checks > MAX_CHECKS) {
      out.add("checks: at most " + MAX_CHECKS + ", but " + checks + " were given");
    }
    return out;
  }

  /** The share of users now on the new variant. */
  public int percent() {
    return phase == Phase.COMPLETED ? 100 : phase.done() ? 0 : steps.get(step);
  }

  /** This rollout at another step (just started). */
  public FlagRollout atStep(int next, Instant now, String why) {
    return new FlagRollout(
        key, from, to, steps, every, checks, phase, next, startedAt, now, why, source, verdicts);
  }

  /** This rollout ended (or still progressing with a new reason and verdicts). */
  public FlagRollout with(Phase p, String why, List<Verdict> latest) {
    return new FlagRollout(
        key,
        from,
        to,
        steps,
        every,
        checks,
        p,
        step,
        startedAt,
        stepStartedAt,
        why,
        source,
        latest);
  }
}
