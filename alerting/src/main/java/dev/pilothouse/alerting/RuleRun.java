package dev.pilothouse.alerting;

import dev.pilothouse.core.alerting.Rule;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** One rule as its group evaluates it: its health and the series it wrote last time. */
abstract sealed class RuleRun permits RecordingRuleRun, AlertingRuleRun {
  /** Prometheus's staleness marker: a series the rule no longer produces ends here. */
  static final double STALE = Double.longBitsToDouble(0x7ff0000000000002L);

  final Rule rule;
  String health = "unknown";
  String lastError = "";
  Instant lastEvaluation;
  Duration evaluationTime = Duration.ZERO;
  private Set<Map<String, String>> written = Set.of();

  RuleRun(Rule rule) {
    this.rule = rule;
  }

  /** Evaluates the rule at ts; what it records goes to the store before the next rule runs. */
  abstract void eval(RuleStore store, Instant ts, int limit, Evaluation context);

  /** Writes this evaluation's series and a staleness marker for each one written last time only. */
  final void write(RuleStore store, Instant ts, List<RuleStore.Sample> samples) {
    List<RuleStore.Sample> out = new ArrayList<>(samples);
    Set<Map<String, String>> now = new java.util.HashSet<>();
    samples.forEach(s -> now.add(s.labels()));
    for (Map<String, String> old : written) {
      if (!now.contains(old)) {
        out.add(new RuleStore.Sample(old, STALE));
      }
    }
    written = now;
    if (!out.isEmpty()) {
      store.append(out, ts);
    }
  }

  /** Marks every series this rule wrote as ended (its rule was removed). */
  final void retire(RuleStore store, Instant ts) {
    write(store, ts, List.of());
  }

  static Map<String, String> withoutName(Map<String, String> labels) {
    Map<String, String> m = new TreeMap<>(labels);
    m.remove("__name__");
    return m;
  }

  /** What a group's evaluation shares with its rules. */
  record Evaluation(Map<String, String> externalLabels, String externalUrl) {}
}
