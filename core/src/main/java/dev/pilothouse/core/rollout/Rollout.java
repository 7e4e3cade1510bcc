package dev.pilothouse.core.rollout;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.Strategy;
import java.time.Instant;
import java.util.List;

/**
 * The persisted state of one deploy: enough to resume (or roll back) after a daemon restart.
 *
 * @param before the desired state with the stable version (what a rollback returns to)
 * @param after the desired state with the new version (what a promotion applies)
 * @param step index of the current step; steps().size() once all have passed
 * @param weight percent of traffic the canary gets now
 * @param verdicts the latest analysis verdicts
 * @param smoked the smoke tests have passed (or there are none)
 * @param baseline what the stable version served before the switch, for post-deploy validation;
 *     null until then
 * @param passedGates the gates that said yes (e.g. {@code confirm-rollout}, {@code
 *     confirm-traffic-increase#2}): they are not asked again, also after a daemon restart
 */
public record Rollout(
    String service,
    Spec before,
    Spec after,
    Strategy plan,
    Phase phase,
    int step,
    int weight,
    Instant startedAt,
    Instant stepStartedAt,
    String reason,
    List<Verdict> verdicts,
    boolean smoked,
    Ports.Sample baseline,
    List<String> passedGates) {

  /** Where a rollout is. */
  public enum Phase {
    PROGRESSING,
    PAUSED,
    VALIDATING,
    PROMOTED,
    ROLLED_BACK;

    /** Whether the rollout has ended. */
    public boolean done() {
      return this == PROMOTED || this == ROLLED_BACK;
    }

    /** The name users see: Progressing, Paused, Promoted, RolledBack. */
    public String wire() {
      return switch (this) {
        case PROGRESSING -> "Progressing";
        case PAUSED -> "Paused";
        case VALIDATING -> "Validating";
        case PROMOTED -> "Promoted";
        case ROLLED_BACK -> "RolledBack";
      };
    }
  }

  public Rollout {
    requireNonNull(service, "service");
    requireNonNull(before, "before");
    requireNonNull(after, "after");
    requireNonNull(plan, "plan");
    requireNonNull(phase, "phase");
    requireNonNull(startedAt, "startedAt");
    requireNonNull(stepStartedAt, "stepStartedAt");
    requireNonNull(reason, "reason");
    verdicts = List.copyOf(verdicts);
    passedGates = passedGates == null ? List.of() : List.copyOf(passedGates); // older rows
  }

  /** A rollout no gate has answered yet. */
  public Rollout(
      String service,
      Spec before,
      Spec after,
      Strategy plan,
      Phase phase,
      int step,
      int weight,
      Instant startedAt,
      Instant stepStartedAt,
      String reason,
      List<Verdict> verdicts,
      boolean smoked,
      Ports.Sample baseline) {
    this(
        service,
        before,
        after,
        plan,
        phase,
        step,
        weight,
        startedAt,
        stepStartedAt,
        reason,
        verdicts,
        smoked,
        baseline,
        List.of());
  }

  /** A rollout just started. */
  public Rollout(
      String service,
      Spec before,
      Spec after,
      Strategy plan,
      Phase phase,
      int step,
      int weight,
      Instant startedAt,
      Instant stepStartedAt,
      String reason,
      List<Verdict> verdicts) {
    this(
        service,
        before,
        after,
        plan,
        phase,
        step,
        weight,
        startedAt,
        stepStartedAt,
        reason,
        verdicts,
        false,
        null);
  }

  /** On to the next step (progressing) at weight w from now. */
  Rollout nextStep(int w, Instant now, String why, List<Verdict> v) {
    return with(Phase.PROGRESSING, step + 1, w, now, why, v);
  }

  Rollout with(Phase p, int s, int w, Instant stepStart, String why, List<Verdict> v) {
    return new Rollout(
        service,
        before,
        after,
        plan,
        p,
        s,
        w,
        startedAt,
        stepStart,
        why,
        v,
        smoked,
        baseline,
        passedGates);
  }

  Rollout smokePassed(List<Verdict> v) {
    return new Rollout(
        service,
        before,
        after,
        plan,
        phase,
        step,
        weight,
        startedAt,
        stepStartedAt,
        "smoke tests passed",
        v,
        true,
        baseline,
        passedGates);
  }

  Rollout validating(int w, Instant at, String why, Ports.Sample base) {
    return new Rollout(
        service,
        before,
        after,
        plan,
        Phase.VALIDATING,
        step,
        w,
        startedAt,
        at,
        why,
        verdicts,
        smoked,
        base,
        passedGates);
  }

  /** Whether the gates under this key said yes. */
  public boolean passed(String gateKey) {
    return passedGates.contains(gateKey);
  }

  /** The gates under this key said yes. */
  Rollout gatePassed(String gateKey, String why) {
    List<String> passed = new java.util.ArrayList<>(passedGates);
    passed.add(gateKey);
    return new Rollout(
        service,
        before,
        after,
        plan,
        phase,
        step,
        weight,
        startedAt,
        stepStartedAt,
        why,
        verdicts,
        smoked,
        baseline,
        passed);
  }

  /** The same rollout with another reason (e.g. what it waits for). */
  Rollout because(String why) {
    return with(phase, step, weight, stepStartedAt, why, verdicts);
  }

  /** The plan's step count: a canary's steps, none for the other strategies. */
  public int stepCount() {
    return plan instanceof Strategy.Canary c ? c.steps().size() : 0;
  }

  /**
   * Whether the service's instances keep running the stable spec (the new version runs beside
   * them): true while a canary or blue-green rollout has not been promoted.
   */
  public boolean holdsStable() {
    return switch (plan) {
      case Strategy.Rolling r -> false;
      case Strategy.Canary c -> !phase.done() && phase != Phase.VALIDATING;
      case Strategy.BlueGreen b -> !phase.done();
    };
  }
}
