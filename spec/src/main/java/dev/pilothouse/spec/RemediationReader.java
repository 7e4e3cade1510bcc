package dev.pilothouse.spec;

import dev.pilothouse.core.spec.Remediation;
import dev.pilothouse.core.spec.Remediation.Action;
import dev.pilothouse.core.spec.Remediation.Condition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A service's {@code remediation:} runbooks: condition, actions, verification, guard rails. */
final class RemediationReader extends SectionReader {
  static final List<String> RUNBOOK =
      List.of(
          "name",
          "when",
          "actions",
          "verify",
          "cooldown",
          "maxPerHour",
          "blastRadius",
          "escalate",
          "quarantineFor");
  static final List<String> WHEN = List.of("unready", "crashLoop", "alert");
  static final List<String> ACTION = List.of("scaleOut", "command", "timeout");
  static final List<String> NAMED_ACTIONS = List.of("replace", "quarantine", "restart", "rollback");

  /** The most runbooks one service may have. */
  static final int MAX_RUNBOOKS = 20;

  RemediationReader(SectionReader parent) {
    super(parent);
  }

  List<Remediation> remediation(Fields f) {
    List<Remediation> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int i = 0;
    for (Fields r :
        objects(
            f,
            "remediation",
            RUNBOOK,
            "write a list such as '- {when: {unready: 20s}, actions: [replace]}'",
            MAX_RUNBOOKS)) {
      int before = problems.list().size();
      String name = r.string("name").orElse("runbook-" + i);
      i++;
      if (!names.add(name)) {
        problems.at(
            r.get("name").orElse(r.node()),
            r.join("name"),
            "a second runbook named '" + name + "'",
            "give each runbook of a service its own name");
      }
      Optional<Condition> when =
          r.require("when", "say when it starts, e.g. 'when: {unready: 20s}'")
              .flatMap(n -> r.object("when", WHEN))
              .flatMap(this::condition);
      List<Action> actions = actions(r);
      Duration verify = duration(r, "verify", Duration.ofSeconds(30), false);
      Duration cooldown = duration(r, "cooldown", Duration.ofMinutes(1), true);
      int maxPerHour = r.integer("maxPerHour", 1, 1000).map(Long::intValue).orElse(6);
      double blast = blastRadius(r);
      boolean escalate = r.bool("escalate").orElse(true);
      Duration quarantineFor = duration(r, "quarantineFor", Duration.ofHours(1), false);
      if (quarantineFor.compareTo(Duration.ofDays(7)) > 0) {
        problems.at(
            r.get("quarantineFor").orElseThrow(),
            r.join("quarantineFor"),
            "must be at most 7d",
            "keep a quarantined instance for hours, not weeks");
      }
      if (when.isPresent() && !when.get().perInstance()) {
        for (int k = 0; k < actions.size(); k++) {
          if (actions.get(k).perInstance()) {
            problems.at(
                r.get("actions").orElseThrow(),
                r.join("actions") + "[" + k + "]",
                "'"
                    + actions.get(k).name()
                    + "' acts on one instance, and '"
                    + when.get().name()
                    + "' is about the whole service",
                "use restart, rollback, scaleOut or command with it, or 'when: {unready: D}'");
          }
        }
      }
      if (when.isEmpty() || actions.isEmpty() || problems.list().size() != before) {
        continue;
      }
      out.add(
          new Remediation(
              name,
              when.get(),
              actions,
              verify,
              cooldown,
              maxPerHour,
              blast,
              escalate,
              quarantineFor));
    }
    return out;
  }

