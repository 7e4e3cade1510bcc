package dev.pilothouse.spec;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.alerting.template.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a Prometheus rule file (groups of recording and alerting rules) with the checks {@code
 * promtool check rules} makes, each problem at its file:line:column. Field names are exact, as in
 * Prometheus.
 */
public final class RuleFiles {
  /** Rule files larger than this are refused. */
  public static final int MAX_BYTES = 1 << 20;

  /** Rules per file beyond this are refused. */
  public static final int MAX_RULES = 20_000;

  private static final List<String> TOP = List.of("groups");
  private static final List<String> GROUP = List.of("name", "interval", "limit", "rules");
  private static final List<String> RULE =
      List.of("record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations");
  private static final Pattern METRIC = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  /** The groups of a valid file, or every problem of an invalid one. */
  public record Parsed(List<RuleGroup> groups, List<SpecError> errors) {
    public Parsed {
      groups = List.copyOf(groups);
      errors = List.copyOf(errors);
    }

    public boolean valid() {
      return errors.isEmpty();
    }

    /** How many rules the file holds. */
    public int ruleCount() {
      return groups.stream().mapToInt(g -> g.rules().size()).sum();
    }
  }

  private final String file;
  private final Problems problems;
  private final ExpressionCheck promql;
  private final Duration defaultInterval;
  private int rules;

  private RuleFiles(String file, ExpressionCheck promql, Duration defaultInterval) {
    this.file = file;
    this.problems = new Problems(file);
    this.promql = promql;
    this.defaultInterval = defaultInterval;
  }

  /**
   * Reads a rule file's text.
   *
   * @param file the name shown in messages and kept in each group
   * @param promql checks each expression
   * @param defaultInterval the interval of groups that give none
   */
  public static Parsed read(
      String file, String text, ExpressionCheck promql, Duration defaultInterval) {
    requireNonNull(file, "file");
    requireNonNull(text, "text");
    requireNonNull(promql, "promql");
    requireNonNull(defaultInterval, "defaultInterval");
    return new RuleFiles(file, promql, defaultInterval).run(text);
  }

