package dev.pilothouse.server;

import dev.pilothouse.alerting.slo.SloRules;
import dev.pilothouse.alerting.slo.SloStatus;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.incident.Incident;
import dev.pilothouse.core.incident.IncidentRepository;
import dev.pilothouse.core.slo.Slo;
import dev.pilothouse.incident.Incidents;
import dev.pilothouse.incident.Postmortem;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Maps the incident module to HTTP: list, show, acknowledge, resolve, postmortem, on call. */
final class IncidentsApi {
  private final Incidents incidents;
  private final IncidentRepository repo;
  private final EventLog events;
  private final TsdbRuleStore metrics;
  private final Supplier<List<Slo>> slos;
  private final InstantSource clock;

  IncidentsApi(
      Incidents incidents,
      IncidentRepository repo,
      EventLog events,
      TsdbRuleStore metrics,
      Supplier<List<Slo>> slos,
      InstantSource clock) {
    this.incidents = incidents;
    this.repo = repo;
    this.events = events;
    this.metrics = metrics;
    this.slos = slos;
    this.clock = clock;
  }

  /** {@code GET /api/v1/incidents[?all=true]}: the open ones, or the last 100. */
  void list(Context ctx) {
    boolean all = "true".equals(ctx.queryParam("all"));
    List<Incident> list = all ? repo.recent(100) : incidents.openIncidents();
    List<Object> out = new ArrayList<>();
    list.forEach(i -> out.add(view(i)));
    Api.send(ctx, 200, Map.of("incidents", out));
  }

  void show(Context ctx) {
    Api.send(ctx, 200, view(find(ctx)));
  }

  void acknowledge(Context ctx) {
    long id = id(ctx);
    try {
      Api.send(ctx, 200, view(incidents.acknowledge(id, by(ctx))));
    } catch (IllegalStateException e) {
      throw conflict(e);
    }
  }

  void resolve(Context ctx) {
    long id = id(ctx);
    try {
      Api.send(ctx, 200, view(incidents.resolve(id, by(ctx))));
    } catch (IllegalStateException e) {
      throw conflict(e);
    }
  }

  /** {@code GET /api/v1/incidents/{id}/postmortem}: the Markdown draft. */
  void postmortem(Context ctx) {
    Incident i = find(ctx);
    Instant now = clock.instant();
    Instant end = i.resolvedAt() == null ? now : i.resolvedAt();
    List<Event> related = new ArrayList<>();
    Instant from = i.openedAt().minus(Duration.ofDays(1));
    long after = 0;
    for (int pages = 0; pages < 1000; pages++) {
      List<Event> page = events.after(after, 5_000);
      for (Event e : page) {
        if (!e.at().isBefore(from) && !e.at().isAfter(end) && e.service().equals(i.service())) {
          related.add(e);
        }
      }
      if (page.size() < 5_000) {
        break;
      }
      after = page.get(page.size() - 1).seq();
    }
    ctx.status(200)
        .contentType("text/markdown; charset=utf-8")
        .result(Postmortem.markdown(i, related, impact(i, end), now));
  }

  /** {@code GET /api/v1/oncall}: who each schedule has on call now, and next. */
  void oncall(Context ctx) {
    Api.send(ctx, 200, Map.of("schedules", incidents.onCallNow(clock.instant())));
  }

  /** Requests and failures during the incident, and each SLO's budget spent, from the metrics. */
  private Postmortem.Impact impact(Incident i, Instant end) {
    if (i.service().isEmpty()) {
      return Postmortem.Impact.unknown();
    }
    Duration d = Duration.between(i.openedAt(), end);
    String svc = "service=\"" + i.service() + "\"";
    try {
      Double total = SloStatus.requests(svc, d, metrics, end);
      if (total == null) {
        return Postmortem.Impact.unknown();
      }
      Double available = SloStatus.availability(svc, d, metrics, end);
      List<Postmortem.Budget> budgets = new ArrayList<>();
      for (Slo s : slos.get()) {
        if (s.service().equals(i.service())) {
          budgets.add(
              new Postmortem.Budget(
                  s.name(),
                  s.objective(),
                  SloRules.period(s),
                  SloStatus.budgetSpent(s, d, metrics, end)));
        }
      }
      return new Postmortem.Impact(total, available == null ? 0 : (1 - available) * total, budgets);
    } catch (RuntimeException e) {
      return Postmortem.Impact.unknown();
    }
  }

  private Incident find(Context ctx) {
    long id = id(ctx);
    return repo.incident(id)
        .orElseThrow(
            () -> new ApiError(404, "no incident " + id, "list them: pilothouse incidents --all"));
  }

  private static long id(Context ctx) {
    try {
      return Long.parseLong(ctx.pathParam("id"));
    } catch (NumberFormatException e) {
      throw new ApiError(
          400, "incident id '" + ctx.pathParam("id") + "' is not a number", "e.g. 12");
    }
  }

  private static String by(Context ctx) {
    String by = ctx.queryParam("by");
    if (by == null || by.isBlank()) {
      return "api";
    }
    if (by.length() > 64 || !by.matches("[A-Za-z0-9._@-]+")) {
      throw new ApiError(400, "by: not a user name", "letters, digits, '.', '_', '@', '-'");
    }
    return by;
  }

  private static ApiError conflict(IllegalStateException e) {
    return new ApiError(
        e.getMessage().startsWith("no incident") ? 404 : 409,
        e.getMessage(),
        "list them: pilothouse incidents --all");
  }

  static Map<String, Object> view(Incident i) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", i.id());
    m.put("state", i.state().wire());
    m.put("title", i.title());
    m.put("service", i.service());
    m.put("severity", i.severity());
    m.put("opened_at", i.openedAt().toString());
    m.put("acknowledged_at", i.acknowledgedAt() == null ? null : i.acknowledgedAt().toString());
    m.put("acknowledged_by", i.acknowledgedBy());
    m.put("resolved_at", i.resolvedAt() == null ? null : i.resolvedAt().toString());
    m.put("resolved_by", i.resolvedBy());
    m.put("escalation", i.escalation());
    m.put("escalation_level", i.level());
    List<Object> alerts = new ArrayList<>();
    for (Incident.Alert a : i.alerts()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("name", a.name());
      x.put("labels", a.labels());
      x.put("summary", a.summary());
      x.put("runbook_url", a.runbook());
      x.put("fired_at", a.firedAt().toString());
      x.put("resolved_at", a.resolvedAt() == null ? null : a.resolvedAt().toString());
      alerts.add(x);
    }
    m.put("alerts", alerts);
    List<Object> timeline = new ArrayList<>();
    for (Incident.Entry e : i.timeline()) {
      timeline.add(Map.of("at", e.at().toString(), "kind", e.kind(), "text", e.text()));
    }
    m.put("timeline", timeline);
    return m;
  }
}