  private Optional<Condition> condition(Fields w) {
    if (w.node().entries().size() != 1) {
      problems.at(
          w.node(),
          w.path(),
          "give exactly one condition",
          "write {unready: 20s}, {crashLoop: true} or {alert: NAME}");
      return Optional.empty();
    }
    if (w.has("unready")) {
      Duration d = duration(w, "unready", Duration.ZERO, false);
      return d.isZero() ? Optional.empty() : Optional.of(new Condition.Unready(d));
    }
    if (w.has("crashLoop")) {
      if (!w.bool("crashLoop").orElse(false)) {
        problems.at(
            w.get("crashLoop").orElseThrow(),
            w.join("crashLoop"),
            "crashLoop: false names no condition",
            "write 'crashLoop: true'");
        return Optional.empty();
      }
      return Optional.of(new Condition.CrashLoop());
    }
    return w.string("alert")
        .filter(
            a -> {
              if (a.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
                return true;
              }
              problems.at(
                  w.get("alert").orElseThrow(),
                  w.join("alert"),
                  "'" + a + "' is not an alert name",
                  "give the alerting rule's name, e.g. ShopErrorRateHigh");
              return false;
            })
        .map(Condition.Alert::new);
  }

  private List<Action> actions(Fields r) {
    List<Action> out = new ArrayList<>();
    Optional<Node> on =
        r.require("actions", "say what to do, e.g. 'actions: [quarantine, replace]'");
    if (on.isEmpty()) {
      return out;
    }
    if (!(on.get() instanceof Node.ListNode list) || list.items().isEmpty()) {
      problems.at(
          on.get(),
          r.join("actions"),
          "must be a non-empty list",
          "write e.g. [replace] or [restart, {scaleOut: 2}]");
      return out;
    }
    for (int k = 0; k < list.items().size(); k++) {
      Node item = list.items().get(k);
      String path = r.join("actions") + "[" + k + "]";
      if (item instanceof Node.Scalar sc) {
        switch (sc.text()) {
          case "replace" -> out.add(new Action.Replace());
          case "quarantine" -> out.add(new Action.Quarantine());
          case "restart" -> out.add(new Action.Restart());
          case "rollback" -> out.add(new Action.Rollback());
          default ->
              problems.at(
                  item,
                  path,
                  "unknown action '" + sc.text() + "'",
                  Suggest.nearest(sc.text(), NAMED_ACTIONS)
                      .map(x -> "did you mean '" + x + "'?")
                      .orElse(
                          "use replace, quarantine, restart, rollback, {scaleOut: N} or"
                              + " {command: [...]}"));
        }
        continue;
      }
      if (!(item instanceof Node.MapNode m)) {
        problems.at(item, path, "must be an action", "write e.g. replace or {scaleOut: 2}");
        continue;
      }
      Fields a = new Fields(m, path, problems, ACTION);
      if (a.has("scaleOut")) {
        a.integer("scaleOut", 1, 100).ifPresent(n -> out.add(new Action.ScaleOut(n.intValue())));
      } else if (a.has("command")) {
        List<String> argv = a.strings("command").orElse(List.of());
        Duration timeout = duration(a, "timeout", Duration.ofSeconds(30), false);
        if (timeout.compareTo(Duration.ofMinutes(10)) > 0) {
          problems.at(
              a.get("timeout").orElseThrow(), a.join("timeout"), "must be at most 10m", "lower it");
        } else if (argv.isEmpty()) {
          problems.at(
              a.get("command").orElseThrow(),
              a.join("command"),
              "must name a program",
              "write e.g. {command: [./scripts/flush-cache.sh]}");
        } else {
          out.add(new Action.Command(argv, timeout));
        }
      } else {
        problems.at(
            item, path, "no action given", "write {scaleOut: N} or {command: [program, args]}");
      }
    }
    return out;
  }

  private double blastRadius(Fields r) {
    Optional<Node> on = r.get("blastRadius");
    if (on.isEmpty()) {
      return 0.34;
    }
    String text = on.get() instanceof Node.Scalar s ? s.text().trim() : "";
    String digits = text.endsWith("%") ? text.substring(0, text.length() - 1).trim() : text;
    try {
      double v = Double.parseDouble(digits);
      if (v > 0 && v <= 100 && text.endsWith("%")) {
        return v / 100;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.at(
        on.get(),
        r.join("blastRadius"),
        "invalid share " + Fields.describe(on.get()),
        "write a percentage of the service's instances, e.g. 34%");
    return 0.34;
  }
}
