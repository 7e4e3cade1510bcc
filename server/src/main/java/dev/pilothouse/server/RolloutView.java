package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.rollout.Rollout;

/** A rollout as the API shows it (the client's wire record). */
final class RolloutView {
  private RolloutView() {}

  /**
   * The rollout; previewSecret goes into the header that reaches the new version while the rollout
   * is under way (for manual checks, as the smoke tests use it).
   */
  static Wire.Rollout of(Rollout r, String previewSecret) {
    return of(r, previewSecret, java.util.Optional.empty());
  }

  /** The rollout with the latest look at its error rate between verdicts, if one runs. */
  static Wire.Rollout of(Rollout r, String previewSecret, java.util.Optional<Verdict> live) {
    return new Wire.Rollout(
        r.service(),
        r.phase().wire(),
        r.reason(),
        r.before().service(r.service()).map(s -> s.version()).orElse(""),
        r.after().service(r.service()).map(s -> s.version()).orElse(""),
        r.step(),
        r.stepCount(),
        r.weight(),
        r.startedAt().toString(),
        r.verdicts().stream().map(RolloutView::view).toList(),
        r.plan().kind().wire(),
        r.phase().done()
            ? ""
            : dev.pilothouse.core.rollout.RolloutController.PREVIEW_HEADER + ": " + previewSecret,
        r.passedGates(),
        live.map(RolloutView::view).orElse(null),
        r.plan() instanceof dev.pilothouse.core.spec.Strategy.Canary c
            ? c.steps().stream().map(RolloutView::describe).toList()
            : java.util.List.of());
  }

  /** What a canary step does, as the dashboard and {@code rollout status} show it. */
  static String describe(dev.pilothouse.core.spec.Strategy.Step s) {
    return switch (s.kind()) {
      case WEIGHT -> "weight " + s.weight() + "%";
      case PAUSE ->
          s.duration() == null
              ? "pause until promoted"
              : "pause " + dev.pilothouse.core.spec.SpecTerms.duration(s.duration());
      case ANALYSIS ->
          s.template() != null
              ? "analysis: " + s.template().template()
              : "analysis " + dev.pilothouse.core.spec.SpecTerms.duration(s.duration());
    };
  }

  private static Wire.Verdict view(Verdict v) {
    return new Wire.Verdict(
        v.metric(),
        v.outcome().wire(),
        Double.isNaN(v.pValue()) ? null : v.pValue(),
        Double.isNaN(v.effect()) ? null : v.effect(),
        v.reason());
  }
}
