package dev.pilothouse.alerting;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.AlertState.State;
import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.template.Template;
import dev.pilothouse.core.alerting.template.TemplateException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alerting rule, as Prometheus evaluates one: every result of the expression is an alert,
 * pending until it has been one for {@code for}, then firing; an alert that stops being a result
 * resolves (after {@code keep_firing_for} when given) and is kept 15 minutes as inactive.
 */
final class AlertingRuleRun extends RuleRun {
  /** How long a resolved alert stays listed (Prometheus's resolvedRetention). */
  static final Duration RESOLVED_RETENTION = Duration.ofMinutes(15);

  /** A state change an evaluation made: the caller records it as an event. */
  record Change(AlertState alert, State from) {}

  private final Map<Map<String, String>, AlertState> active = new LinkedHashMap<>();
  private final Map<String, Template> templates = new LinkedHashMap<>();

  AlertingRuleRun(Rule.Alerting rule, List<AlertState> restored) {
    super(rule);
    for (AlertState a : restored) {
      active.put(a.labels(), a);
    }
  }

  Rule.Alerting alerting() {
    return (Rule.Alerting) rule;
  }

  /** The alerts now known: pending, firing and recently resolved. */
  List<AlertState> alerts() {
    return List.copyOf(active.values());
  }

  /** The rule's state: firing if any alert fires, else pending if any is pending, else inactive. */
  State state() {
    State s = State.INACTIVE;
    for (AlertState a : active.values()) {
      if (a.state() == State.FIRING) {
        return State.FIRING;
      }
      if (a.state() == State.PENDING) {
        s = State.PENDING;
      }
    }
    return s;
  }

  final List<Change> changes = new ArrayList<>();

  @Override
  void eval(RuleStore store, Instant ts, int limit, Evaluation context) {
    Rule.Alerting r = alerting();
    changes.clear();
    List<RuleStore.Sample> result = store.query(r.expr(), ts);
    Template.Query query =
        q -> {
          List<Template.Sample> out = new ArrayList<>();
          store.query(q, ts).forEach(s -> out.add(new Template.Sample(s.labels(), s.value())));
          return out;
        };
    Map<Map<String, String>, RuleStore.Sample> seen = new LinkedHashMap<>();
    Map<Map<String, String>, Map<String, String>> annotations = new LinkedHashMap<>();
    for (RuleStore.Sample s : result) {
      Map<String, String> labels = withoutName(s.labels());
      for (Map.Entry<String, String> l : r.labels().entrySet()) {
        String v = expand(l.getKey(), l.getValue(), s, context, query);
        if (v.isEmpty()) {
          labels.remove(l.getKey());
        } else {
          labels.put(l.getKey(), v);
        }
      }
      labels.put("alertname", r.alert());
      if (seen.put(labels, s) != null) {
        throw new RuleException(
            "vector contains metrics with the same labelset after applying alert labels");
      }
      Map<String, String> ann = new TreeMap<>();
      r.annotations().forEach((k, v) -> ann.put(k, expand(k, v, s, context, query)));
      annotations.put(labels, ann);
    }
    Map<Map<String, String>, AlertState> next = new LinkedHashMap<>(active);
    for (Map.Entry<Map<String, String>, RuleStore.Sample> e : seen.entrySet()) {
      AlertState a = next.get(e.getKey());
      double v = e.getValue().value();
      Map<String, String> ann = annotations.get(e.getKey());
      if (a != null && a.state() != State.INACTIVE) {
        next.put(
            e.getKey(),
            new AlertState(
                r.alert(), e.getKey(), ann, a.state(), a.activeAt(), a.firedAt(), null, null, v));
      } else {
        next.put(
            e.getKey(),
            new AlertState(r.alert(), e.getKey(), ann, State.PENDING, ts, null, null, null, v));
      }
    }
    for (Map.Entry<Map<String, String>, AlertState> e : active.entrySet()) {
      if (seen.containsKey(e.getKey())) {
        continue;
      }
      AlertState a = e.getValue();
      if (a.state() == State.FIRING && !r.keepFiringFor().isZero()) {
        Instant since = a.keepFiringSince() == null ? ts : a.keepFiringSince();
        if (Duration.between(since, ts).compareTo(r.keepFiringFor()) < 0) {
          next.put(e.getKey(), with(a, State.FIRING, a.firedAt(), null, since));
          continue;
        }
      }
      if (a.state() == State.PENDING
          || (a.state() == State.INACTIVE
              && Duration.between(a.resolvedAt(), ts).compareTo(RESOLVED_RETENTION) > 0)) {
        next.remove(e.getKey());
      } else if (a.state() != State.INACTIVE) {
        next.put(e.getKey(), with(a, State.INACTIVE, a.firedAt(), ts, null));
        changes.add(new Change(next.get(e.getKey()), a.state()));
      }
    }
    int pendingOrFiring = 0;
    for (Map.Entry<Map<String, String>, AlertState> e : next.entrySet()) {
      AlertState a = e.getValue();
      if (a.state() == State.PENDING
          && Duration.between(a.activeAt(), ts).compareTo(r.holdFor()) >= 0) {
        AlertState fired = with(a, State.FIRING, ts, null, null);
        e.setValue(fired);
        changes.add(new Change(fired, State.PENDING));
      }
      if (e.getValue().state() != State.INACTIVE) {
        pendingOrFiring++;
      }
    }
    if (limit > 0 && pendingOrFiring > limit) {
      active.clear();
      changes.clear();
      write(store, ts, List.of());
      throw new RuleException(
          "exceeded limit of " + limit + " with " + pendingOrFiring + " alerts");
    }
    active.clear();
    active.putAll(next);
    write(store, ts, series(ts));
  }

  /** ALERTS and ALERTS_FOR_STATE of every pending or firing alert, as Prometheus writes them. */
  private List<RuleStore.Sample> series(Instant ts) {
    List<RuleStore.Sample> out = new ArrayList<>();
    for (AlertState a : active.values()) {
      if (a.state() == State.INACTIVE) {
        continue;
      }
      Map<String, String> l = new TreeMap<>(a.labels());
      l.put("__name__", "ALERTS");
      l.put("alertstate", a.state().word());
      out.add(new RuleStore.Sample(l, 1));
      Map<String, String> f = new TreeMap<>(a.labels());
      f.put("__name__", "ALERTS_FOR_STATE");
      out.add(new RuleStore.Sample(f, a.activeAt().getEpochSecond()));
    }
    return out;
  }

  private static AlertState with(
      AlertState a, State s, Instant firedAt, Instant resolvedAt, Instant keepFiringSince) {
    return new AlertState(
        a.rule(),
        a.labels(),
        a.annotations(),
        s,
        a.activeAt(),
        firedAt,
        resolvedAt,
        keepFiringSince,
        a.value());
  }

  /** Expands a label or annotation template; a failure shows in its place, as in Prometheus. */
  private String expand(
      String field, String text, RuleStore.Sample s, Evaluation context, Template.Query query) {
    if (!text.contains("{{")) {
      return text;
    }
    try {
      Template t = templates.computeIfAbsent(field + "\u0000" + text, k -> parse(text));
      return t.expand(
          s.labels(), s.value(), context.externalLabels(), context.externalUrl(), query);
    } catch (TemplateException e) {
      return "<error expanding template: " + e.getMessage() + ">";
    }
  }

  private Template parse(String text) {
    return Template.parse("__alert_" + rule.name(), text);
  }
}
