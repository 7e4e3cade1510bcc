package dev.pilothouse.core.rollout;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.analysis.Judge;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/**
 * Runs deploys. A canary starts beside the stable version, is smoke-tested through header-targeted
 * routing, gets traffic step by step and is judged against the stable instances at each analysis
 * step; a blue-green deploy starts a full new set, smoke-tests it on the preview header, switches
 * all traffic at once and keeps the old set warm for a rollback window; a rolling deploy replaces
 * instances within maxSurge/maxUnavailable. Each ends promoted, or rolled back in one route-table
 * swap with the reason recorded; an optional validation window keeps watching after promotion.
 * Level-triggered and in virtual time like the instance controller; its state lives in the {@link
 * Ports.RolloutStore}.
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
      RandomGenerator random,
      Ports.Checks checks,
      String previewSecret) {
    /** Options whose preview secret is drawn from random. */
    public Options(
        Ports.Fleet fleet,
        TrafficSplitter traffic,
        Ports.Measurements measurements,
        Ports.RolloutStore store,
        EventSink events,
        InstantSource clock,
        RandomGenerator random,
        Ports.Checks checks) {
      this(fleet, traffic, measurements, store, events, clock, random, checks, secret(random));
    }

    /** Options without smoke tests, custom checks or a load generator. */
    public Options(
        Ports.Fleet fleet,
        TrafficSplitter traffic,
        Ports.Measurements measurements,
        Ports.RolloutStore store,
        EventSink events,
        InstantSource clock,
        RandomGenerator random) {
      this(fleet, traffic, measurements, store, events, clock, random, Ports.Checks.none());
    }

    public Options {
      requireNonNull(checks, "checks");
      requireNonNull(fleet, "fleet");
      requireNonNull(traffic, "traffic");
      requireNonNull(measurements, "measurements");
      requireNonNull(store, "store");
      requireNonNull(events, "events");
      requireNonNull(clock, "clock");
      requireNonNull(random, "random");
      if (previewSecret == null || previewSecret.length() < 16) {
        throw new IllegalArgumentException("previewSecret must have at least 16 characters");
      }
    }

    /** 128 random bits in hex. */
    public static String secret(RandomGenerator random) {
      return java.util.HexFormat.of().toHexDigits(random.nextLong())
          + java.util.HexFormat.of().toHexDigits(random.nextLong());
    }
  }

  /**
   * The value of {@link #PREVIEW_HEADER} that sends a request to the new version: only who has it
   * (smoke tests, operators through 'rollout status') reaches an unreleased version.
   */
  public String previewSecret() {
    return o.previewSecret();
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

  /** Smoke tests and custom checks under way, by service and stage; lost on restart (re-run). */
  final Map<String, CompletableFuture<List<Verdict>>> pending = new HashMap<>();

  /** The measurements of template analysis steps under way, by service#step#start. */
  final Map<String, TemplateRun> templateRuns = new HashMap<>();

  /** Analysis steps for which the load generator was started. */
  final Set<String> driven = new java.util.HashSet<>();

  /** When a validating rollout was last judged. */
  private final Map<String, Instant> lastJudged = new HashMap<>();

  /** When a rollout's error rate was last looked at between verdicts. */
  private final Map<String, Instant> lastLook = new HashMap<>();

  /** The latest look's verdict per service (what `rollout status` shows between verdicts). */
  private final Map<String, Verdict> live = new HashMap<>();

  /**
   * How often the error rate is looked at while an analysis window or a validation runs: its test
   * is anytime-valid, so looking often costs no false rollbacks.
   */
  static final Duration LOOK_EVERY = Duration.ofMillis(500);

  /** How often a holding gate that said no, or a rollback gate, is asked again. */
  static final Duration GATE_POLL = Duration.ofSeconds(2);

  /** When each gate key (service#gate#key) was last asked, and since when it holds. */
  private final Map<String, Instant> gateAsked = new HashMap<>();

  private final Map<String, Instant> gateHeldSince = new HashMap<>();

  /** What asking a gate came to. */
  enum Gated {
    /** No such gate, or it said yes: go on. */
    PASSED,
    /** Asked, or said no and holds: try again on a later tick. */
    WAITING,
    /** Rolled back (a pre-rollout no, or a hold past the progress deadline). */
    ROLLED_BACK
  }

  /** The header that sends a request to the new version (smoke tests, blue-green preview). */
  public static final String PREVIEW_HEADER = "x-pilothouse-preview";

  /**
   * Set by the load balancer on the answer to a request that {@link #PREVIEW_HEADER} sent to the
   * new version; absent when the table did not list the new instances yet and the stable version
   * answered.
   */
  public static final String PREVIEW_SERVED_HEADER = "x-pilothouse-preview-group";

  /** Moves one kind of rollout forward by one tick, with its plan as its own type. */
  interface Advance<S extends Strategy> {
    void advance(Rollout r, S plan, Instant now);
  }

  private final Advance<Strategy.Rolling> rolling;
  private final Advance<Strategy.Canary> canary;
  private final Advance<Strategy.BlueGreen> blueGreen;

  private RolloutController(Options options) {
    this.o = options;
    this.rolling = new RollingAdvance(this, options);
    this.canary = new CanaryAdvance(this, options);
    this.blueGreen = new BlueGreenAdvance(this, options);
  }

  /** A controller; it resumes the rollouts its store holds. */
  public static RolloutController create(Options options) {
    RolloutController c = new RolloutController(requireNonNull(options, "options"));
    for (Rollout r : options.store().rollouts()) {
      c.rollouts.put(r.service(), r);
    }
    return c;
  }

  /** Starts a deploy without commit information. */
  public synchronized Rollout start(String service, Spec before, Spec after, Strategy plan) {
    return start(service, before, after, plan, Map.of());
  }

  /**
   * Starts a deploy of service from before to after with the plan's strategy. Refused while another
   * rollout of the service is under way (the deploy lock). The labels (e.g. commit, commit_time)
   * are recorded on the RolloutStarted event.
   */
  public synchronized Rollout start(
      String service, Spec before, Spec after, Strategy plan, Map<String, String> labels) {
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
    boolean rolling = !(plan instanceof Strategy.Progressive);
    if (plan instanceof Strategy.Progressive p) {
      o.fleet().setCanary(service, canary, p.canaryReplicas(canary.replicas(), 0));
    }
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
            rolling ? "replacing instances" : "new version starting",
            List.of(),
            !(plan instanceof Strategy.Progressive p) || p.smoke().isEmpty(),
            null);
    save(r);
    if (plan instanceof Strategy.Progressive p) {
      o.traffic().split(service, split(r, p, 0));
    }
    Map<String, String> fields = new HashMap<>(labels);
    fields.put("version", canary.version());
    fields.put("strategy", plan.kind().wire());
    before.service(service).ifPresent(b -> fields.put("from_version", b.version()));
    emit(
        "RolloutStarted",
        r,
        plan.kind().wire() + " deploy of " + canary.version() + " started",
        fields);
    return r;
  }

  /** After a daemon restart: runs the canaries of the rollouts under way again. */
  public synchronized void restoreCanaries() {
    for (Rollout r : rollouts.values()) {
      if (r.holdsStable() && r.plan() instanceof Strategy.Progressive p) {
        r.after()
            .service(r.service())
            .ifPresent(s -> o.fleet().setCanary(r.service(), s, canarySize(r, p, r.weight())));
        o.traffic().split(r.service(), split(r, p, r.weight()));
      }
    }
  }

  /**
   * The error rate as the latest look between verdicts saw it (every 500 ms while an analysis
   * window or a validation runs); empty when no look is under way.
   */
  public synchronized Optional<Verdict> liveVerdict(String service) {
    Rollout r = rollouts.get(service);
    return r == null || r.phase().done()
        ? Optional.empty()
        : Optional.ofNullable(live.get(service));
  }

  /** The newest rollout of a service, if any. */
  public synchronized Optional<Rollout> status(String service) {
    return Optional.ofNullable(rollouts.get(service));
  }

  /** Every service's newest rollout. */
  public synchronized List<Rollout> all() {
    return List.copyOf(rollouts.values());
  }

  /** Skips the remaining steps (and any validation) and promotes the new version now. */
  public synchronized Rollout promote(String service) {
    Rollout r = active(service);
    refuseRolling(r, "promoted; it finishes when every instance runs the new version");
    return promoteNow(r, o.clock().instant(), "promoted by hand");
  }

  private static void refuseRolling(Rollout r, String what) {
    if (r.plan() instanceof Strategy.Rolling) {
      throw new RefusedException("a rolling deploy cannot be " + what + "; abort rolls it back");
    }
  }

  /** Stops a progressing rollout where it is. */
  public synchronized Rollout pause(String service) {
    Rollout r = active(service);
    refuseRolling(r, "paused");
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
    refuseRolling(r, "paused or resumed");
    int step = r.step();
    if (r.plan() instanceof Strategy.Canary c
        && step < c.steps().size()
        && c.steps().get(step).kind() == Strategy.Step.Kind.PAUSE) {
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
    if (r.plan() instanceof Strategy.Progressive p && rollbackGate(r, p, now)) {
      return;
    }
    switch (r.plan()) {
      case Strategy.Rolling p -> rolling.advance(r, p, now);
      case Strategy.Progressive p when r.phase() == Rollout.Phase.VALIDATING -> validate(r, p, now);
      case Strategy.Canary p -> {
        if (readyForTraffic(r, p, now)) {
          canary.advance(r, p, now);
        }
      }
      case Strategy.BlueGreen p -> {
        if (readyForTraffic(r, p, now)) {
          blueGreen.advance(r, p, now);
        }
      }
    }
  }

  /**
   * What canary and blue-green share before traffic moves: the new instances must not crash-loop,
   * must be ready within the progress deadline, the rollout must not be paused, and the smoke tests
   * must have passed. False while any of that is still pending (or just failed).
   */
  private boolean readyForTraffic(Rollout r, Strategy.Progressive p, Instant now) {
    if (o.fleet().canaryCrashLooping(r.service())) {
      rollBack(r, now, "the new version keeps crashing", List.of());
      return false;
    }
    if (gate(r, p, Strategy.Gate.Type.CONFIRM_ROLLOUT, "confirm-rollout", now) != Gated.PASSED) {
      return false;
    }
    List<InstanceStatus> instances = o.fleet().instances(r.service());
    Set<String> readyCanaries = ids(instances, true, true);
    int size = canarySize(r, p, r.weight());
    boolean baselineShort =
        p.baseline()
            && ids(o.fleet().instances(baselineOf(r.service())), false, true).size() < size;
    if (readyCanaries.size() < size || baselineShort) {
      if (now.isAfter(r.startedAt().plus(p.progressDeadline()))) {
        rollBack(
            r,
            now,
            (baselineShort ? "the canary's baseline" : "the canary")
                + " was not ready within the progress deadline of "
                + p.progressDeadline().toSeconds()
                + "s",
            List.of());
      }
      return false; // wait for the canary to be ready before it gets traffic
    }
    if (r.phase() == Rollout.Phase.PAUSED) {
      return false;
    }
    if (!r.smoked()) {
      smoke(r, p, now);
      return false;
    }
    return gate(r, p, Strategy.Gate.Type.PRE_ROLLOUT, "pre-rollout", now) == Gated.PASSED;
  }

  /** The new version's instance count while it takes weight percent of the traffic. */
  public static int canarySize(Rollout r, Strategy.Progressive p, int weight) {
    int replicas = r.after().service(r.service()).map(ServiceSpec::replicas).orElse(1);
    return p.canaryReplicas(replicas, weight);
  }

  /** Error rate and latency of candidate judged against base, with the plan's thresholds. */
  List<Verdict> compare(Strategy.Analysis a, Ports.Sample base, Ports.Sample candidate) {
    return compare(a, base, base, candidate);
  }

  /**
   * As {@link #compare(Strategy.Analysis, Ports.Sample, Ports.Sample)}, with the error rate judged
   * against errorBase (which may reach further back: a rate, unlike latency, does not depend on the
   * load of the moment) and latency against latencyBase.
   */
  List<Verdict> compare(
      Strategy.Analysis a,
      Ports.Sample errorBase,
      Ports.Sample latencyBase,
      Ports.Sample candidate) {
    Judge judge = judge(a);
    return List.of(
        judge.errorRate(
            errorBase.failures(), errorBase.requests(), candidate.failures(), candidate.requests()),
        judge.latency(latencyBase.latenciesMs(), candidate.latenciesMs()));
  }

  private Judge judge(Strategy.Analysis a) {
    return new Judge(
        new Judge.Options(
            a.alpha(),
            a.minRequests(),
            a.maxErrorRateIncrease(),
            a.maxLatencyIncreaseMs(),
            a.maxLatencyIncreaseRatio()),
        o.random());
  }

  /**
   * Between verdicts, at most every {@link #LOOK_EVERY}: rolls back as soon as the new version's
   * error rate is significantly higher (the sequential test allows any number of looks). Returns
   * true when it rolled back.
   */
  boolean lookAtErrors(
      Rollout r,
      Strategy.Analysis a,
      Supplier<Ports.Sample> base,
      Set<String> candidates,
      Instant now,
      String prefix) {
    Instant last = lastLook.get(r.service());
    if (last != null && now.isBefore(last.plus(LOOK_EVERY))) {
      return false;
    }
    lastLook.put(r.service(), now);
    Ports.Sample b = base.get();
    Ports.Sample c = o.measurements().window(candidates, r.stepStartedAt());
    Verdict v = judge(a).errorRate(b.failures(), b.requests(), c.failures(), c.requests());
    live.put(r.service(), v);
    if (v.outcome() != Verdict.Outcome.FAIL) {
      return false;
    }
    rollBack(r, now, prefix + v.reason(), List.of(v));
    return true;
  }

  /**
   * Asks the plan's gates of one type, under key (asked until they all say yes, then never again
   * for this rollout). A holding gate that says no keeps the rollout where it is — the reason names
   * the gate and its answer, a RolloutGateWaiting event says so once — and is asked again every
   * {@link #GATE_POLL} until it says yes or the progress deadline has passed since it first held;
   * then the rollout rolls back. A pre-rollout gate that says no rolls back at once.
   */
  Gated gate(Rollout r, Strategy.Progressive p, Strategy.Gate.Type type, String key, Instant now) {
    List<Strategy.Gate> gates = p.gates(type);
    if (gates.isEmpty() || r.passed(key)) {
      return Gated.PASSED;
    }
    String id = r.service() + "#gate#" + key;
    gateHeldSince.putIfAbsent(id, now);
    List<Verdict> answers = answers(id, r, gates, now, "the " + type.wire() + " gate");
    if (answers == null) {
      return Gated.WAITING;
    }
    Optional<Verdict> no =
        answers.stream().filter(v -> v.outcome() != Verdict.Outcome.PASS).findFirst();
    if (no.isEmpty()) {
      gateAsked.remove(id);
      gateHeldSince.remove(id);
      Rollout next = save(r.gatePassed(key, "the " + type.wire() + " gate said yes"));
      emit("RolloutGatePassed", next, next.reason(), Map.of("gate", type.wire()));
      return Gated.WAITING; // goes on with the stored rollout on the next tick
    }
    if (!type.holds()) {
      rollBack(r, now, "the " + type.wire() + " gate said no: " + no.get().reason(), answers);
      return Gated.ROLLED_BACK;
    }
    if (now.isAfter(gateHeldSince.get(id).plus(p.progressDeadline()))) {
      rollBack(
          r,
          now,
          "the "
              + type.wire()
              + " gate did not say yes within the progress deadline of "
              + p.progressDeadline().toSeconds()
              + "s: "
              + no.get().reason(),
          answers);
      return Gated.ROLLED_BACK;
    }
    String why = "waiting for the " + type.wire() + " gate: " + no.get().reason();
    if (!why.equals(r.reason())) {
      Rollout held = save(r.because(why));
      if (!r.reason().startsWith("waiting for the " + type.wire() + " gate")) {
        emit("RolloutGateWaiting", held, why, Map.of("gate", type.wire()));
      }
    }
    return Gated.WAITING;
  }

  /**
   * Asks the rollback gates every {@link #GATE_POLL}; the first yes rolls back (an unreachable gate
   * is not a yes). True when it rolled back.
   */
  private boolean rollbackGate(Rollout r, Strategy.Progressive p, Instant now) {
    List<Strategy.Gate> gates = p.gates(Strategy.Gate.Type.ROLLBACK);
    if (gates.isEmpty()) {
      return false;
    }
    List<Verdict> answers =
        answers(r.service() + "#gate#rollback", r, gates, now, "the rollback gate");
    if (answers == null) {
      return false;
    }
    Optional<Verdict> yes =
        answers.stream().filter(v -> v.outcome() == Verdict.Outcome.PASS).findFirst();
    if (yes.isEmpty()) {
      return false;
    }
    rollBack(r, now, "the rollback gate asked for a rollback: " + yes.get().reason(), answers);
    return true;
  }

  /**
   * The gates' answers under id once they are in; null while they are asked (at most every {@link
   * #GATE_POLL}: a call is started when none runs and the last was long enough ago).
   */
  private List<Verdict> answers(
      String id, Rollout r, List<Strategy.Gate> gates, Instant now, String what) {
    CompletableFuture<List<Verdict>> f = pending.get(id);
    if (f == null) {
      Instant asked = gateAsked.get(id);
      if (asked == null || !now.isBefore(asked.plus(GATE_POLL))) {
        gateAsked.put(id, now);
        pending.put(id, o.checks().gates(r, gates));
      }
      return null;
    }
    if (!f.isDone()) {
      return null;
    }
    pending.remove(id);
    return results(f, what);
  }

  /** Tells the post-rollout gates how the rollout ended; their answers change nothing. */
  private void postRollout(Rollout done) {
    if (done.plan() instanceof Strategy.Progressive p) {
      List<Strategy.Gate> gates = p.gates(Strategy.Gate.Type.POST_ROLLOUT);
      if (!gates.isEmpty()) {
        o.checks().gates(done, gates);
      }
    }
  }

  Rollout promoteNow(Rollout r, Instant now, String why) {
    Rollout done = save(r.with(Rollout.Phase.PROMOTED, r.stepCount(), 100, now, why, r.verdicts()));
    forget(r.service());
    if (r.plan() instanceof Strategy.Progressive) {
      o.fleet().promote(r.service());
      o.fleet().clearCanary(r.service());
      o.traffic().clear(r.service());
    }
    emit(
        "RolloutPromoted",
        done,
        "promoted: " + why,
        Map.of("version", versionOf(r.after(), r.service())));
    postRollout(done);
    return done;
  }

  static String versionOf(Spec spec, String service) {
    return spec.service(service).map(ServiceSpec::version).orElse("");
  }

  private void forget(String service) {
    pending.keySet().removeIf(k -> k.startsWith(service + "#"));
    templateRuns.keySet().removeIf(k -> k.startsWith(service + "#"));
    driven.removeIf(k -> k.startsWith(service + "#"));
    lastJudged.remove(service);
    lastLook.remove(service);
    live.remove(service);
    gateAsked.keySet().removeIf(k -> k.startsWith(service + "#"));
    gateHeldSince.keySet().removeIf(k -> k.startsWith(service + "#"));
  }

  /** Runs the smoke tests once the new instances are ready; they must all pass. */
  private void smoke(Rollout r, Strategy.Progressive p, Instant now) {
    String key = r.service() + "#smoke#" + r.startedAt();
    CompletableFuture<List<Verdict>> f =
        pending.computeIfAbsent(key, k -> o.checks().smoke(r.service(), p.smoke()));
    if (!f.isDone()) {
      return;
    }
    pending.remove(key);
    List<Verdict> verdicts = results(f, "smoke tests");
    Optional<Verdict> failed =
        verdicts.stream().filter(v -> v.outcome() != Verdict.Outcome.PASS).findFirst();
    if (failed.isPresent()) {
      rollBack(r, now, "smoke test failed: " + failed.get().reason(), verdicts);
      return;
    }
    Rollout next = save(r.smokePassed(verdicts));
    emit(
        "RolloutSmokePassed",
        next,
        verdicts.size() + " smoke test" + (verdicts.size() == 1 ? "" : "s") + " passed",
        Map.of());
  }

  /** The verdicts of a finished check future; a failed future is one failed verdict. */
  static List<Verdict> results(CompletableFuture<List<Verdict>> f, String what) {
    try {
      return f.join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return List.of(
          new Verdict(
              what,
              Verdict.Outcome.FAIL,
              Double.NaN,
              Double.NaN,
              what + " could not run: " + cause.getMessage()));
    }
  }

  /**
   * Post-deploy validation: the new version's errors and latency since the switch are compared with
   * what the stable version served before it, at a few checkpoints and at the end.
   */
  private void validate(Rollout r, Strategy.Progressive p, Instant now) {
    Duration window = p.watch();
    if (o.fleet().crashLooping(r.service())
        || (p instanceof Strategy.BlueGreen && o.fleet().canaryCrashLooping(r.service()))) {
      rollBack(r, now, "the new version keeps crashing", List.of());
      return;
    }
    boolean end = !now.isBefore(r.stepStartedAt().plus(window));
    Duration every = Duration.ofMillis(Math.max(1000, window.toMillis() / 5));
    Instant last = lastJudged.getOrDefault(r.service(), r.stepStartedAt());
    String newTemplate = r.after().service(r.service()).orElseThrow().template();
    Set<String> fresh =
        o.fleet().instances(r.service()).stream()
            .filter(i -> i.template().startsWith(newTemplate))
            .map(InstanceStatus::id)
            .collect(Collectors.toSet());
    Ports.Sample base = r.baseline() == null ? new Ports.Sample(0, 0, new double[0]) : r.baseline();
    if (!end && now.isBefore(last.plus(every))) {
      lookAtErrors(r, p.analysis(), () -> base, fresh, now, "post-deploy validation: ");
      return;
    }
    if (end && p instanceof Strategy.BlueGreen) {
      // The old set stays warm, and the new one watched, while the promotion gate holds.
      Gated g = gate(r, p, Strategy.Gate.Type.CONFIRM_PROMOTION, "confirm-promotion", now);
      if (g != Gated.PASSED) {
        if (g == Gated.WAITING) {
          lookAtErrors(r, p.analysis(), () -> base, fresh, now, "post-deploy validation: ");
        }
        return;
      }
    }
    lastJudged.put(r.service(), now);
    Ports.Sample after = o.measurements().window(fresh, r.stepStartedAt());
    List<Verdict> verdicts = compare(p.analysis(), base, after);
    Optional<Verdict> failed =
        verdicts.stream().filter(v -> v.outcome() == Verdict.Outcome.FAIL).findFirst();
    if (failed.isPresent()) {
      rollBack(r, now, "post-deploy validation: " + failed.get().reason(), verdicts);
      return;
    }
    if (!end) {
      save(r.with(r.phase(), r.step(), r.weight(), r.stepStartedAt(), r.reason(), verdicts));
      return;
    }
    boolean inconclusive =
        verdicts.stream().anyMatch(v -> v.outcome() == Verdict.Outcome.INCONCLUSIVE);
    Rollout judged =
        r.with(r.phase(), r.step(), r.weight(), r.stepStartedAt(), r.reason(), verdicts);
    promoteNow(
        judged,
        now,
        inconclusive
            ? "validation window over (inconclusive: too little traffic to compare)"
            : "validation passed");
  }

  Rollout rollBack(Rollout r, Instant now, String why, List<Verdict> verdicts) {
    forget(r.service());
    if (r.plan() instanceof Strategy.Progressive p) {
      // Weight 0 first: the new version leaves the routes in this swap, before it stops.
      o.traffic().split(r.service(), split(r, p, 0));
      o.fleet().clearCanary(r.service());
    }
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
    fields.put("version", versionOf(r.after(), r.service()));
    // The desired state returns to the stable spec from the stored outcome (core.deploy reads it
    // on the next tick); until then that service keeps its stable spec.
    emit("RolloutRolledBack", done, "rolled back: " + why, fields);
    postRollout(done);
    if (r.plan() instanceof Strategy.Progressive) {
      pendingCleanup.add(r.service());
    }
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

  Split split(Rollout r, Strategy.Progressive p, int weight) {
    ServiceSpec stable = r.before().service(r.service()).orElseThrow();
    ServiceSpec canary = r.after().service(r.service()).orElseThrow();
    List<Split.Rule> rules =
        p.match().stream()
            .map(
                m ->
                    new Split.Rule(
                        m.kind().equalsIgnoreCase("cookie")
                            ? Split.Rule.Kind.COOKIE
                            : Split.Rule.Kind.HEADER,
                        m.name(),
                        m.value(),
                        switch (m.op()) {
                          case "prefix" -> Split.Rule.Op.PREFIX;
                          case "regex" -> Split.Rule.Op.REGEX;
                          default -> Split.Rule.Op.EXACT;
                        }))
            .toList();
    List<Split.Rule> active = new java.util.ArrayList<>(weight == 0 ? List.of() : rules);
    active.add(new Split.Rule(Split.Rule.Kind.HEADER, PREVIEW_HEADER, o.previewSecret()));
    int mirror = p instanceof Strategy.Canary c && c.mirror() != null ? c.mirror().percent() : 0;
    return new Split(
        stable.template(),
        canary.template(),
        weight,
        active,
        mirror,
        p.sticky(),
        p.baseline() ? baselineOf(r.service()) : "");
  }

  /** The name of the service a rollout's baseline runs as. */
  public static String baselineOf(String service) {
    return service + "--baseline";
  }

  /**
   * The instances the canary is compared with: the baseline's ready ones when the plan has a
   * baseline, else the stable ones.
   */
  Set<String> comparedWith(Rollout r, Strategy.Progressive p, List<InstanceStatus> instances) {
    return p.baseline()
        ? ids(o.fleet().instances(baselineOf(r.service())), false, true)
        : ids(instances, false, true);
  }

  /** What the ready stable instances served since the rollout started: the comparison's base. */
  Ports.Sample stableBaseline(Rollout r) {
    return o.measurements()
        .window(ids(o.fleet().instances(r.service()), false, true), r.startedAt());
  }

  /** Ids of the canary (or stable) instances, only the ready ones when readyOnly. */
  static Set<String> ids(List<InstanceStatus> all, boolean canary, boolean readyOnly) {
    return all.stream()
        .filter(i -> (i.slot() >= InstanceController.CANARY_SLOT_BASE) == canary)
        .filter(i -> !readyOnly || i.ready())
        .map(InstanceStatus::id)
        .collect(Collectors.toSet());
  }

  Rollout save(Rollout r) {
    rollouts.put(r.service(), r);
    o.store().saveRollout(r);
    return r;
  }

  void emit(String type, Rollout r, String message, Map<String, String> fields) {
    Map<String, String> f = new HashMap<>(fields);
    f.put("phase", r.phase().wire());
    f.put("step", Integer.toString(r.step()));
    o.events().emit(new NewEvent(o.clock().instant(), type, r.service(), "", message, f));
  }
}
