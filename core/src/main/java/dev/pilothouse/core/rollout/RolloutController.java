package dev.pilothouse.core.rollout;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Judge;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.CanarySpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * Runs canary deploys: starts the new version beside the stable one, shifts traffic step by step,
 * judges the canary against the stable instances at each analysis step, and either promotes it or
 * rolls back in one route-table swap, recording why. Level-triggered and in virtual time like the
 * instance controller; its state lives in the {@link Ports.RolloutStore}.
 */
public final class RolloutController {

  /** Collaborators of a rollout controller. */
  public record Options(
      Ports.Fleet fleet,
      TrafficSplitter traffic,
      Ports.Measurements measurements,
      Ports.RolloutStore store,
      EventSink events,
      InstantSource clock,
      RandomGenerator random) {
    public Options {
      requireNonNull(fleet, "fleet");
      requireNonNull(traffic, "traffic");
      requireNonNull(measurements, "measurements");
      requireNonNull(store, "store");
      requireNonNull(events, "events");
      requireNonNull(clock, "clock");
      requireNonNull(random, "random");
    }
  }

  /** A deploy that cannot start; the message says why. */
  public static final class RefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  private final Options o;
  private final Map<String, Rollout> rollouts = new LinkedHashMap<>();

  /** Rolled-back services whose split is dropped once their canary instances are gone. */
  private final Set<String> pendingCleanup = new java.util.HashSet<>();

  private RolloutController(Options options) {
    this.o = options;
  }

  /** A controller; it resumes the rollouts its store holds. */
  public static RolloutController create(Options options) {
    RolloutController c = new RolloutController(requireNonNull(options, "options"));
    for (Rollout r : options.store().rollouts()) {
      c.rollouts.put(r.service(), r);
    }
    return c;
  }

  /**
   * Starts a canary deploy of service from before to after. Refused while another rollout of the
   * service is under way (the deploy lock).
   */
  public synchronized Rollout start(String service, Spec before, Spec after, CanarySpec plan) {
    Rollout current = rollouts.get(service);
    if (current != null && !current.phase().done()) {
      throw new RefusedException(
          "a rollout of "
              + service
              + " is already "
              + current.phase().wire().toLowerCase(java.util.Locale.ROOT)
              + "; promote, abort or wait for it first");
    }
    ServiceSpec canary =
        after
            .service(service)
            .orElseThrow(() -> new RefusedException("no service named '" + service + "'"));
    Instant now = o.clock().instant();
    o.fleet().setCanary(service, canary, plan.canaryReplicas());
    Rollout r =
        new Rollout(
            service,
            before,
            after,
            plan,
            Rollout.Phase.PROGRESSING,
            0,
            0,
            now,
            now,
            "canary starting",
            List.of());
    save(r);
    o.traffic().split(service, split(r, 0));
    emit(
        "RolloutStarted",
        r,
        "canary " + canary.version() + " started",
        Map.of("version", canary.version()));
    return r;
  }

  /** After a daemon restart: runs the canaries of the rollouts under way again. */
  public synchronized void restoreCanaries() {
    for (Rollout r : rollouts.values()) {
      if (!r.phase().done()) {
        r.after()
            .service(r.service())
            .ifPresent(s -> o.fleet().setCanary(r.service(), s, r.plan().canaryReplicas()));
        o.traffic().split(r.service(), split(r, r.weight()));
      }
    }
  }

  /** The newest rollout of a service, if any. */
  public synchronized Optional<Rollout> status(String service) {
    return Optional.ofNullable(rollouts.get(service));
  }

  /** Every service's newest rollout. */
  public synchronized List<Rollout> all() {
    return List.copyOf(rollouts.values());
  }

  /** Skips the remaining steps and promotes the canary now. */
  public synchronized Rollout promote(String service) {
    Rollout r = active(service);
    return promoteNow(r, o.clock().instant(), "promoted by hand");
  }

  /** Stops a progressing rollout where it is. */
  public synchronized Rollout pause(String service) {
    Rollout r = active(service);
    return save(
        r.with(
            Rollout.Phase.PAUSED,
            r.step(),
            r.weight(),
            r.stepStartedAt(),
            "paused by hand",
            r.verdicts()));
  }