  private Parsed run(String text) {
    if (text.length() > MAX_BYTES) {
      problems.add(1, 1, "", "the rule file is larger than 1 MiB", "split it into several files");
      return new Parsed(List.of(), problems.list());
    }
    if (text.isBlank()) {
      return new Parsed(List.of(), List.of()); // an empty rule file is valid, as in Prometheus
    }
    Node root = new YamlTree(problems).read(text);
    List<RuleGroup> groups = new ArrayList<>();
    if (root instanceof Node.MapNode m) {
      strict(m, "", TOP);
      Node.Entry g = m.entries().get("groups");
      if (g != null) {
        groups(g.value(), groups);
      }
    } else if (root != null
        && !(root instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      problems.at(root, "", "the top level must be a map with 'groups:'", "start with 'groups:'");
    }
    return problems.isEmpty()
        ? new Parsed(groups, List.of())
        : new Parsed(List.of(), problems.list());
  }

  private void strict(Node.MapNode m, String path, List<String> known) {
    problems.unknownKeys(m, path, known);
  }

  private void groups(Node n, List<RuleGroup> out) {
    if (n instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL) {
      return;
    }
    if (!(n instanceof Node.ListNode list)) {
      problems.at(n, "groups", "must be a list of groups", "write '- name: NAME' under 'groups:'");
      return;
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < list.items().size(); i++) {
      Node item = list.items().get(i);
      String path = "groups[" + i + "]";
      if (!(item instanceof Node.MapNode m)) {
        problems.at(item, path, "must be a map", "give 'name:' and 'rules:'");
        continue;
      }
      strict(m, path, GROUP);
      String name = scalar(m, "name", path).orElse("");
      if (name.isEmpty()) {
        problems.at(m, path + ".name", "a group needs a name", "add 'name: NAME'");
      } else if (!names.add(name)) {
        problems.at(
            m.entries().get("name").value(),
            path + ".name",
            "group name \"" + name + "\" is repeated in the same file",
            "give every group of a file its own name");
      }
      String at = name.isEmpty() ? path : path + " (" + name + ")";
      Duration interval = duration(m, "interval", at, false).orElse(defaultInterval);
      long limit = 0;
      Node.Entry le = m.entries().get("limit");
      if (le != null) {
        // Any whole number, as Prometheus takes it; zero or less means no limit.
        if (le.value() instanceof Node.Scalar s && s.text().matches("-?\\d{1,18}")) {
          limit = Math.max(0, Math.min(Long.parseLong(s.text()), Integer.MAX_VALUE));
        } else {
          problems.at(le.value(), at + ".limit", "must be a whole number", "write e.g. 100");
        }
      }
      List<Rule> rules = new ArrayList<>();
      Node.Entry re = m.entries().get("rules");
      if (re != null && re.value() instanceof Node.ListNode rl) {
        for (int r = 0; r < rl.items().size(); r++) {
          rule(rl.items().get(r), at + ".rules[" + r + "]").ifPresent(rules::add);
        }
      } else if (re != null
          && !(re.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
        problems.at(re.value(), at + ".rules", "must be a list of rules", "write '- alert: NAME'");
      }
      if (problems.isEmpty()) {
        out.add(new RuleGroup(name, file, interval, (int) limit, rules));
      }
    }
  }

  private Optional<Rule> rule(Node n, String path) {
    if (!(n instanceof Node.MapNode m)) {
      problems.at(n, path, "must be a map", "give 'alert:' or 'record:', and 'expr:'");
      return Optional.empty();
    }
    if (++rules > MAX_RULES) {
      if (rules == MAX_RULES + 1) {
        problems.at(
            n,
            path,
            "the file has more than " + MAX_RULES + " rules",
            "split the rules into several files (docs/limits.md)");
      }
      return Optional.empty();
    }
    strict(m, path, RULE);
    Optional<String> record = scalar(m, "record", path);
    Optional<String> alert = scalar(m, "alert", path);
    if (record.isPresent() == alert.isPresent()) {
      problems.at(
          m,
          path,
          record.isPresent()
              ? "only one of 'record' and 'alert' may be set"
              : "one of 'record' or 'alert' must be set",
          "a recording rule has 'record: METRIC', an alerting rule 'alert: NAME'");
      return Optional.empty();
    }
    String at = path + " (" + record.orElseGet(alert::get) + ")";
    Optional<String> expr = scalar(m, "expr", at);
    if (expr.isEmpty() || expr.get().isBlank()) {
      problems.at(m, at + ".expr", "field 'expr' must be set", "write the PromQL to evaluate");
    } else {
      String wrong = promql.problem(expr.get());
      if (wrong != null) {
        problems.at(
            m.entries().get("expr").value(),
            at + ".expr",
            "could not parse expression: " + wrong,
            "check it with 'pilothouse query'");
      }
    }
    Map<String, String> labels = map(m, "labels", at, record.isEmpty());
    if (record.isPresent()) {
      if (!METRIC.matcher(record.get()).matches()) {
        problems.at(
            m.entries().get("record").value(),
            at + ".record",
            "invalid recording rule name: " + record.get(),
            "use a metric name: letters, digits, '_' and ':'");
      }
      for (String f : List.of("for", "keep_firing_for", "annotations")) {
        Node.Entry e = m.entries().get(f);
        if (e != null) {
          problems.add(
              e.line(),
              e.column(),
              at + "." + f,
              "invalid field '" + f + "' in recording rule",
              "'" + f + "' belongs to alerting rules only");
        }
      }
      return Optional.of(new Rule.Recording(record.get(), expr.orElse(""), labels));
    }
    if (alert.get().isBlank()) {
      problems.at(m.entries().get("alert").value(), at + ".alert", "must not be empty", "name it");
    }
    Duration holdFor = duration(m, "for", at, true).orElse(Duration.ZERO);
    Duration keep = duration(m, "keep_firing_for", at, true).orElse(Duration.ZERO);
    Map<String, String> annotations = map(m, "annotations", at, true);
    return Optional.of(
        new Rule.Alerting(alert.get(), expr.orElse(""), holdFor, keep, labels, annotations));
  }

  private Optional<String> scalar(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null || (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      return Optional.empty();
    }
    if (e.value() instanceof Node.Scalar s) {
      return Optional.of(s.text());
    }
    problems.at(e.value(), path + "." + field, "must be a string", "write it on one line");
    return Optional.empty();
  }

  /** A map of label names to values; values are templates when templated. */
  private Map<String, String> map(Node.MapNode m, String field, String path, boolean templated) {
    Map<String, String> out = new LinkedHashMap<>();
    Node.Entry e = m.entries().get(field);
    if (e == null || (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      return out;
    }
    if (!(e.value() instanceof Node.MapNode lm)) {
      problems.at(e.value(), path + "." + field, "must be a map", "write 'NAME: value' pairs");
      return out;
    }
    for (Node.Entry l : lm.entries().values()) {
      String at = path + "." + field + "." + l.key();
      if (!LABEL.matcher(l.key()).matches()) {
        problems.add(
            l.line(),
            l.column(),
            at,
            "invalid " + (field.equals("labels") ? "label" : "annotation") + " name: " + l.key(),
            "use letters, digits and '_', not starting with a digit");
      }
      if (!(l.value() instanceof Node.Scalar s) || s.type() == Node.Scalar.Type.NULL) {
        problems.at(l.value(), at, "must be a string", "write the value on one line or quote it");
        continue;
      }
      if (templated) {
        String wrong = Template.problem(s.text());
        if (wrong != null) {
          problems.at(s, at, "invalid template: " + wrong, "see docs/alerting.md#templates");
        }
      }
      out.put(l.key(), s.text());
    }
    return out;
  }

  private Optional<Duration> duration(
      Node.MapNode m, String field, String path, boolean zeroAllowed) {
    Node.Entry e = m.entries().get(field);
    if (e == null) {
      return Optional.empty();
    }
    String text = e.value() instanceof Node.Scalar s ? s.text() : "";
    long ms = Template.durationMs(text);
    if (ms < 0 || (ms == 0 && !zeroAllowed)) {
      problems.at(
          e.value(),
          path + "." + field,
          (ms == 0 ? "must be longer than zero: " : "not a valid duration: ")
              + Fields.describe(e.value()),
          "write e.g. 30s, 5m, 1h30m or 1d");
      return Optional.empty();
    }
    return Optional.of(Duration.ofMillis(ms));
  }
}
