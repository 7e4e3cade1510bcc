package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import dev.pilothouse.core.chaos.ChaosRun;
import dev.pilothouse.core.chaos.ChaosRun.Applied;
import dev.pilothouse.core.chaos.ChaosRun.Sample;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.ServiceSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run: the steady state checked, the faults injected (each recorded before it goes in), the
 * probes watched for the duration, the rollbacks (always, in reverse order), then the steady state
 * awaited for the recovery time. The run is saved after every step.
 */
final class Runner implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Runner.class);

  /** Events a run reports, at most. */
  static final int MAX_EVENTS = 200;

  private final ChaosExperiment e;
  private final Chaos.Options o;
  private final Injector injector;
  private final Probes probes;
  private final Runnable onEnd;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean abort;
  private volatile String abortReason = "aborted by request ('chaos abort')";
  private ChaosRun run;

  Runner(
      ChaosRun run,
      ChaosExperiment e,
      Chaos.Options o,
      Injector injector,
      Probes probes,
      Runnable onEnd) {
    this.run = run;
    this.e = e;
    this.o = o;
    this.injector = injector;
    this.probes = probes;
    this.onEnd = onEnd;
  }

  String id() {
    return run.id();
  }

  String service() {
    return run.service();
  }

  void abort() {
    abort = true;
  }

  /** Stops the run, saying why. */
  void abort(String why) {
    abortReason = why;
    abort = true;
  }

  void awaitEnd(Duration d) {
    try {
      ended.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
    }
  }

  private void save(ChaosRun r) {
    run = r;
    o.repository().saveChaosRun(r);
  }

  private void step(String what) {
    save(run.step(o.clock().instant(), what));
  }

  private void event(String type, String message, Map<String, String> fields) {
    Map<String, String> f = new HashMap<>(fields);
    f.put("run", run.id());
    f.put("experiment", run.experiment());
    o.events().emit(new NewEvent(o.clock().instant(), type, run.service(), "", message, f));
  }

  @Override
  public void run() {
    try {
      String verdict;
      String reason;
      try {
        String[] r = runSteps();
        verdict = r[0];
        reason = r[1];
      } catch (RuntimeException x) {
        log.error("chaos run {} failed", run.id(), x);
        verdict = "failed";
        reason = "the run broke off: " + x;
      } finally {
        save(rollBack(run, injector, o));
      }
      if (verdict.equals("recover")) {
        String[] r = recover();
        verdict = r[0];
        reason = r[1];
      }
      save(
          run.done(
              o.clock().instant(),
              Outcomes.outcome(run, e, verdict, reason, caused(), loadBalancer(), expectations())));
      event(
          "ChaosEnded",
          "chaos run "
              + run.id()
              + " ("
              + run.experiment()
              + ") "
              + verdict
              + (reason.isEmpty() ? "" : ": " + reason),
          Map.of(
              "verdict",
              verdict,
              "score",
              Outcomes.fmt(run.outcome().score()),
              "recoverySeconds",
              run.outcome().recoverySeconds() == null
                  ? "none"
                  : Outcomes.fmt(run.outcome().recoverySeconds())));
    } finally {
      onEnd.run();
      ended.countDown();
    }
  }

  /** Up to the rollback; returns {verdict, reason}, verdict "recover" when the run went through. */
  private String[] runSteps() {
    String service = e.target().service();
    ServiceSpec spec = o.spec().get().service(service).orElse(null);
    List<InstanceStatus> ready =
        o.status().get().stream()
            .filter(s -> s.name().equals(service))
            .flatMap(s -> s.instances().stream())
            .filter(InstanceStatus::serving)
            .filter(i -> e.target().version().isEmpty() || e.target().version().equals(i.version()))
            .collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    Collections.shuffle(ready);
    List<InstanceStatus> targets = ready.subList(0, e.target().of(ready.size()));
    boolean perInstance = e.faults().stream().anyMatch(Fault::perInstance);
    step(
        "started "
            + e.name()
            + " on "
            + service
            + ": "
            + (perInstance
                ? targets.size() + " of " + ready.size() + " ready instances"
                : "its route"));
    event("ChaosStarted", "chaos run " + run.id() + " (" + e.name() + ") started", Map.of());
    if (perInstance && targets.isEmpty()) {
      return new String[] {"not-run", "no ready instance of " + service + " to hit"};
    }
    if (run.dryRun()) {
      for (Fault f : e.faults()) {
        if (f.perInstance()) {
          for (InstanceStatus i : f.everyInstance() ? ready : targets) {
            step("would inject " + f.kind() + " (" + Injector.describe(f) + ") into " + i.id());
          }
        } else {
          step("would inject " + f.kind() + " (" + Injector.describe(f) + ") on route " + service);
        }
      }
      for (Probe p : e.probes()) {
        Sample s = probes.evaluate(p, Phase.BEFORE);
        save(run.sampled(s));
        step("probe " + p.name() + " now " + value(s) + " (tolerance " + p.tolerance() + ")");
      }
      return new String[] {"dry-run", "nothing was injected"};
    }
    // The steady state must hold before anything goes in.
    for (Probe p : e.probes()) {
      if (!p.phases().contains(Phase.BEFORE)) {
        continue;
      }
      Sample s = probes.evaluate(p, Phase.BEFORE);
      save(run.sampled(s));
      if (!s.ok()) {
        return new String[] {
          "not-run",
          "the steady state did not hold before: "
              + p.name()
              + " = "
              + value(s)
              + ", tolerance "
              + p.tolerance()
        };
      }
    }
    step("steady state holds");
    save(run.in(ChaosRun.State.INJECTED).injected(o.clock().instant()));
    int n = 0;
    for (Fault f : e.faults()) {
      for (InstanceStatus i :
          f.everyInstance()
              ? ready
              : f.perInstance()
                  ? targets
                  : java.util.Collections.<InstanceStatus>singletonList(null)) {
        Path file =
            f instanceof Fault.DiskFill d
                ? Path.of(spec == null || spec.workdir().isEmpty() ? "." : spec.workdir())
                    .resolve(d.path())
                    .resolve(".pilothouse-chaos-" + run.id() + "-" + n++ + ".fill")
                : null;
        Applied intent = injector.intent(f, i, service, file);
        List<Applied> a = new ArrayList<>(run.applied());
        a.add(intent);
        save(run.withApplied(a));
        try {
          Applied done =
              injector.apply(
                  intent,
                  f,
                  i,
                  e.duration(),
                  spec == null ? Duration.ofSeconds(10) : spec.stop().timeout());
          a.set(a.size() - 1, done);
          save(run.withApplied(a));
          step("injected " + f.kind() + " into " + done.target() + ": " + done.detail());
          event(
              "ChaosFaultInjected",
              f.kind() + " into " + done.target() + ": " + done.detail(),
              Map.of("fault", f.kind(), "target", done.target()));
        } catch (java.io.IOException | RuntimeException x) {
          step("could not inject " + f.kind() + " into " + intent.target() + ": " + x.getMessage());
          return new String[] {"failed", "a fault could not be injected: " + x.getMessage()};
        }
      }
    }
    // The faults are in: watch the probes for the duration.
    Instant end = run.injectedAt().plus(e.duration());
    Map<String, Integer> streak = new HashMap<>();
    while (o.clock().instant().isBefore(end)) {
      if (abort) {
        step(abortReason);
        return new String[] {"aborted", abortReason};
      }
      for (Probe p : e.probes()) {
        if (!p.phases().contains(Phase.DURING)) {
          continue;
        }
        Sample s = probes.evaluate(p, Phase.DURING);
        save(run.sampled(s));
        int k = s.ok() ? 0 : streak.getOrDefault(p.name(), 0) + 1;
        streak.put(p.name(), k);
        if (k >= e.abort().after() && e.abort().probes().contains(p.name())) {
          step("aborted: " + p.name() + " = " + value(s) + ", tolerance " + p.tolerance());
          return new String[] {
            "aborted",
            p.name() + " went out of tolerance (" + value(s) + ", tolerance " + p.tolerance() + ")"
          };
        }
      }
      sleep(Duration.between(o.clock().instant(), end), e.interval());
    }
    step("duration over");
    return new String[] {"recover", ""};
  }

  /** After the rollback: wait for the steady state, up to the recovery time. */
  private String[] recover() {
    save(run.in(ChaosRun.State.RECOVERING));
    Instant deadline = o.clock().instant().plus(e.recovery());
    List<Probe> after = e.probes().stream().filter(p -> p.phases().contains(Phase.AFTER)).toList();
    while (true) {
      List<String> bad = new ArrayList<>();
      for (Probe p : after) {
        Sample s = probes.evaluate(p, Phase.AFTER);
        save(run.sampled(s));
        if (!s.ok()) {
          bad.add(p.name() + " = " + value(s) + " (tolerance " + p.tolerance() + ")");
        }
      }
      List<ChaosRun.Expectation> unmet = expectations().stream().filter(x -> !x.met()).toList();
      if (bad.isEmpty() && unmet.isEmpty()) {
        step("steady state back" + (e.expect().isEmpty() ? "" : "; every expected event came"));
        return new String[] {"passed", ""};
      }
      if (bad.isEmpty() && !o.clock().instant().isBefore(deadline)) {
        step("expected events did not come: " + unmet.stream().map(x -> x.event()).toList());
        return new String[] {
          "failed",
          "expected "
              + String.join(
                  ", ",
                  unmet.stream()
                      .map(x -> new ChaosExperiment.Expect(x.event(), x.contains()).toString())
                      .toList())
              + "; it did not come within the recovery time"
        };
      }
      if (!o.clock().instant().isBefore(deadline)) {
        step("steady state not back within " + e.recovery().toSeconds() + " s: " + bad);
        return new String[] {
          "failed", "the steady state did not come back within the recovery time: " + bad
        };
      }
      sleep(Duration.between(o.clock().instant(), deadline), e.interval());
    }
  }

  /** Rolls back every fault of a run not yet rolled back, newest first; saves after each. */
  static ChaosRun rollBack(ChaosRun run, Injector injector, Chaos.Options o) {
    List<Applied> a = new ArrayList<>(run.applied());
    if (a.stream().allMatch(Applied::rolledBack)) {
      return run;
    }
    run = run.in(ChaosRun.State.ROLLING_BACK);
    o.repository().saveChaosRun(run);
    for (int k = a.size() - 1; k >= 0; k--) {
      Applied x = a.get(k);
      if (x.rolledBack()) {
        continue;
      }
      boolean ok = injector.undo(x);
      if (ok) {
        a.set(k, x.undone());
      }
      run =
          run.withApplied(a)
              .step(
                  o.clock().instant(),
                  (ok ? "rolled back " : "could not roll back ") + x.kind() + " on " + x.target());
      o.repository().saveChaosRun(run);
    }
    return run;
  }

  /** Each expected event, met by the first event of the run that matches it. */
  private List<ChaosRun.Expectation> expectations() {
    if (e.expect().isEmpty()) {
      return List.of();
    }
    List<Event> events = o.events().after(run.eventsFrom(), 10_000);
    List<ChaosRun.Expectation> out = new ArrayList<>();
    for (ChaosExperiment.Expect x : e.expect()) {
      Event hit =
          events.stream()
              .filter(ev -> !ev.type().startsWith("Chaos") && x.matches(ev.type(), ev.message()))
              .findFirst()
              .orElse(null);
      out.add(
          new ChaosRun.Expectation(
              x.event(), x.contains(), hit != null, hit == null ? null : hit.at()));
    }
    return out;
  }

  private List<ChaosRun.CausedEvent> caused() {
    return caused(run, o);
  }

  /**
   * The events since the run began about its service, and the alerts and incidents (a run's own
   * events left out).
   */
  static List<ChaosRun.CausedEvent> caused(ChaosRun run, Chaos.Options o) {
    List<ChaosRun.CausedEvent> out = new ArrayList<>();
    for (Event ev : o.events().after(run.eventsFrom(), 10_000)) {
      if (ev.type().startsWith("Chaos") || out.size() >= MAX_EVENTS) {
        continue;
      }
      if (ev.service().equals(run.service())
          || ev.type().startsWith("Alert")
          || ev.type().startsWith("Incident")) {
        out.add(
            new ChaosRun.CausedEvent(ev.seq(), ev.at(), ev.type(), ev.instance(), ev.message()));
      }
    }
    return out;
  }

  /** The service's figures in the load balancer since the first fault (or the start). */
  private Map<String, Double> loadBalancer() {
    if (o.spec().get().service(run.service()).map(s -> s.route() == null).orElse(true)) {
      return Map.of();
    }
    Instant from = run.injectedAt() == null ? run.startedAt() : run.injectedAt();
    long secs = Math.max(1, Duration.between(from, o.clock().instant()).toSeconds() + 1);
    String sel = "{service=\"" + run.service() + "\"";
    Map<String, String> queries =
        Map.of(
            "requests", "pilothouse_proxy_requests_total" + sel + "}",
            "failedRequests", "pilothouse_proxy_requests_total" + sel + ",class=~\"5xx|error\"}",
            "retries", "pilothouse_proxy_retries_total" + sel + "}",
            "ejections", "pilothouse_proxy_ejections_total" + sel + "}");
    Map<String, Double> out = new java.util.TreeMap<>();
    queries.forEach(
        (k, q) -> {
          try {
            double v = o.metrics().instant("sum(increase(" + q + "[" + secs + "s])) or vector(0)");
            if (!Double.isNaN(v)) {
              out.put(k, Math.round(v * 10) / 10.0);
            }
          } catch (RuntimeException x) {
            log.debug("chaos: {} not measured: {}", k, x.toString());
          }
        });
    return out;
  }

  private void sleep(Duration left, Duration interval) {
    long ms = Math.max(1, Math.min(left.toMillis(), interval.toMillis()));
    long until = System.nanoTime() + ms * 1_000_000;
    try {
      while (!abort && System.nanoTime() < until) {
        Thread.sleep(Math.min(50, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
      }
    } catch (InterruptedException x) {
      Thread.currentThread().interrupt();
      abort = true;
    }
  }

  private static String value(Sample s) {
    return Double.isNaN(s.value())
        ? (s.note().isEmpty() ? "no value" : s.note())
        : Outcomes.fmt(s.value());
  }
}
