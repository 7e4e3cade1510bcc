package dev.pilothouse.core.rollout;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.AnalysisTemplate;
import dev.pilothouse.core.spec.Strategy;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Advances a canary rollout once its new instances take traffic: walks the steps (weights, pauses,
 * analyses judged against the stable instances), then promotes, or starts post-deploy validation.
 */
final class CanaryAdvance implements RolloutController.Advance<Strategy.Canary> {
  private final RolloutController c;
  private final RolloutController.Options o;

  CanaryAdvance(RolloutController c, RolloutController.Options o) {
    this.c = c;
    this.o = o;
  }

  @Override
  public void advance(Rollout r, Strategy.Canary plan, Instant now) {
    List<InstanceStatus> instances = o.fleet().instances(r.service());
    Set<String> canaryIds = RolloutController.ids(instances, true, false);
    List<Strategy.Step> steps = plan.steps();
    if (r.step() >= steps.size()) {
      if (c.gate(r, plan, Strategy.Gate.Type.CONFIRM_PROMOTION, "confirm-promotion", now)
          != RolloutController.Gated.PASSED) {
        return;
      }
      if (plan.validation().isZero()) {
        c.promoteNow(r, now, "all steps passed");
      } else {
        startValidation(r, plan, now, "all steps passed");
      }
      return;
    }
    Strategy.Step step = steps.get(r.step());
    switch (step.kind()) {
      case WEIGHT -> {
        if (step.weight() > r.weight()
            && c.gate(
                    r,
                    plan,
                    Strategy.Gate.Type.CONFIRM_TRAFFIC_INCREASE,
                    "confirm-traffic-increase#" + r.step(),
                    now)
                != RolloutController.Gated.PASSED) {
          return;
        }
        if (!sizedFor(r, plan, step.weight(), canaryIds.size(), instances, now)) {
          return;
        }
        o.traffic().split(r.service(), c.split(r, plan, step.weight()));
        int size = RolloutController.canarySize(r, plan, step.weight());
        if (size < canaryIds.size()) {
          r.after().service(r.service()).ifPresent(s -> o.fleet().setCanary(r.service(), s, size));
        }
        Rollout next =
            c.save(
                r.nextStep(step.weight(), now, "canary at " + step.weight() + "%", r.verdicts()));
        c.emit(
            "RolloutStep",
            next,
            "canary weight " + step.weight() + "%",
            Map.of("weight", Integer.toString(step.weight())));
      }
      case PAUSE -> {
        if (step.duration() == null) {
          c.save(
              r.with(
                  Rollout.Phase.PAUSED,
                  r.step(),
                  r.weight(),
                  now,
                  "paused until promoted",
                  r.verdicts()));
          c.emit("RolloutPaused", r, "paused until promoted", Map.of());
        } else if (!now.isBefore(r.stepStartedAt().plus(step.duration()))) {
          c.save(r.nextStep(r.weight(), now, "pause over", r.verdicts()));
        }
      }
      case ANALYSIS -> {
        Set<String> stableIds = c.comparedWith(r, plan, instances);
        if (step.template() != null) {
          measure(r, plan, step.template(), now, canaryIds, stableIds);
        } else {
          analyse(r, plan, step, now, canaryIds, stableIds);
        }
      }
    }
  }

  /**
   * With {@code canaryReplicas: auto}: before the weight grows, the canary grows to its share of
   * the instances, and the weight waits until they are all ready (rolled back if they are not
   * within the progress deadline). True when the canary is big enough for weight.
   */
  private boolean sizedFor(
      Rollout r,
      Strategy.Canary plan,
      int weight,
      int running,
      List<InstanceStatus> instances,
      Instant now) {
    int size = RolloutController.canarySize(r, plan, weight);
    if (size <= running && RolloutController.ids(instances, true, true).size() >= size) {
      return true;
    }
    String why = "canary growing to " + size + " instances for " + weight + "%";
    if (size > running) {
      r.after().service(r.service()).ifPresent(s -> o.fleet().setCanary(r.service(), s, size));
    }
    if (size > running && !why.equals(r.reason())) {
      c.emit(
          "RolloutScaling",
          c.save(r.because(why)),
          why,
          Map.of("count", Integer.toString(size), "weight", Integer.toString(weight)));
    }
    if (now.isAfter(r.stepStartedAt().plus(plan.progressDeadline()))) {
      c.rollBack(
          r,
          now,
          "the canary's "
              + size
              + " instances for "
              + weight
              + "% were not ready within the progress deadline of "
              + plan.progressDeadline().toSeconds()
              + "s",
          List.of());
    }
    return false;
  }