  /** Continues a paused rollout with its current step. */
  public synchronized Rollout resume(String service) {
    Rollout r = active(service);
    int step = r.step();
    if (step < r.plan().steps().size()
        && r.plan().steps().get(step).kind() == CanarySpec.Step.Kind.PAUSE) {
      step++; // resuming ends an indefinite pause
    }
    return save(
        r.with(
            Rollout.Phase.PROGRESSING,
            step,
            r.weight(),
            o.clock().instant(),
            "resumed by hand",
            r.verdicts()));
  }

  /** Rolls the canary back now. */
  public synchronized Rollout abort(String service) {
    return rollBack(active(service), o.clock().instant(), "aborted by hand", List.of());
  }

  private Rollout active(String service) {
    Rollout r = rollouts.get(service);
    if (r == null || r.phase().done()) {
      throw new RefusedException("no rollout of " + service + " is under way");
    }
    return r;
  }

  /** One pass over every rollout under way. */
  public synchronized void tick() {
    Instant now = o.clock().instant();
    for (Rollout r : List.copyOf(rollouts.values())) {
      if (!r.phase().done()) {
        advance(r, now);
      }
    }
    pendingCleanup.removeIf(this::cleanedUp);
  }

  private void advance(Rollout r, Instant now) {
    if (o.fleet().canaryCrashLooping(r.service())) {
      rollBack(r, now, "the canary keeps crashing", List.of());
      return;
    }
    List<InstanceStatus> instances = o.fleet().instances(r.service());
    Set<String> canaryIds = ids(instances, true, false);
    Set<String> readyCanaries = ids(instances, true, true);
    if (readyCanaries.size() < r.plan().canaryReplicas()) {
      if (now.isAfter(r.startedAt().plus(r.plan().progressDeadline()))) {
        rollBack(
            r,
            now,
            "the canary was not ready within the progress deadline of "
                + r.plan().progressDeadline().toSeconds()
                + "s",
            List.of());
      }
      return; // wait for the canary to be ready before it gets traffic
    }
    if (r.phase() == Rollout.Phase.PAUSED) {
      return;
    }
    List<CanarySpec.Step> steps = r.plan().steps();
    if (r.step() >= steps.size()) {
      promoteNow(r, now, "all steps passed");
      return;
    }
    CanarySpec.Step step = steps.get(r.step());
    switch (step.kind()) {
      case WEIGHT -> {
        o.traffic().split(r.service(), split(r, step.weight()));
        Rollout next =
            save(
                r.with(
                    Rollout.Phase.PROGRESSING,
                    r.step() + 1,
                    step.weight(),
                    now,
                    "canary at " + step.weight() + "%",
                    r.verdicts()));
        emit(
            "RolloutStep",
            next,
            "canary weight " + step.weight() + "%",
            Map.of("weight", Integer.toString(step.weight())));
      }
      case PAUSE -> {
        if (step.duration() == null) {
          save(
              r.with(
                  Rollout.Phase.PAUSED,
                  r.step(),
                  r.weight(),
                  now,
                  "paused until promoted",
                  r.verdicts()));
          emit("RolloutPaused", r, "paused until promoted", Map.of());
        } else if (!now.isBefore(r.stepStartedAt().plus(step.duration()))) {
          save(
              r.with(
                  Rollout.Phase.PROGRESSING,
                  r.step() + 1,
                  r.weight(),
                  now,
                  "pause over",
                  r.verdicts()));
        }
      }
      case ANALYSIS -> analyse(r, step, now, canaryIds, ids(instances, false, true));
    }
  }

