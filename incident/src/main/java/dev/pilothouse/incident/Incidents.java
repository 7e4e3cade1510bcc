package dev.pilothouse.incident;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.incident.Incident;
import dev.pilothouse.core.incident.IncidentRepository;
import dev.pilothouse.core.incident.OnCall;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds incidents from the event log and pages people for them. Firing alerts of one service
 * (without a service label: of one alert name) join one open incident; it resolves when all its
 * alerts have, or when someone resolves it. While nobody has acknowledged it, the escalation policy
 * whose labels match its first alert pages level after level. Deploys, rollbacks, crash loops,
 * scaling and remediation of the service join its timeline.
 *
 * <p>It meets the rest of the daemon in the store and the event stream only: it reads alert and
 * deploy events after the position it has saved (with the incidents, in one transaction), and emits
 * {@code IncidentOpened}, {@code IncidentAcknowledged}, {@code IncidentResolved} and {@code
 * IncidentEscalated} events. A page is sent before its level is saved: after a crash at the wrong
 * moment a page may go out twice, never not at all.
 */
public final class Incidents {
  private static final Logger log = LoggerFactory.getLogger(Incidents.class);

  /** Event types of an incident's service that join its timeline. */
  static final Set<String> CONTEXT_PREFIXES =
      Set.of(
          "Rollout",
          "Deploy",
          "SpecApplied",
          "CrashLoop",
          "Scale",
          "Restart",
          "Heal",
          "Remediat",
          "Undo");

  /** Events read per tick at most (the rest on the next ticks). */
  static final int BATCH = 1_000;

  /** Timeline entries an incident keeps at most (the oldest context entries go first). */
  static final int MAX_TIMELINE = 500;

  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Sends a page to a person; throws when it could not be delivered. */
  @FunctionalInterface
  public interface Pager {
    void page(String user, OnCall.User contact, Incident incident, int level) throws Exception;
  }

  private final Supplier<OnCall> oncall;
  private final EventLog events;
  private final EventSink sink;
  private final IncidentRepository repo;
  private final Pager pager;
  private final InstantSource clock;
  private final Map<Long, Incident> open = new LinkedHashMap<>();
  private long cursor;

  public Incidents(
      Supplier<OnCall> oncall,
      EventLog events,
      EventSink sink,
      IncidentRepository repo,
      Pager pager,
      InstantSource clock) {
    this.oncall = oncall;
    this.events = events;
    this.sink = sink;
    this.repo = repo;
    this.pager = pager;
    this.clock = clock;
    IncidentRepository.Snapshot s = repo.incidentSnapshot();
    s.open().forEach(i -> open.put(i.id(), i));
    cursor = s.eventCursor();
  }

  /** Reads new events into incidents, then escalates the unacknowledged ones. */
  public synchronized void tick() {
    Map<Long, Incident> changed = new LinkedHashMap<>();
    List<Event> batch = events.after(cursor, BATCH);
    for (Event e : batch) {
      apply(e, changed);
      cursor = e.seq();
    }
    Instant now = clock.instant();
    for (Incident i : List.copyOf(open.values())) {
      if (i.state() == Incident.State.TRIGGERED) {
        Incident after = escalate(i, now);
        if (after != i) {
          put(after, changed);
        }
      }
    }
    if (!changed.isEmpty() || !batch.isEmpty()) {
      repo.save(List.copyOf(changed.values()), cursor);
    }
    changed.values().stream().filter(i -> !i.open()).forEach(i -> open.remove(i.id()));
  }

  /** The open incidents, oldest first. */
  public synchronized List<Incident> openIncidents() {
    return List.copyOf(open.values());
  }

  /** Acknowledges an open incident: escalation stops. Idempotent. */
  public synchronized Incident acknowledge(long id, String by) {
    Incident i = openOne(id);
    if (i.state() == Incident.State.ACKNOWLEDGED) {
      return i;
    }
    Instant now = clock.instant();
    Incident a = i.acknowledged(now, by).with(entry(now, "ack", "acknowledged by " + by));
    sink.emit(event(now, "IncidentAcknowledged", a, "incident " + id + " acknowledged by " + by));
    saveOne(a);
    return a;
  }

  /** Resolves an open incident by hand (its alerts may still fire: they join a new one). */
  public synchronized Incident resolve(long id, String by) {
    Incident i = openOne(id);
    Instant now = clock.instant();
    Incident r = i.resolved(now, by).with(entry(now, "resolve", "resolved by " + by));
    sink.emit(event(now, "IncidentResolved", r, "incident " + id + " resolved by " + by));
    saveOne(r);
    open.remove(id);
    return r;
  }