  private void analyse(
      Rollout r,
      Strategy.Canary p,
      Strategy.Step a,
      Instant now,
      Set<String> canaryIds,
      Set<String> stableIds) {
    if (now.isBefore(r.stepStartedAt().plus(a.duration()))) {
      // Within the window the error rate is watched continuously; latency waits for its end. The
      // stable side's error rate counts since the rollout started (a tighter bound, sooner).
      c.lookAtErrors(
          r,
          p.analysis(),
          () -> o.measurements().window(stableIds, r.startedAt()),
          canaryIds,
          now,
          "");
      return;
    }
    Ports.Sample canary = o.measurements().window(canaryIds, r.stepStartedAt());
    Ports.Sample stable = o.measurements().window(stableIds, r.stepStartedAt());
    Ports.Sample stableSinceStart = o.measurements().window(stableIds, r.startedAt());
    List<Verdict> verdicts =
        new java.util.ArrayList<>(c.compare(p.analysis(), stableSinceStart, stable, canary));
    if (!p.checks().isEmpty()) {
      String key = r.service() + "#checks#" + r.step() + "#" + r.stepStartedAt();
      CompletableFuture<List<Verdict>> f =
          c.pending.computeIfAbsent(key, k -> o.checks().custom(r, p.checks()));
      if (!f.isDone()) {
        return;
      }
      c.pending.remove(key);
      verdicts.addAll(c.results(f, "custom checks"));
    }
    if (p.load() != null
        && verdicts.stream().anyMatch(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE)
        && c.driven.add(r.service() + "#" + r.step() + "#" + r.stepStartedAt())) {
      o.checks().drive(r.service(), p.load(), a.duration());
      c.emit(
          "RolloutLoadDriven",
          r,
          "too little traffic to judge; sending "
              + p.load().rate()
              + " requests/s through the route for "
              + a.duration().toSeconds()
              + "s",
          Map.of("rate", Double.toString(p.load().rate())));
    }
    Optional<Verdict> failed =
        verdicts.stream().filter(v -> v.outcome() == Verdict.Outcome.FAIL).findFirst();
    if (failed.isPresent()) {
      c.rollBack(r, now, failed.get().reason(), verdicts);
      return;
    }
    if (verdicts.stream().anyMatch(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE)) {
      if (now.isAfter(r.stepStartedAt().plus(a.duration()).plus(p.maxAnalysisWait()))) {
        pause(r, "analysis", verdicts, now);
      }
      return; // wait for more traffic
    }
    Rollout next = c.save(r.nextStep(r.weight(), now, "analysis passed", verdicts));
    c.emit(
        "RolloutStep",
        next,
        "analysis passed: "
            + verdicts.stream().map(Verdict::reason).collect(Collectors.joining("; ")),
        Map.of());
  }

  /**
   * An analysis step by a template: its metrics are measured on their schedule (the error rate is
   * still watched between measurements); too many failures roll back, too many inconclusive
   * measurements pause, all measurements within the limits pass the step.
   */
  private void measure(
      Rollout r,
      Strategy.Canary p,
      AnalysisTemplate.Use use,
      Instant now,
      Set<String> canaryIds,
      Set<String> stableIds) {
    if (c.lookAtErrors(
        r,
        p.analysis(),
        () -> o.measurements().window(stableIds, r.startedAt()),
        canaryIds,
        now,
        "")) {
      return;
    }
    String key = r.service() + "#template#" + r.step() + "#" + r.stepStartedAt();
    TemplateRun run =
        c.templateRuns.computeIfAbsent(
            key,
            k ->
                new TemplateRun(
                    use.forRollout(
                        r.service(),
                        RolloutController.versionOf(r.after(), r.service()),
                        RolloutController.versionOf(r.before(), r.service())),
                    r.stepStartedAt()));
    int before = run.measured();
    TemplateRun.State state = run.look(now, m -> o.checks().custom(r, List.of(m.check())));
    List<Verdict> verdicts = run.verdicts();
    String what = "analysis '" + use.template() + "'";
    switch (state) {
      case RUNNING -> {
        if (run.measured() != before) {
          c.save(
              r.with(
                  r.phase(),
                  r.step(),
                  r.weight(),
                  r.stepStartedAt(),
                  what + " running: " + run.measured() + " measurements in",
                  verdicts));
        }
      }
      case FAILED -> {
        c.templateRuns.remove(key);
        c.rollBack(
            r,
            now,
            what
                + " failed: "
                + verdicts.stream()
                    .filter(v -> v.outcome() == Verdict.Outcome.FAIL)
                    .map(Verdict::reason)
                    .collect(Collectors.joining("; ")),
            verdicts);
      }
      case INCONCLUSIVE -> {
        c.templateRuns.remove(key);
        pause(r, what, verdicts, now);
      }
      case PASSED -> {
        c.templateRuns.remove(key);
        Rollout next = c.save(r.nextStep(r.weight(), now, what + " passed", verdicts));
        c.emit(
            "RolloutStep",
            next,
            what
                + " passed: "
                + verdicts.stream().map(Verdict::reason).collect(Collectors.joining("; ")),
            Map.of("template", use.template()));
      }
    }
  }

  /** An analysis that cannot conclude pauses the rollout for a person, naming what is unsure. */
  private void pause(Rollout r, String what, List<Verdict> verdicts, Instant now) {
    String why =
        what
            + " inconclusive: "
            + verdicts.stream()
                .filter(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE)
                .map(Verdict::reason)
                .collect(Collectors.joining("; "))
            + " — promote or abort by hand";
    Rollout paused = c.save(r.with(Rollout.Phase.PAUSED, r.step(), r.weight(), now, why, verdicts));
    c.emit("RolloutPaused", paused, why, Map.of());
  }

  /** Canary: promotes the instances, then keeps judging them against the baseline. */
  private void startValidation(Rollout r, Strategy.Canary plan, Instant now, String why) {
    Ports.Sample base = c.stableBaseline(r);
    Rollout next =
        c.save(
            r.validating(
                100, now, why + "; validating for " + plan.validation().toSeconds() + "s", base));
    o.fleet().promote(r.service());
    o.fleet().clearCanary(r.service());
    o.traffic().clear(r.service());
    c.emit("RolloutValidating", next, next.reason(), Map.of());
  }
}
