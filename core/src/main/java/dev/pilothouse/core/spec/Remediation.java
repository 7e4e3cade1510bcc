package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A remediation runbook of one service: when a condition holds, take the actions in turn, each
 * verified after a while (did the condition clear?), within guard rails; when none helped, escalate
 * to people (an event that notifies and opens an incident).
 *
 * @param name unique per service
 * @param when the condition that starts it
 * @param actions tried in order until the condition clears
 * @param verify how long after an action the condition is checked again
 * @param cooldown the least time between two actions of this runbook on the service
 * @param maxPerHour the most actions per hour of this runbook on the service; beyond, it escalates
 * @param blastRadius the largest share of the service's instances out of service at once because of
 *     remediation (being replaced, quarantined), in (0, 1]
 * @param escalate whether a remediation that did not help notifies and opens an incident
 * @param quarantineFor how long a quarantined instance is kept running for diagnosis
 */
public record Remediation(
    String name,
    Condition when,
    List<Action> actions,
    Duration verify,
    Duration cooldown,
    int maxPerHour,
    double blastRadius,
    boolean escalate,
    Duration quarantineFor) {

  public Remediation {
    requireNonNull(name, "name");
    requireNonNull(when, "when");
    actions = List.copyOf(actions);
    if (actions.isEmpty()) {
      throw new IllegalArgumentException("a remediation needs at least one action");
    }
    requireNonNull(verify, "verify");
    requireNonNull(cooldown, "cooldown");
    requireNonNull(quarantineFor, "quarantineFor");
    if (maxPerHour < 1) {
      throw new IllegalArgumentException("maxPerHour must be >= 1, but was " + maxPerHour);
    }
    if (!(blastRadius > 0 && blastRadius <= 1)) {
      throw new IllegalArgumentException("blastRadius must be in (0, 1], but was " + blastRadius);
    }
    for (Action a : actions) {
      if (a.perInstance() && !when.perInstance()) {
        throw new IllegalArgumentException(
            "'" + a.name() + "' acts on an instance; '" + when.name() + "' is about the service");
      }
    }
  }

  /** What starts a remediation. */
  public sealed interface Condition {
    /** The condition's name as the spec writes it. */
    String name();

    /** Whether it holds for single instances (else for the service). */
    boolean perInstance();

    /** An instance that was ready has not been ready for this long (hung, overloaded, wedged). */
    record Unready(Duration after) implements Condition {
      public Unready {
        requireNonNull(after, "after");
      }

      @Override
      public String name() {
        return "unready";
      }

      @Override
      public boolean perInstance() {
        return true;
      }
    }

    /** An instance of the service gave up restarting (its restarts ran out). */
    record CrashLoop() implements Condition {
      @Override
      public String name() {
        return "crashLoop";
      }

      @Override
      public boolean perInstance() {
        return false;
      }
    }

    /** An alert of this name fires for the service (its {@code service} label). */
    record Alert(String alertname) implements Condition {
      public Alert {
        requireNonNull(alertname, "alertname");
      }

      @Override
      public String name() {
        return "alert";
      }

      @Override
      public boolean perInstance() {
        return false;
      }
    }
  }

  /** One step of a runbook. */
  public sealed interface Action {
    /** The action's name as the spec writes it. */
    String name();

    /** Whether it acts on the instance the condition holds for (else on the service). */
    default boolean perInstance() {
      return false;
    }

    /** Starts a fresh instance in the instance's place and drains the old one. */
    record Replace() implements Action {
      @Override
      public String name() {
        return "replace";
      }

      @Override
      public boolean perInstance() {
        return true;
      }
    }

    /**
     * Takes the instance out of traffic and out of the count (a fresh one takes its place) and
     * keeps it running for diagnosis for {@code quarantineFor}.
     */
    record Quarantine() implements Action {
      @Override
      public String name() {
        return "quarantine";
      }

      @Override
      public boolean perInstance() {
        return true;
      }
    }

    /**
     * Restarts the instance the condition holds for (its process starts afresh in its slot), or,
     * for a service condition, every instance of the service one at a time (clears a crash loop).
     */
    record Restart() implements Action {
      @Override
      public String name() {
        return "restart";
      }
    }

    /** Returns the service to the revision before its current spec (as {@code rollout undo}). */
    record Rollback() implements Action {
      @Override
      public String name() {
        return "rollback";
      }
    }

    /** Adds instances (raises {@code replicas}, or an autoscaled service's floor is left alone). */
    record ScaleOut(int by) implements Action {
      public ScaleOut {
        if (by < 1 || by > 100) {
          throw new IllegalArgumentException("scaleOut must be 1..100, but was " + by);
        }
      }

      @Override
      public String name() {
        return "scaleOut";
      }
    }

    /** Runs a command (no shell) with SERVICE and INSTANCE in its environment; exit 0 is done. */
    record Command(List<String> argv, Duration timeout) implements Action {
      public Command {
        argv = List.copyOf(argv);
        if (argv.isEmpty()) {
          throw new IllegalArgumentException("a command needs a program");
        }
        requireNonNull(timeout, "timeout");
      }

      @Override
      public String name() {
        return "command";
      }
    }
  }
}
