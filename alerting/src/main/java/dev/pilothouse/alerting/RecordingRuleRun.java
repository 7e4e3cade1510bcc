package dev.pilothouse.alerting;

import dev.pilothouse.core.alerting.Rule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** A recording rule: the expression's result stored under the rule's metric name. */
final class RecordingRuleRun extends RuleRun {
  RecordingRuleRun(Rule.Recording rule) {
    super(rule);
  }

  @Override
  void eval(RuleStore store, Instant ts, int limit, Evaluation context) {
    Rule.Recording r = (Rule.Recording) rule;
    List<RuleStore.Sample> result = store.query(r.expr(), ts);
    List<RuleStore.Sample> out = new ArrayList<>();
    Set<Map<String, String>> seen = new HashSet<>();
    for (RuleStore.Sample s : result) {
      Map<String, String> labels = new TreeMap<>(s.labels());
      labels.put("__name__", r.record());
      r.labels()
          .forEach(
              (k, v) -> {
                if (v.isEmpty()) {
                  labels.remove(k);
                } else {
                  labels.put(k, v);
                }
              });
      if (!seen.add(labels)) {
        throw new RuleException(
            "vector contains metrics with the same labelset after applying rule labels");
      }
      out.add(new RuleStore.Sample(labels, s.value()));
    }
    if (limit > 0 && out.size() > limit) {
      throw new RuleException("exceeded limit of " + limit + " with " + out.size() + " series");
    }
    write(store, ts, out);
  }
}
