package dev.pilothouse.core.rollout;

import dev.pilothouse.core.event.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The four DORA metrics, computed from the deploy engine's own events.
 *
 * <ul>
 *   <li>A <b>deployment</b> is a {@code RolloutStarted} event; it succeeded with the service's next
 *       {@code RolloutPromoted} and failed with its next {@code RolloutRolledBack}.
 *   <li><b>Deployment frequency</b>: successful deployments per day of the period.
 *   <li><b>Lead time for changes</b>: from the deploy's {@code commit_time} to its promotion
 *       (deploys that carry no commit time are left out).
 *   <li><b>Change failure rate</b>: finished deployments that were rolled back, or followed within
 *       the incident window by an incident on the service ({@code CrashLoop} or {@code
 *       IncidentOpened}), over all finished deployments.
 *   <li><b>Time to restore</b>: for a rolled-back deployment, from the moment its new version first
 *       got user traffic to the rollback; for an incident ({@code IncidentOpened}), until it was
 *       resolved ({@code IncidentResolved}); for a crash loop, until the service's next ready
 *       instance.
 * </ul>
 */
public final class Dora {
  private Dora() {}

  /** Event types that open an incident on a service. */
  static final Set<String> INCIDENTS = Set.of("CrashLoop", "IncidentOpened");

  /**
   * Medians of a set of durations.
   *
   * @param median null when there are no samples
   */
  public record Stat(int samples, Double medianSeconds, Double p90Seconds) {
    static Stat of(List<Duration> ds) {
      if (ds.isEmpty()) {
        return new Stat(0, null, null);
      }
      double[] s = ds.stream().mapToDouble(d -> d.toMillis() / 1000.0).sorted().toArray();
      return new Stat(s.length, quantile(s, 0.5), quantile(s, 0.9));
    }

    private static double quantile(double[] sorted, double q) {
      double pos = q * (sorted.length - 1);
      int lo = (int) Math.floor(pos);
      int hi = (int) Math.ceil(pos);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
  }

  /** The metrics of one period (and, in perService, of each service). */
  public record Report(
      Instant since,
      Instant until,
      int deployments,
      int successful,
      int failed,
      int inProgress,
      double deploymentsPerDay,
      Stat leadTime,
      Double changeFailureRate,
      Stat timeToRestore,
      Map<String, String> levels,
      Map<String, Report> perService) {}

  /** The report for events in [since, until); events are in log order. */
  public static Report compute(
      List<Event> events, Instant since, Instant until, Duration incidentWindow) {
    Map<String, List<Event>> byService = new TreeMap<>();
    for (Event e : events) {
      if (!e.service().isEmpty()) {
        byService.computeIfAbsent(e.service(), k -> new ArrayList<>()).add(e);
      }
    }
    Map<String, Report> per = new TreeMap<>();
    Acc all = new Acc();
    for (Map.Entry<String, List<Event>> e : byService.entrySet()) {
      Acc one = new Acc();
      scan(e.getValue(), since, until, incidentWindow, one);
      if (one.deployments > 0 || !one.restore.isEmpty()) {
        per.put(e.getKey(), one.report(since, until, Map.of()));
        all.add(one);
      }
    }
    return all.report(since, until, per);
  }

  private static void scan(
      List<Event> events, Instant since, Instant until, Duration window, Acc acc) {
    Event started = null;
    Instant firstTraffic = null;
    for (int i = 0; i < events.size(); i++) {
      Event e = events.get(i);
      switch (e.type()) {
        case "RolloutStarted" -> {
          started = e;
          firstTraffic = null;
        }
        case "RolloutStep" -> {
          if (started != null
              && firstTraffic == null
              && !"0".equals(e.fields().getOrDefault("weight", "0"))) {
            firstTraffic = e.at();
          }
        }
        case "RolloutPromoted" -> {
          if (started != null && in(started.at(), since, until)) {
            acc.deployments++;
            acc.successful++;
            String commit = started.fields().get("commit_time");
            if (commit != null) {
              Duration lead = Duration.between(Instant.parse(commit), e.at());
              if (!lead.isNegative()) {
                acc.lead.add(lead);
              }
            }
            Event incident = nextIncident(events, i, e.at().plus(window));
            if (incident != null) {
              acc.failed++;
            }
          }
          started = null;
        }
        case "RolloutRolledBack" -> {
          if (started != null && in(started.at(), since, until)) {
            acc.deployments++;
            acc.failed++;
            Instant from = firstTraffic == null ? started.at() : firstTraffic;
            acc.restore.add(Duration.between(from, e.at()));
          }
          started = null;
        }
        default -> {
          if (INCIDENTS.contains(e.type()) && in(e.at(), since, until)) {
            Instant restored =
                e.type().equals("IncidentOpened") ? resolved(events, i) : nextReady(events, i);
            if (restored != null) {
              acc.restore.add(Duration.between(e.at(), restored));
            }
          }
        }
      }
    }
    if (started != null && in(started.at(), since, until)) {
      acc.inProgress++;
    }
  }

