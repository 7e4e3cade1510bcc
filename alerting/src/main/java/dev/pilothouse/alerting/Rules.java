package dev.pilothouse.alerting;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.AlertState.State;
import dev.pilothouse.core.alerting.AlertStateRepository;
import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates the spec's rule groups on their intervals: recording rules write back into the metrics
 * store, alerting rules move their alerts between pending, firing and resolved. Each group's alerts
 * are kept in the store after every evaluation that changes them, so a restart (also {@code kill
 * -9}) neither fires an alert again nor forgets one; firing and resolving are events ({@code
 * AlertFiring}, {@code AlertResolved}).
 */
public final class Rules {
  private static final Logger log = LoggerFactory.getLogger(Rules.class);

  /** Settings that are not in the rule files. */
  public record Options(Map<String, String> externalLabels, String externalUrl) {
    public Options {
      externalLabels = Map.copyOf(externalLabels);
      requireNonNull(externalUrl, "externalUrl");
    }

    public static Options defaults() {
      return new Options(Map.of(), "");
    }
  }

  private final Supplier<List<RuleGroup>> groups;
  private final RuleStore store;
  private final AlertStateRepository repo;
  private final EventSink events;
  private final InstantSource clock;
  private final Options options;
  private final Map<String, List<AlertState>> restored;
  private final Map<String, GroupRun> runs = new LinkedHashMap<>();
  private final Map<String, List<AlertState>> saved = new LinkedHashMap<>();
  private List<RuleGroup> loaded = List.of();

  public Rules(
      Supplier<List<RuleGroup>> groups,
      RuleStore store,
      AlertStateRepository repo,
      EventSink events,
      InstantSource clock,
      Options options) {
    this.groups = requireNonNull(groups, "groups");
    this.store = requireNonNull(store, "store");
    this.repo = requireNonNull(repo, "repo");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    this.options = requireNonNull(options, "options");
    this.restored = new LinkedHashMap<>(repo.load());
    saved.putAll(restored);
  }

  /** Evaluates every group that is due; called often (every second) by one thread. */
  public synchronized void tick() {
    Instant now = clock.instant();
    reload(now);
    for (GroupRun g : runs.values()) {
      Instant at = g.due(now);
      if (at != null) {
        evaluate(g, at);
      }
    }
  }

  private void reload(Instant now) {
    List<RuleGroup> current = groups.get();
    if (current.equals(loaded)) {
      return;
    }
    Map<String, GroupRun> next = new LinkedHashMap<>();
    for (RuleGroup g : current) {
      GroupRun previous = runs.get(g.key());
      // Alerts kept in the store seed a group once, when the daemon first meets it.
      List<AlertState> kept = restored.remove(g.key());
      kept = kept == null ? List.of() : kept;
      next.put(g.key(), new GroupRun(g, previous, kept));
    }
    for (Map.Entry<String, GroupRun> old : runs.entrySet()) {
      GroupRun replacement = next.get(old.getKey());
      List<RuleRun> gone =
          replacement == null ? old.getValue().runs : old.getValue().dropped(replacement);
      for (RuleRun r : gone) {
        try {
          r.retire(store, now);
        } catch (RuntimeException e) {
          log.warn("ending the series of removed rule {}: {}", r.rule.name(), e.getMessage());
        }
      }
      if (replacement == null) {
        save(old.getKey(), List.of());
      }
    }
    runs.clear();
    runs.putAll(next);
    loaded = current;
  }

  private void evaluate(GroupRun g, Instant at) {
    long t0 = System.nanoTime();
    RuleRun.Evaluation context =
        new RuleRun.Evaluation(options.externalLabels(), options.externalUrl());
    for (RuleRun r : g.runs) {
      long r0 = System.nanoTime();
      try {
        r.eval(store, at, g.group.limit(), context);
        r.health = "ok";
        r.lastError = "";
      } catch (RuntimeException e) {
        g.failures++;
        r.health = "err";
        r.lastError = e.getMessage() == null ? e.toString() : e.getMessage();
        log.debug("rule {} of group {}: {}", r.rule.name(), g.group.name(), r.lastError);
      }
      r.lastEvaluation = at;
      r.evaluationTime = Duration.ofNanos(System.nanoTime() - r0);
      if (r instanceof AlertingRuleRun a) {
        for (AlertingRuleRun.Change c : a.changes) {
          emit(g, c, at);
        }
        a.changes.clear();
      }
    }
    g.lastEvaluation = at;
    g.evaluations++;
    g.evaluationTime = Duration.ofNanos(System.nanoTime() - t0);
    save(g.group.key(), g.alerts());
  }

  /** Keeps a group's alerts when what a restart needs of them changed (not for new values). */
  private void save(String key, List<AlertState> alerts) {
    List<AlertState> before = saved.getOrDefault(key, List.of());
    if (sameStates(before, alerts)) {
      return;
    }
    try {
      repo.save(key, alerts);
      saved.put(key, alerts);
    } catch (RuntimeException e) {
      log.error("keeping the alerts of rule group {}: {}", key, e.getMessage());
    }
  }

