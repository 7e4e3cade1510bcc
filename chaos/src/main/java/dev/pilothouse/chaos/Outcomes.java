package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import dev.pilothouse.core.chaos.ChaosRun;
import dev.pilothouse.core.chaos.ChaosRun.CausedEvent;
import dev.pilothouse.core.chaos.ChaosRun.ProbeResult;
import dev.pilothouse.core.chaos.ChaosRun.Sample;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A run's figures: each probe's evaluations and recovery, the run's recovery time, and the
 * resilience score (LitmusChaos's: the weighted share of probe evaluations in tolerance).
 */
final class Outcomes {
  private Outcomes() {}

  static ChaosRun.Outcome outcome(
      ChaosRun run,
      ChaosExperiment e,
      String verdict,
      String reason,
      List<CausedEvent> events,
      java.util.Map<String, Double> loadBalancer,
      List<ChaosRun.Expectation> expectations) {
    List<ProbeResult> probes = new ArrayList<>();
    double weighted = 0;
    double weights = 0;
    Instant injected = run.injectedAt();
    Instant backForGood = injected;
    boolean recovered = true;
    for (Probe p : e.probes()) {
      List<Sample> mine =
          run.samples().stream()
              .filter(s -> s.probe().equals(p.name()) && s.phase() != Phase.BEFORE)
              .toList();
      int passed = (int) mine.stream().filter(Sample::ok).count();
      double worst = Double.NaN;
      for (Sample s : mine) {
        if (!Double.isNaN(s.value())
            && (Double.isNaN(worst) || distance(p, s.value()) > distance(p, worst))) {
          worst = s.value();
        }
      }
      // Its recovery: from the fault going in to the end of its last streak out of tolerance.
      Double probeRecovery = 0.0;
      Instant lastBad = null;
      for (Sample s : mine) {
        if (!s.ok()) {
          lastBad = s.at();
        }
      }
      if (injected != null && lastBad != null) {
        if (!mine.get(mine.size() - 1).ok()) {
          probeRecovery = null;
          recovered = false;
        } else {
          Instant after = lastBad;
          Instant back =
              mine.stream()
                  .filter(s -> s.ok() && s.at().isAfter(after))
                  .findFirst()
                  .orElseThrow()
                  .at();
          probeRecovery = seconds(injected, back);
          if (back.isAfter(backForGood)) {
            backForGood = back;
          }
        }
      }
      if (!mine.isEmpty()) {
        weighted += p.weight() * passed / mine.size();
        weights += p.weight();
      }
      probes.add(
          new ProbeResult(
              p.name(), p.tolerance(), p.weight(), mine.size(), passed, probeRecovery, worst));
    }
    double score = weights == 0 ? 0 : Math.round(1000 * weighted / weights) / 10.0;
    Double recovery = injected == null || !recovered ? null : seconds(injected, backForGood);
    return new ChaosRun.Outcome(
        verdict, reason, score, recovery, probes, events, loadBalancer, expectations);
  }

  /**
   * The outcome of a run a killed daemon left, from its samples alone (the experiment's tolerances
   * and weights are not at hand: every probe weighs 1): aborted, never recovered.
   */
  static ChaosRun.Outcome ofSamples(ChaosRun run, String reason, List<CausedEvent> events) {
    java.util.Map<String, int[]> counts = new java.util.LinkedHashMap<>();
    for (Sample s : run.samples()) {
      if (s.phase() != Phase.BEFORE) {
        int[] c = counts.computeIfAbsent(s.probe(), k -> new int[2]);
        c[0]++;
        c[1] += s.ok() ? 1 : 0;
      }
    }
    List<ProbeResult> probes = new ArrayList<>();
    double sum = 0;
    for (java.util.Map.Entry<String, int[]> e : counts.entrySet()) {
      int[] c = e.getValue();
      probes.add(new ProbeResult(e.getKey(), "", 1, c[0], c[1], null, Double.NaN));
      sum += (double) c[1] / c[0];
    }
    double score = counts.isEmpty() ? 0 : Math.round(1000 * sum / counts.size()) / 10.0;
    return new ChaosRun.Outcome(
        "aborted", reason, score, null, probes, events, java.util.Map.of(), List.of());
  }

  private static double distance(Probe p, double v) {
    double d = 0;
    if (p.min() != null && v < p.min()) {
      d = p.min() - v;
    }
    if (p.max() != null && v > p.max()) {
      d = v - p.max();
    }
    return d;
  }

  private static double seconds(Instant a, Instant b) {
    return Math.round(Duration.between(a, b).toMillis() / 10.0) / 100.0;
  }

  /** The report in Markdown: outcome, probes against tolerance, timeline, events caused. */
  static String markdown(ChaosRun r) {
    StringBuilder b = new StringBuilder();
    b.append("# Chaos run ").append(r.id()).append(" — ").append(r.experiment()).append("\n\n");
    b.append("- file: `").append(r.file()).append("`\n");
    b.append("- service: ").append(r.service()).append('\n');
    b.append("- started: ").append(r.startedAt()).append('\n');
    if (r.endedAt() != null) {
      b.append("- ended: ").append(r.endedAt()).append('\n');
    }
    ChaosRun.Outcome o = r.outcome();
    if (o == null) {
      b.append("- state: ").append(r.state().name().toLowerCase(Locale.ROOT)).append('\n');
    } else {
      b.append("- verdict: **").append(o.verdict()).append("**");
      if (!o.reason().isEmpty()) {
        b.append(" — ").append(o.reason());
      }
      b.append('\n');
      b.append("- resilience score: ").append(fmt(o.score())).append(" / 100\n");
      b.append("- recovery: ")
          .append(o.recoverySeconds() == null ? "not recovered" : fmt(o.recoverySeconds()) + " s")
          .append(" (fault injected → steady state back)\n");
      b.append("\n## Probes\n\n| probe | tolerance | in tolerance | worst | recovery |\n");
      b.append("|---|---|---|---|---|\n");
      for (ProbeResult p : o.probes()) {
        b.append("| ")
            .append(p.name())
            .append(" | ")
            .append(p.tolerance())
            .append(" | ")
            .append(p.passed())
            .append(" / ")
            .append(p.evaluations())
            .append(" | ")
            .append(Double.isNaN(p.worst()) ? "–" : fmt(p.worst()))
            .append(" | ")
            .append(
                p.recoverySeconds() == null
                    ? "not recovered"
                    : p.passed() == p.evaluations()
                        ? "never left"
                        : fmt(p.recoverySeconds()) + " s")
            .append(" |\n");
      }
    }
    if (o != null && !o.expectations().isEmpty()) {
      b.append("\n## Expected events\n\n");
      for (ChaosRun.Expectation x : o.expectations()) {
        b.append("- ")
            .append(x.met() ? "met" : "**not met**")
            .append(": ")
            .append(x.event())
            .append(x.contains().isEmpty() ? "" : " containing '" + x.contains() + "'")
            .append(x.at() == null ? "" : " at " + x.at())
            .append('\n');
      }
    }
    if (o != null && !o.loadBalancer().isEmpty()) {
      b.append("\n## Load balancer (from the first fault to the end)\n\n");
      o.loadBalancer().entrySet().stream()
          .sorted(java.util.Map.Entry.comparingByKey())
          .forEach(
              e ->
                  b.append("- ")
                      .append(e.getKey())
                      .append(": ")
                      .append(fmt(e.getValue()))
                      .append('\n'));
    }
    b.append("\n## Faults\n\n| fault | target | detail | rolled back |\n|---|---|---|---|\n");
    for (ChaosRun.Applied a : r.applied()) {
      b.append("| ")
          .append(a.kind())
          .append(" | ")
          .append(a.target())
          .append(" | ")
          .append(a.detail())
          .append(" | ")
          .append(a.rolledBack() ? "yes" : a.kind().equals("kill") ? "–" : "**no**")
          .append(" |\n");
    }
    b.append("\n## Timeline\n\n");
    for (ChaosRun.Step s : r.timeline()) {
      b.append("- ").append(s.at()).append(" ").append(s.what()).append('\n');
    }
    if (o != null) {
      b.append("\n## Events it caused\n\n");
      if (o.events().isEmpty()) {
        b.append("none\n");
      }
      for (CausedEvent ev : o.events()) {
        b.append("- ")
            .append(ev.at())
            .append(" ")
            .append(ev.type())
            .append(ev.instance().isEmpty() ? "" : " " + ev.instance())
            .append(": ")
            .append(ev.message())
            .append('\n');
      }
    }
    return b.toString();
  }

  static String fmt(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15
        ? Long.toString((long) d)
        : String.format(Locale.ROOT, "%.4g", d).replaceAll("\\.?0+$", "");
  }
}