  /** Who each schedule has on call at a moment, and when they hand over. */
  public List<Map<String, Object>> onCallNow(Instant t) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (OnCall.Schedule s : oncall.get().schedules()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("schedule", s.name());
      m.put("user", s.onCallAt(t));
      m.put("until", s.handoverAfter(t).toString());
      m.put("next", s.onCallAt(s.handoverAfter(t)));
      out.add(m);
    }
    return out;
  }

  private Incident openOne(long id) {
    Incident i = open.get(id);
    if (i == null) {
      Optional<Incident> any = repo.incident(id);
      throw new IllegalStateException(
          any.isPresent()
              ? "incident " + id + " is already resolved"
              : "no incident " + id + " (list them: pilothouse incidents)");
    }
    return i;
  }

  private void saveOne(Incident i) {
    open.put(i.id(), i);
    repo.save(List.of(i), cursor);
  }

  private void put(Incident i, Map<Long, Incident> changed) {
    Incident kept = bounded(i);
    open.put(kept.id(), kept);
    changed.put(kept.id(), kept);
  }

  /** At most MAX_TIMELINE entries: the oldest context events go first, then the oldest of all. */
  static Incident bounded(Incident i) {
    if (i.timeline().size() <= MAX_TIMELINE) {
      return i;
    }
    List<Incident.Entry> t = new ArrayList<>(i.timeline());
    for (int k = 0; k < t.size() && t.size() > MAX_TIMELINE; ) {
      if (t.get(k).kind().equals("event")) {
        t.remove(k);
      } else {
        k++;
      }
    }
    while (t.size() > MAX_TIMELINE) {
      t.remove(0);
    }
    return i.withTimeline(t);
  }

  private void apply(Event e, Map<Long, Incident> changed) {
    switch (e.type()) {
      // A remediation that did not help pages as an alert would; its recovery resolves it.
      case "AlertFiring", "RemediationEscalated" -> fired(e, changed);
      case "AlertResolved", "RemediationRecovered" -> resolvedAlert(e, changed);
      default -> context(e, changed);
    }
  }

  private void fired(Event e, Map<Long, Incident> changed) {
    String name = e.fields().getOrDefault("alertname", "");
    String labels = e.fields().getOrDefault("labels", "{}");
    Map<String, String> parsed = labels(labels);
    String service = e.service();
    String key = service.isEmpty() ? "alert:" + name : "service:" + service;
    String severity = parsed.getOrDefault("severity", "");
    Incident.Alert alert =
        new Incident.Alert(
            name,
            labels,
            severity,
            e.fields().getOrDefault("summary", ""),
            e.fields().getOrDefault("runbook_url", ""),
            e.at(),
            null);
    Incident i = open.values().stream().filter(x -> x.key().equals(key)).findFirst().orElse(null);
    if (i == null) {
      long id = repo.nextId();
      String title =
          alert.summary().isEmpty()
              ? name + (service.isEmpty() ? "" : " on " + service)
              : alert.summary();
      OnCall.Escalation policy = policy(parsed, service);
      i =
          new Incident(
              id,
              key,
              service,
              title,
              severity,
              Incident.State.TRIGGERED,
              e.at(),
              null,
              null,
              null,
              null,
              policy == null ? "" : policy.name(),
              0,
              List.of(alert),
              List.of(entry(e.at(), "alert", "alert " + name + " " + labels + " fired")));
      sink.emit(event(e.at(), "IncidentOpened", i, "incident " + id + " opened: " + title));
      put(i, changed);
      return;
    }
    List<Incident.Alert> alerts = new ArrayList<>();
    boolean found = false;
    for (Incident.Alert a : i.alerts()) {
      if (a.name().equals(name) && a.labels().equals(labels)) {
        alerts.add(alert);
        found = true;
      } else {
        alerts.add(a);
      }
    }
    if (!found) {
      alerts.add(alert);
    }
    put(
        i.withAlerts(alerts, worse(i.severity(), severity))
            .with(entry(e.at(), "alert", "alert " + name + " " + labels + " fired")),
        changed);
  }

  private void resolvedAlert(Event e, Map<Long, Incident> changed) {
    String name = e.fields().getOrDefault("alertname", "");
    String labels = e.fields().getOrDefault("labels", "{}");
    for (Incident i : List.copyOf(open.values())) {
      List<Incident.Alert> alerts = new ArrayList<>();
      boolean hit = false;
      for (Incident.Alert a : i.alerts()) {
        if (a.resolvedAt() == null && a.name().equals(name) && a.labels().equals(labels)) {
          alerts.add(
              new Incident.Alert(
                  a.name(),
                  a.labels(),
                  a.severity(),
                  a.summary(),
                  a.runbook(),
                  a.firedAt(),
                  e.at()));
          hit = true;
        } else {
          alerts.add(a);
        }
      }
      if (!hit) {
        continue;
      }
      Incident n =
          i.withAlerts(alerts, i.severity())
              .with(entry(e.at(), "alert", "alert " + name + " " + labels + " resolved"));
      if (alerts.stream().allMatch(a -> a.resolvedAt() != null)) {
        n = n.resolved(e.at(), "").with(entry(e.at(), "resolve", "all its alerts resolved"));
        sink.emit(
            event(
                e.at(),
                "IncidentResolved",
                n,
                "incident " + n.id() + " resolved: all its alerts resolved"));
      }
      put(n, changed);
    }
  }

  private void context(Event e, Map<Long, Incident> changed) {
    if (e.service().isEmpty() || CONTEXT_PREFIXES.stream().noneMatch(e.type()::startsWith)) {
      return;
    }
    for (Incident i : List.copyOf(open.values())) {
      if (i.service().equals(e.service())) {
        put(i.with(entry(e.at(), "event", e.type() + ": " + e.message())), changed);
      }
    }
  }

  /** Notifies every level that is due and not yet notified. */
  private Incident escalate(Incident i, Instant now) {
    OnCall on = oncall.get();
    OnCall.Escalation policy =
        on.escalations().stream()
            .filter(p -> p.name().equals(i.escalation()))
            .findFirst()
            .orElse(null);
    if (policy == null) {
      return i;
    }
    Incident cur = i;
    Instant due = i.openedAt();
    for (int level = 0; level < policy.levels().size(); level++) {
      OnCall.Level l = policy.levels().get(level);
      due = due.plus(l.after());
      if (level < cur.level()) {
        continue;
      }
      if (now.isBefore(due)) {
        break;
      }
      for (String target : l.targets()) {
        cur = page(cur, on, target, level + 1, now);
      }
      cur = cur.escalated(level + 1);
      sink.emit(
          event(
              now,
              "IncidentEscalated",
              cur,
              "incident "
                  + cur.id()
                  + " escalated to level "
                  + (level + 1)
                  + " of "
                  + policy.name()));
    }
    return cur;
  }

  private Incident page(Incident i, OnCall on, String target, int level, Instant now) {
    String user = target;
    String via = "";
    if (target.startsWith("schedule:")) {
      String name = target.substring("schedule:".length());
      OnCall.Schedule s =
          on.schedules().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
      if (s == null) {
        return i.with(entry(now, "page", "no schedule " + name + " to page (level " + level + ")"));
      }
      user = s.onCallAt(now);
      via = " (on call for " + name + ")";
    } else if (target.startsWith("user:")) {
      user = target.substring("user:".length());
    }
    OnCall.User contact = on.users().get(user);
    if (contact == null) {
      return i.with(entry(now, "page", "no user " + user + " to page (level " + level + ")"));
    }
    try {
      pager.page(user, contact, i, level);
      return i.with(entry(now, "page", "paged " + user + via + ", level " + level));
    } catch (Exception ex) {
      log.warn("paging {} for incident {} failed: {}", user, i.id(), ex.getMessage());
      return i.with(
          entry(
              now,
              "page",
              "paging " + user + via + " failed, level " + level + ": " + ex.getMessage()));
    }
  }

  private OnCall.Escalation policy(Map<String, String> labels, String service) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    if (!service.isEmpty()) {
      all.putIfAbsent("service", service);
    }
    for (OnCall.Escalation p : oncall.get().escalations()) {
      if (p.match().entrySet().stream().allMatch(m -> m.getValue().equals(all.get(m.getKey())))) {
        return p;
      }
    }
    return null;
  }

  /** The labels of an event's {a="b", …} text. */
  public static Map<String, String> labels(String text) {
    Map<String, String> m = new LinkedHashMap<>();
    Matcher x = LABEL.matcher(text);
    while (x.find()) {
      m.put(x.group(1), x.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    return m;
  }

  /** The more urgent of two severities. */
  static String worse(String a, String b) {
    List<String> order = List.of("critical", "page", "error", "warning", "ticket", "info");
    int ia = order.indexOf(a);
    int ib = order.indexOf(b);
    if (ia < 0) {
      return ib < 0 ? (a.isEmpty() ? b : a) : b;
    }
    return ib >= 0 && ib < ia ? b : a;
  }

  private static Incident.Entry entry(Instant at, String kind, String text) {
    return new Incident.Entry(at, kind, text);
  }

  private static NewEvent event(Instant at, String type, Incident i, String message) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("incident", Long.toString(i.id()));
    f.put("title", i.title());
    if (!i.severity().isEmpty()) {
      f.put("severity", i.severity());
    }
    return new NewEvent(at, type, i.service(), "", message, f);
  }

  /** How long an incident has been open (or was). */
  public static Duration duration(Incident i, Instant now) {
    return Duration.between(i.openedAt(), i.resolvedAt() == null ? now : i.resolvedAt());
  }
}
