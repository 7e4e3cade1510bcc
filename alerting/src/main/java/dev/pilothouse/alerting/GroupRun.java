package dev.pilothouse.alerting;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.RuleGroup;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One rule group as it runs: its rules in order, the moments it is due (its interval, offset by a
 * hash of its key so that groups spread out, as Prometheus does) and how its last evaluation went.
 */
final class GroupRun {
  final RuleGroup group;
  final List<RuleRun> runs = new ArrayList<>();
  Instant lastEvaluation;
  Duration evaluationTime = Duration.ZERO;
  long missed;
  long failures;
  long evaluations;
  private Instant due;

  GroupRun(RuleGroup group, GroupRun previous, List<AlertState> restored) {
    this.group = group;
    for (Rule r : group.rules()) {
      RuleRun kept = previous == null ? null : previous.find(r);
      if (kept != null) {
        runs.add(kept);
      } else if (r instanceof Rule.Alerting a) {
        runs.add(
            new AlertingRuleRun(
                a, restored.stream().filter(s -> s.rule().equals(a.alert())).toList()));
      } else {
        runs.add(new RecordingRuleRun((Rule.Recording) r));
      }
    }
    if (previous != null && previous.group.interval().equals(group.interval())) {
      this.due = previous.due;
      this.lastEvaluation = previous.lastEvaluation;
    }
    if (previous != null) {
      this.failures = previous.failures; // counters run on across reloads
      this.evaluations = previous.evaluations;
      this.missed = previous.missed;
    }
  }

  /** The run of an equal rule of this group (a reload keeps its alerts and health). */
  private RuleRun find(Rule r) {
    for (RuleRun run : runs) {
      if (run.rule.equals(r)) {
        return run;
      }
    }
    return null;
  }

  /** Rules of this group that the new group no longer has (their series are ended). */
  List<RuleRun> dropped(GroupRun next) {
    List<RuleRun> out = new ArrayList<>(runs);
    out.removeAll(next.runs);
    return out;
  }

  /** The evaluation moment to run now, or null when none is due yet. */
  Instant due(Instant now) {
    long interval = group.interval().toMillis();
    if (due == null) {
      // A new group (or a new daemon) evaluates at once, then on its aligned moments.
      long offset = Math.floorMod((long) group.key().hashCode(), interval);
      long t = now.toEpochMilli();
      long next = t - Math.floorMod(t - offset, interval) + interval;
      due = Instant.ofEpochMilli(next);
      return now;
    }
    if (now.isBefore(due)) {
      return null;
    }
    // The latest scheduled moment at or before now; those skipped count as missed. The group
    // is evaluated at the moment it actually runs (a tick after its slot), so that a sample
    // that arrived between the slot and the tick is already seen.
    long behind = (now.toEpochMilli() - due.toEpochMilli()) / interval;
    missed += behind;
    Instant at = due.plusMillis(behind * interval);
    due = at.plusMillis(interval);
    return now;
  }

  /** The alerts of every alerting rule of the group, for keeping in the store. */
  List<AlertState> alerts() {
    List<AlertState> out = new ArrayList<>();
    for (RuleRun r : runs) {
      if (r instanceof AlertingRuleRun a) {
        out.addAll(a.alerts());
      }
    }
    return out;
  }

  /** Rule runs by name, for lookups from the API. */
  Map<String, RuleRun> byName() {
    Map<String, RuleRun> m = new java.util.LinkedHashMap<>();
    runs.forEach(r -> m.putIfAbsent(r.rule.name(), r));
    return m;
  }
}