  private static boolean sameStates(List<AlertState> a, List<AlertState> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      AlertState x = a.get(i);
      AlertState y = b.get(i);
      if (!x.labels().equals(y.labels())
          || x.state() != y.state()
          || !x.activeAt().equals(y.activeAt())
          || !java.util.Objects.equals(x.firedAt(), y.firedAt())
          || !java.util.Objects.equals(x.resolvedAt(), y.resolvedAt())
          || !java.util.Objects.equals(x.keepFiringSince(), y.keepFiringSince())
          || !x.annotations().equals(y.annotations())) {
        return false;
      }
    }
    return true;
  }

  private void emit(GroupRun g, AlertingRuleRun.Change c, Instant at) {
    AlertState a = c.alert();
    boolean firing = a.state() == State.FIRING;
    String labels =
        a.labels().entrySet().stream()
            .filter(e -> !e.getKey().equals("alertname"))
            .map(e -> e.getKey() + "=\"" + e.getValue() + "\"")
            .collect(Collectors.joining(", ", "{", "}"));
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("alertname", a.rule());
    fields.put("group", g.group.name());
    fields.put("labels", labels);
    String summary = a.annotations().getOrDefault("summary", "");
    if (!summary.isEmpty()) {
      fields.put("summary", summary);
    }
    String runbook = a.annotations().getOrDefault("runbook_url", "");
    if (!runbook.isEmpty()) {
      fields.put("runbook_url", runbook);
    }
    events.emit(
        new NewEvent(
            at,
            firing ? "AlertFiring" : "AlertResolved",
            a.labels().getOrDefault("service", ""),
            "",
            "alert "
                + a.rule()
                + " "
                + (firing ? "firing" : "resolved")
                + " "
                + labels
                + (summary.isEmpty() ? "" : (firing ? ": " : " (was: ") + summary)
                + (summary.isEmpty() || firing ? "" : ")"),
            fields));
  }

  /** A rule group's status, for the API. */
  public record GroupStatus(
      RuleGroup group, Instant lastEvaluation, Duration evaluationTime, List<RuleStatus> rules) {}

  /** A rule's status: its health and, for an alerting rule, its alerts. */
  public record RuleStatus(
      dev.pilothouse.core.alerting.Rule rule,
      String health,
      String lastError,
      Instant lastEvaluation,
      Duration evaluationTime,
      State state,
      List<AlertState> alerts) {}

  /** Every group with its rules' health and alerts. */
  public synchronized List<GroupStatus> groups() {
    reload(clock.instant());
    List<GroupStatus> out = new ArrayList<>();
    for (GroupRun g : runs.values()) {
      List<RuleStatus> rules = new ArrayList<>();
      for (RuleRun r : g.runs) {
        AlertingRuleRun a = r instanceof AlertingRuleRun x ? x : null;
        rules.add(
            new RuleStatus(
                r.rule,
                r.health,
                r.lastError,
                r.lastEvaluation,
                r.evaluationTime,
                a == null ? null : a.state(),
                a == null ? List.of() : a.alerts()));
      }
      out.add(new GroupStatus(g.group, g.lastEvaluation, g.evaluationTime, rules));
    }
    return out;
  }

  /** The rules' own metrics in Prometheus's text format (scraped with the daemon's). */
  public synchronized String metricsText() {
    StringBuilder b = new StringBuilder();
    b.append("# HELP pilothouse_rule_group_evaluations_total Evaluations of each rule group.\n");
    b.append("# TYPE pilothouse_rule_group_evaluations_total counter\n");
    runs.values()
        .forEach(g -> line(b, "pilothouse_rule_group_evaluations_total", g, g.evaluations));
    b.append(
        "# HELP pilothouse_rule_evaluation_failures_total Rule evaluations that failed, by group.\n");
    b.append("# TYPE pilothouse_rule_evaluation_failures_total counter\n");
    runs.values().forEach(g -> line(b, "pilothouse_rule_evaluation_failures_total", g, g.failures));
    b.append(
        "# HELP pilothouse_rule_group_iterations_missed_total Evaluations skipped because the"
            + " previous one ran late.\n");
    b.append("# TYPE pilothouse_rule_group_iterations_missed_total counter\n");
    runs.values()
        .forEach(g -> line(b, "pilothouse_rule_group_iterations_missed_total", g, g.missed));
    b.append(
        "# HELP pilothouse_rule_group_last_duration_seconds How long the group's last evaluation"
            + " took.\n");
    b.append("# TYPE pilothouse_rule_group_last_duration_seconds gauge\n");
    runs.values()
        .forEach(
            g ->
                line(
                    b,
                    "pilothouse_rule_group_last_duration_seconds",
                    g,
                    g.evaluationTime.toNanos() / 1e9));
    b.append("# HELP pilothouse_alerts Alerts of the alerting rules by state.\n");
    b.append("# TYPE pilothouse_alerts gauge\n");
    Map<String, Long> byState = new java.util.TreeMap<>();
    for (AlertState.State st : AlertState.State.values()) {
      byState.put(st.word(), 0L);
    }
    for (GroupRun g : runs.values()) {
      g.alerts().forEach(a -> byState.merge(a.state().word(), 1L, Long::sum));
    }
    byState.forEach(
        (st, n) ->
            b.append("pilothouse_alerts{state=\"")
                .append(st)
                .append("\"} ")
                .append(n)
                .append('\n'));
    return b.toString();
  }

  private static void line(StringBuilder b, String name, GroupRun g, double v) {
    b.append(name)
        .append("{rule_group=\"")
        .append(escape(g.group.file() + ";" + g.group.name()))
        .append("\"} ")
        .append(v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v))
        .append('\n');
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** Every alert the rules hold now: pending, firing and resolved in the last 15 minutes. */
  public synchronized List<AlertState> all() {
    List<AlertState> out = new ArrayList<>();
    for (GroupRun g : runs.values()) {
      out.addAll(g.alerts());
    }
    return out;
  }

  /** The pending and firing alerts of every rule (resolved ones are not listed). */
  public synchronized List<AlertState> alerts() {
    List<AlertState> out = new ArrayList<>();
    for (GroupStatus g : groups()) {
      for (RuleStatus r : g.rules()) {
        r.alerts().stream().filter(a -> a.state() != State.INACTIVE).forEach(out::add);
      }
    }
    return out;
  }
}