  private static Event nextIncident(List<Event> events, int from, Instant until) {
    for (int j = from + 1; j < events.size() && events.get(j).at().isBefore(until); j++) {
      Event e = events.get(j);
      if (e.type().equals("RolloutStarted")) {
        return null; // the next deploy owns what follows
      }
      if (INCIDENTS.contains(e.type())) {
        return e;
      }
    }
    return null;
  }

  /** When the incident an IncidentOpened event opened was resolved; null while it is open. */
  private static Instant resolved(List<Event> events, int from) {
    String id = events.get(from).fields().get("incident");
    for (int j = from + 1; j < events.size(); j++) {
      Event e = events.get(j);
      if (e.type().equals("IncidentResolved")
          && java.util.Objects.equals(id, e.fields().get("incident"))) {
        return e.at();
      }
    }
    return null;
  }

  private static Instant nextReady(List<Event> events, int from) {
    for (int j = from + 1; j < events.size(); j++) {
      if (events.get(j).type().equals("InstanceReady")) {
        return events.get(j).at();
      }
    }
    return null;
  }

  private static boolean in(Instant t, Instant since, Instant until) {
    return !t.isBefore(since) && t.isBefore(until);
  }

  /**
   * DORA's performance levels (elite, high, medium, low) for each metric with data, after the State
   * of DevOps report's clusters.
   */
  static Map<String, String> levels(
      double perDay, Stat lead, Double failureRate, Stat restore, int successful) {
    Map<String, String> m = new HashMap<>();
    if (successful > 0) {
      m.put(
          "deployment_frequency",
          perDay >= 1
              ? "elite"
              : perDay >= 1 / 7.0 ? "high" : perDay >= 1 / 30.0 ? "medium" : "low");
    }
    if (lead.medianSeconds() != null) {
      double h = lead.medianSeconds() / 3600;
      m.put("lead_time", h < 24 ? "elite" : h < 24 * 7 ? "high" : h < 24 * 30 ? "medium" : "low");
    }
    if (failureRate != null) {
      m.put(
          "change_failure_rate",
          failureRate <= 0.05
              ? "elite"
              : failureRate <= 0.10 ? "high" : failureRate <= 0.15 ? "medium" : "low");
    }
    if (restore.medianSeconds() != null) {
      double h = restore.medianSeconds() / 3600;
      m.put("time_to_restore", h < 1 ? "elite" : h < 24 ? "high" : h < 24 * 7 ? "medium" : "low");
    }
    return m;
  }

  /** Counts and samples of one service, or all. */
  private static final class Acc {
    int deployments;
    int successful;
    int failed;
    int inProgress;
    final List<Duration> lead = new ArrayList<>();
    final List<Duration> restore = new ArrayList<>();

    void add(Acc o) {
      deployments += o.deployments;
      successful += o.successful;
      failed += o.failed;
      inProgress += o.inProgress;
      lead.addAll(o.lead);
      restore.addAll(o.restore);
    }

    Report report(Instant since, Instant until, Map<String, Report> per) {
      double days = Math.max(Duration.between(since, until).toMillis() / 86_400_000.0, 1e-9);
      double perDay = successful / days;
      Double rate = deployments == 0 ? null : failed / (double) deployments;
      Stat l = Stat.of(lead);
      Stat r = Stat.of(restore);
      return new Report(
          since,
          until,
          deployments,
          successful,
          failed,
          inProgress,
          perDay,
          l,
          rate,
          r,
          levels(perDay, l, rate, r, successful),
          per);
    }
  }
}
