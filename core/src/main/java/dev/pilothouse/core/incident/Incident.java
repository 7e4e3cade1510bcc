package dev.pilothouse.core.incident;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An incident: firing alerts of one service (or, without a service label, of one alert name)
 * grouped while it is open, with what happened to it.
 *
 * @param key what groups alerts into it: "service:NAME" or "alert:NAME"
 * @param level escalation levels notified so far
 */
public record Incident(
    long id,
    String key,
    String service,
    String title,
    String severity,
    State state,
    Instant openedAt,
    Instant acknowledgedAt,
    String acknowledgedBy,
    Instant resolvedAt,
    String resolvedBy,
    String escalation,
    int level,
    List<Alert> alerts,
    List<Entry> timeline) {
  /** Where an incident stands. */
  public enum State {
    TRIGGERED,
    ACKNOWLEDGED,
    RESOLVED;

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public Incident {
    alerts = List.copyOf(alerts);
    timeline = List.copyOf(timeline);
    escalation = escalation == null ? "" : escalation;
  }

  /**
   * One alert of the incident.
   *
   * @param labels as the alert event wrote them: {a="b", …}
   * @param resolvedAt null while it fires
   */
  public record Alert(
      String name,
      String labels,
      String severity,
      String summary,
      String runbook,
      Instant firedAt,
      Instant resolvedAt) {}

  /** A line of the timeline: what happened when. */
  public record Entry(Instant at, String kind, String text) {}

  /** Whether it is still open (triggered or acknowledged). */
  public boolean open() {
    return state != State.RESOLVED;
  }

  /** This incident with a line more in its timeline. */
  public Incident with(Entry e) {
    List<Entry> t = new ArrayList<>(timeline);
    t.add(e);
    return withTimeline(t);
  }

  /** This incident with another timeline. */
  public Incident withTimeline(List<Entry> t) {
    return copy(
        state, acknowledgedAt, acknowledgedBy, resolvedAt, resolvedBy, level, severity, alerts, t);
  }

  /** This incident with other alerts. */
  public Incident withAlerts(List<Alert> a, String newSeverity) {
    return copy(
        state,
        acknowledgedAt,
        acknowledgedBy,
        resolvedAt,
        resolvedBy,
        level,
        newSeverity,
        a,
        timeline);
  }

  /** Acknowledged by someone at a moment. */
  public Incident acknowledged(Instant at, String by) {
    return copy(
        State.ACKNOWLEDGED, at, by, resolvedAt, resolvedBy, level, severity, alerts, timeline);
  }

  /** Resolved by someone ("" when its alerts resolved) at a moment. */
  public Incident resolved(Instant at, String by) {
    return copy(
        State.RESOLVED, acknowledgedAt, acknowledgedBy, at, by, level, severity, alerts, timeline);
  }

  /** With the escalation policy's levels notified so far. */
  public Incident escalated(int levels) {
    return copy(
        state,
        acknowledgedAt,
        acknowledgedBy,
        resolvedAt,
        resolvedBy,
        levels,
        severity,
        alerts,
        timeline);
  }

  private Incident copy(
      State st,
      Instant ackAt,
      String ackBy,
      Instant resAt,
      String resBy,
      int lvl,
      String sev,
      List<Alert> a,
      List<Entry> t) {
    return new Incident(
        id,
        key,
        service,
        title,
        sev,
        st,
        openedAt,
        ackAt,
        ackBy,
        resAt,
        resBy,
        escalation,
        lvl,
        a,
        t);
  }
}
