package dev.pilothouse.core.chaos;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One run of an experiment as it is stored after every step, so that a daemon killed in the middle
 * leaves enough for the next one to roll back what was injected.
 *
 * @param source the experiment file's text (the run can be re-read and compared later)
 * @param eventsFrom the event log's sequence number when the run began (its events come after)
 * @param applied every fault injected, recorded before it is injected
 * @param samples every probe evaluation
 * @param timeline what happened, in order
 * @param outcome set when the run is over
 */
public record ChaosRun(
    String id,
    String experiment,
    String file,
    String source,
    String service,
    boolean dryRun,
    State state,
    Instant startedAt,
    Instant injectedAt,
    Instant endedAt,
    long eventsFrom,
    List<Applied> applied,
    List<Sample> samples,
    List<Step> timeline,
    Outcome outcome) {

  public ChaosRun {
    requireNonNull(id, "id");
    requireNonNull(state, "state");
    applied = List.copyOf(applied);
    samples = List.copyOf(samples);
    timeline = List.copyOf(timeline);
  }

  /** Where a run is. */
  public enum State {
    /** The steady state is being checked before anything is injected. */
    CHECKING,
    /** Faults are in. */
    INJECTED,
    /** Faults are being removed. */
    ROLLING_BACK,
    /** Waiting for the steady state to come back. */
    RECOVERING,
    /** Over: see the outcome. */
    DONE;
  }

  /**
   * One fault on one target, and what its rollback needs.
   *
   * @param target the instance id, or the service for a route fault
   * @param pid the process acted on (the instance's, or the stressor's), 0 for none
   * @param startTicks the process's start time in clock ticks since boot, so that a recycled pid is
   *     never signalled
   * @param path a file written (disk fill), empty for none
   * @param rolledBack whether its rollback has run
   */
  public record Applied(
      String kind,
      String target,
      long pid,
      long startTicks,
      String path,
      String detail,
      Instant at,
      boolean rolledBack) {
    public Applied undone() {
      return new Applied(kind, target, pid, startTicks, path, detail, at, true);
    }
  }

  /** One probe evaluation: its value (NaN when it could not be measured) and the verdict. */
  public record Sample(
      String probe,
      ChaosExperiment.Phase phase,
      Instant at,
      double value,
      boolean ok,
      String note) {}

  /** A line of the timeline. */
  public record Step(Instant at, String what) {}

  /**
   * How a run ended.
   *
   * @param verdict passed, failed, aborted or not-run (the steady state did not hold before)
   * @param score the resilience score, 0–100: the weighted share of probe evaluations in tolerance
   * @param recoverySeconds from the first fault to the steady state back for good; null when it did
   *     not come back within the experiment's recovery time
   * @param probes per probe: its evaluations, how many were in tolerance, its own recovery time
   * @param loadBalancer the service's requests, failed requests, retries and ejections in the load
   *     balancer from the first fault to the end (from the metrics store; empty when unrouted)
   */
  public record Outcome(
      String verdict,
      String reason,
      double score,
      Double recoverySeconds,
      List<ProbeResult> probes,
      List<CausedEvent> events,
      java.util.Map<String, Double> loadBalancer,
      List<Expectation> expectations) {
    public Outcome {
      expectations = expectations == null ? List.of() : List.copyOf(expectations);
      probes = List.copyOf(probes);
      events = List.copyOf(events);
      loadBalancer = loadBalancer == null ? java.util.Map.of() : java.util.Map.copyOf(loadBalancer);
    }
  }

  /** An event the experiment expected, and whether (and when) it came. */
  public record Expectation(String event, String contains, boolean met, Instant at) {}

  /** A probe's figures over the run. */
  public record ProbeResult(
      String name,
      String tolerance,
      double weight,
      int evaluations,
      int passed,
      Double recoverySeconds,
      double worst) {}

  /** An event the run caused: a replacement, an ejection, a scale-out, an alert. */
  public record CausedEvent(long seq, Instant at, String type, String instance, String message) {}

  /** This run with one more line in its timeline. */
  public ChaosRun step(Instant at, String what) {
    List<Step> t = new ArrayList<>(timeline);
    t.add(new Step(at, what));
    return with(state, t, applied, samples);
  }

  /** This run in another state. */
  public ChaosRun in(State s) {
    return with(s, timeline, applied, samples);
  }

  /** This run with these faults applied. */
  public ChaosRun withApplied(List<Applied> a) {
    return with(state, timeline, a, samples);
  }

  /** This run with one more sample. */
  public ChaosRun sampled(Sample s) {
    List<Sample> l = new ArrayList<>(samples);
    l.add(s);
    return with(state, timeline, applied, l);
  }

  /** This run with the moment its first fault went in. */
  public ChaosRun injected(Instant at) {
    return new ChaosRun(
        id,
        experiment,
        file,
        source,
        service,
        dryRun,
        state,
        startedAt,
        at,
        endedAt,
        eventsFrom,
        applied,
        samples,
        timeline,
        outcome);
  }

  /** This run, over. */
  public ChaosRun done(Instant at, Outcome o) {
    return new ChaosRun(
        id,
        experiment,
        file,
        source,
        service,
        dryRun,
        State.DONE,
        startedAt,
        injectedAt,
        at,
        eventsFrom,
        applied,
        samples,
        timeline,
        o);
  }

  private ChaosRun with(State s, List<Step> t, List<Applied> a, List<Sample> sm) {
    return new ChaosRun(
        id,
        experiment,
        file,
        source,
        service,
        dryRun,
        s,
        startedAt,
        injectedAt,
        endedAt,
        eventsFrom,
        a,
        sm,
        t,
        outcome);
  }
}