  private void analyse(
      Rollout r, CanarySpec.Step a, Instant now, Set<String> canaryIds, Set<String> stableIds) {
    if (now.isBefore(r.stepStartedAt().plus(a.duration()))) {
      return;
    }
    Ports.Sample canary = o.measurements().window(canaryIds, r.stepStartedAt());
    Ports.Sample stable = o.measurements().window(stableIds, r.stepStartedAt());
    CanarySpec p = r.plan();
    Judge judge =
        new Judge(
            new Judge.Options(
                p.alpha(),
                p.minRequests(),
                p.maxErrorRateIncrease(),
                p.maxLatencyIncreaseMs(),
                p.maxLatencyIncreaseRatio()),
            o.random());
    List<Verdict> verdicts =
        List.of(
            judge.errorRate(
                stable.failures(), stable.requests(), canary.failures(), canary.requests()),
            judge.latency(stable.latenciesMs(), canary.latenciesMs()));
    Optional<Verdict> failed =
        verdicts.stream().filter(v -> v.outcome() == Verdict.Outcome.FAIL).findFirst();
    if (failed.isPresent()) {
      rollBack(r, now, failed.get().reason(), verdicts);
      return;
    }
    if (verdicts.stream().anyMatch(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE)) {
      if (now.isAfter(r.stepStartedAt().plus(a.duration()).plus(r.plan().maxAnalysisWait()))) {
        String why =
            "analysis inconclusive: "
                + verdicts.stream()
                    .filter(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE)
                    .map(Verdict::reason)
                    .collect(Collectors.joining("; "))
                + " — promote or abort by hand";
        Rollout paused =
            save(r.with(Rollout.Phase.PAUSED, r.step(), r.weight(), now, why, verdicts));
        emit("RolloutPaused", paused, why, Map.of());
      }
      return; // wait for more traffic
    }
    Rollout next =
        save(
            r.with(
                Rollout.Phase.PROGRESSING,
                r.step() + 1,
                r.weight(),
                now,
                "analysis passed",
                verdicts));
    emit(
        "RolloutStep",
        next,
        "analysis passed: "
            + verdicts.stream().map(Verdict::reason).collect(Collectors.joining("; ")),
        Map.of());
  }

  private Rollout promoteNow(Rollout r, Instant now, String why) {
    Rollout done =
        save(r.with(Rollout.Phase.PROMOTED, r.plan().steps().size(), 100, now, why, r.verdicts()));
    o.fleet().promote(r.service());
    o.fleet().clearCanary(r.service());
    o.traffic().clear(r.service());
    emit("RolloutPromoted", done, "promoted: " + why, Map.of());
    return done;
  }

  private Rollout rollBack(Rollout r, Instant now, String why, List<Verdict> verdicts) {
    // Weight 0 first: the canary leaves the routes in this swap, before its instances stop.
    o.traffic().split(r.service(), split(r, 0));
    o.fleet().clearCanary(r.service());
    o.fleet().revert(r.service(), r.before().service(r.service()).orElseThrow());
    Rollout done =
        save(
            r.with(
                Rollout.Phase.ROLLED_BACK,
                r.step(),
                0,
                now,
                why,
                verdicts.isEmpty() ? r.verdicts() : verdicts));
    Map<String, String> fields = new HashMap<>();
    for (Verdict v : done.verdicts()) {
      fields.put(v.metric() + "_p", Double.toString(v.pValue()));
      fields.put(v.metric() + "_effect", Double.toString(v.effect()));
    }
    emit("RolloutRolledBack", done, "rolled back: " + why, fields);
    pendingCleanup.add(r.service());
    return done;
  }

  /** Drops a rolled-back service's split once its canary instances are gone; true when done. */
  private boolean cleanedUp(String service) {
    if (!ids(o.fleet().instances(service), true, false).isEmpty()) {
      return false;
    }
    o.traffic().clear(service);
    return true;
  }

  private Split split(Rollout r, int weight) {
    ServiceSpec stable = r.before().service(r.service()).orElseThrow();
    ServiceSpec canary = r.after().service(r.service()).orElseThrow();
    List<Split.Rule> rules =
        r.plan().match().stream()
            .map(
                m ->
                    new Split.Rule(
                        m.kind().equalsIgnoreCase("cookie")
                            ? Split.Rule.Kind.COOKIE
                            : Split.Rule.Kind.HEADER,
                        m.name(),
                        m.value()))
            .toList();
    return new Split(
        stable.template(), canary.template(), weight, weight == 0 ? List.of() : rules, false);
  }

  /** Ids of the canary (or stable) instances, only the ready ones when readyOnly. */
  private static Set<String> ids(List<InstanceStatus> all, boolean canary, boolean readyOnly) {
    return all.stream()
        .filter(i -> (i.slot() >= InstanceController.CANARY_SLOT_BASE) == canary)
        .filter(i -> !readyOnly || i.ready())
        .map(InstanceStatus::id)
        .collect(Collectors.toSet());
  }

  private Rollout save(Rollout r) {
    rollouts.put(r.service(), r);
    o.store().saveRollout(r);
    return r;
  }

  private void emit(String type, Rollout r, String message, Map<String, String> fields) {
    Map<String, String> f = new HashMap<>(fields);
    f.put("phase", r.phase().wire());
    f.put("step", Integer.toString(r.step()));
    o.events().emit(new NewEvent(o.clock().instant(), type, r.service(), "", message, f));
  }
}
