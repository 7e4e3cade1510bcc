package dev.pilothouse.core.rollout;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.spec.AnalysisTemplate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * One analysis step's measurements of a template's metrics (Argo Rollouts' AnalysisRun): each
 * metric is measured at the end of each of its intervals, {@code count} times; more failed
 * measurements than its {@code failureLimit} fail the step, more inconclusive ones than its {@code
 * inconclusiveLimit} make it inconclusive, and once every metric has all its measurements within
 * the limits, at least one of them passed, the step passes (all inconclusive is inconclusive). Kept
 * in memory: after a daemon restart the step measures afresh.
 */
final class TemplateRun {
  /** Where a run stands after a look. */
  enum State {
    RUNNING,
    PASSED,
    FAILED,
    INCONCLUSIVE
  }

  private final List<AnalysisTemplate.Metric> metrics;
  private final Instant started;
  private final int[] taken;
  private final int[] failed;
  private final int[] inconclusive;
  private final Verdict[] last;
  private final List<CompletableFuture<List<Verdict>>> pending = new ArrayList<>();

  TemplateRun(List<AnalysisTemplate.Metric> metrics, Instant started) {
    this.metrics = List.copyOf(metrics);
    this.started = started;
    int n = metrics.size();
    taken = new int[n];
    failed = new int[n];
    inconclusive = new int[n];
    last = new Verdict[n];
    for (int i = 0; i < n; i++) {
      pending.add(null);
    }
  }

  /**
   * Collects finished measurements and starts those due (one at a time per metric), by measure;
   * then says where the run stands.
   */
  State look(Instant now, Function<AnalysisTemplate.Metric, CompletableFuture<List<Verdict>>> m) {
    for (int i = 0; i < metrics.size(); i++) {
      AnalysisTemplate.Metric metric = metrics.get(i);
      CompletableFuture<List<Verdict>> f = pending.get(i);
      if (f != null && f.isDone()) {
        pending.set(i, null);
        Verdict v = RolloutController.results(f, metric.name()).get(0);
        taken[i]++;
        switch (v.outcome()) {
          case FAIL -> failed[i]++;
          case INCONCLUSIVE -> inconclusive[i]++;
          case PASS -> {}
        }
        last[i] = v;
      } else if (f == null
          && taken[i] < metric.count()
          && !now.isBefore(started.plus(metric.interval().multipliedBy(taken[i] + 1L)))) {
        pending.set(i, m.apply(metric));
      }
    }
    for (int i = 0; i < metrics.size(); i++) {
      if (failed[i] > metrics.get(i).failureLimit()) {
        return State.FAILED;
      }
    }
    for (int i = 0; i < metrics.size(); i++) {
      if (inconclusive[i] > metrics.get(i).inconclusiveLimit()) {
        return State.INCONCLUSIVE;
      }
    }
    for (int i = 0; i < metrics.size(); i++) {
      if (taken[i] < metrics.get(i).count()) {
        return State.RUNNING;
      }
    }
    for (int i = 0; i < metrics.size(); i++) {
      if (failed[i] + inconclusive[i] == taken[i]) {
        return State.INCONCLUSIVE; // within the limits, but not one measurement passed
      }
    }
    return State.PASSED;
  }

  /** One verdict per metric: its tally so far and the latest measurement's reason. */
  List<Verdict> verdicts() {
    List<Verdict> out = new ArrayList<>();
    for (int i = 0; i < metrics.size(); i++) {
      AnalysisTemplate.Metric m = metrics.get(i);
      Verdict.Outcome outcome =
          failed[i] > m.failureLimit()
              ? Verdict.Outcome.FAIL
              : inconclusive[i] > m.inconclusiveLimit()
                      || taken[i] < m.count()
                      || failed[i] + inconclusive[i] == taken[i]
                  ? Verdict.Outcome.INCONCLUSIVE
                  : Verdict.Outcome.PASS;
      String tally =
          m.name()
              + ": "
              + taken[i]
              + " of "
              + m.count()
              + " measured, "
              + failed[i]
              + " failed (limit "
              + m.failureLimit()
              + "), "
              + inconclusive[i]
              + " inconclusive (limit "
              + m.inconclusiveLimit()
              + ")";
      out.add(
          new Verdict(
              m.name(),
              outcome,
              Double.NaN,
              last[i] == null ? Double.NaN : last[i].effect(),
              last[i] == null ? tally : tally + "; last: " + last[i].reason()));
    }
    return out;
  }

  /** Measurements taken so far, over all metrics (a change is worth saving). */
  int measured() {
    int n = 0;
    for (int t : taken) {
      n += t;
    }
    return n;
  }
}
