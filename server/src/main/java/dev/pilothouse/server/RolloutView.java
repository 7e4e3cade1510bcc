package dev.pilothouse.server;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.rollout.Rollout;
import java.util.List;

/** A rollout as the API shows it. */
record RolloutView(
    String service,
    String phase,
    String reason,
    String fromVersion,
    String toVersion,
    int step,
    int steps,
    int weight,
    String startedAt,
    List<VerdictView> verdicts) {

  /** One metric's verdict. */
  record VerdictView(String metric, String outcome, Double pValue, Double effect, String reason) {}

  static RolloutView of(Rollout r) {
    return new RolloutView(
        r.service(),
        r.phase().wire(),
        r.reason(),
        r.before().service(r.service()).map(s -> s.version()).orElse(""),
        r.after().service(r.service()).map(s -> s.version()).orElse(""),
        r.step(),
        r.plan().steps().size(),
        r.weight(),
        r.startedAt().toString(),
        r.verdicts().stream().map(RolloutView::view).toList());
  }

  private static VerdictView view(Verdict v) {
    return new VerdictView(
        v.metric(),
        v.outcome().wire(),
        Double.isNaN(v.pValue()) ? null : v.pValue(),
        Double.isNaN(v.effect()) ? null : v.effect(),
        v.reason());
  }
}
