package dev.pilothouse.spec;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.alerting.routing.InhibitRule;
import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Receiver;
import dev.pilothouse.core.alerting.routing.Route;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import dev.pilothouse.core.alerting.routing.TimeInterval;
import dev.pilothouse.core.alerting.template.Template;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an Alertmanager configuration file (route, receivers, inhibit_rules, time_intervals,
 * global) with Alertmanager's field names and defaults, each problem at its file:line:column.
 * Receivers: webhook, slack, email, pagerduty (Events v2) and msteams configs.
 */
public final class AlertmanagerConfig {
  public static final int MAX_BYTES = 1 << 20;

  /** The config of a valid file, or every problem of an invalid one. */
  public record Parsed(Optional<RoutingConfig> config, List<SpecError> errors) {
    public Parsed {
      errors = List.copyOf(errors);
    }

    public boolean valid() {
      return errors.isEmpty();
    }
  }

  private static final List<String> TOP =
      List.of(
          "global",
          "route",
          "receivers",
          "inhibit_rules",
          "time_intervals",
          "mute_time_intervals",
          "templates");
  private static final List<String> GLOBAL =
      List.of(
          "resolve_timeout",
          "smtp_smarthost",
          "smtp_from",
          "smtp_auth_username",
          "smtp_auth_password",
          "smtp_require_tls",
          "smtp_hello",
          "slack_api_url",
          "pagerduty_url");
  private static final List<String> ROUTE =
      List.of(
          "receiver",
          "group_by",
          "continue",
          "matchers",
          "match",
          "match_re",
          "group_wait",
          "group_interval",
          "repeat_interval",
          "mute_time_intervals",
          "active_time_intervals",
          "routes");
  private static final List<String> RECEIVER =
      List.of(
          "name",
          "webhook_configs",
          "slack_configs",
          "email_configs",
          "pagerduty_configs",
          "msteams_configs");
  private static final List<String> WEBHOOK = List.of("url", "send_resolved", "max_alerts");
  private static final List<String> SLACK = List.of("api_url", "channel", "send_resolved");
  private static final List<String> EMAIL =
      List.of(
          "to",
          "from",
          "smarthost",
          "auth_username",
          "auth_password",
          "require_tls",
          "send_resolved");
  private static final List<String> PAGERDUTY =
      List.of("routing_key", "url", "severity", "send_resolved");
  private static final List<String> TEAMS = List.of("webhook_url", "send_resolved");
  private static final List<String> INHIBIT =
      List.of(
          "source_matchers",
          "target_matchers",
          "source_match",
          "source_match_re",
          "target_match",
          "target_match_re",
          "equal");
  private static final List<String> INTERVAL = List.of("name", "time_intervals");
  private static final List<String> PERIOD =
      List.of("times", "weekdays", "days_of_month", "months", "years", "location");
  private static final List<String> TIMES = List.of("start_time", "end_time");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern MATCHER =
      Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*(.*?)\\s*");

  private final String file;
  private final Problems problems;
  private final Map<String, String> global = new LinkedHashMap<>();

  private AlertmanagerConfig(String file) {
    this.file = file;
    this.problems = new Problems(file);
  }

  /** Reads an Alertmanager configuration file's text. */
  public static Parsed read(String file, String text) {
    requireNonNull(file, "file");
    requireNonNull(text, "text");
    return new AlertmanagerConfig(file).run(text);
  }

  private Parsed run(String text) {
    if (text.length() > MAX_BYTES) {
      problems.add(1, 1, "", "the file is larger than 1 MiB", "split out what is not needed");
      return new Parsed(Optional.empty(), problems.list());
    }
    Node root = new YamlTree(problems).read(text);
    if (!(root instanceof Node.MapNode m)) {
      if (root != null) {
        problems.at(root, "", "the top level must be a map", "start with 'route:'");
      }
      return new Parsed(Optional.empty(), problems.list());
    }
    strict(m, "", TOP);
    Node.MapNode g = map(m, "global", "");
    if (g != null) {
      strict(g, "global", GLOBAL);
      for (Node.Entry e : g.entries().values()) {
        if (e.value() instanceof Node.Scalar s) {
          global.put(e.key(), s.text());
        }
      }
    }
    if (m.entries().containsKey("templates")) {
      Node.Entry t = m.entries().get("templates");
      problems.add(
          t.line(),
          t.column(),
          "templates",
          "notification templates are not supported yet",
          "remove 'templates:'; notifications use Pilothouse's format (docs/alerting.md)");
    }
    List<TimeInterval> intervals = new ArrayList<>();
    for (String key : List.of("time_intervals", "mute_time_intervals")) {
      for (Node.MapNode ti : list(m, key, "")) {
        timeInterval(ti, key + "[" + intervals.size() + "]").ifPresent(intervals::add);
      }
    }
    Set<String> intervalNames = new HashSet<>();
    intervals.forEach(t -> intervalNames.add(t.name()));
    List<Receiver> receivers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<Node.MapNode> rl = list(m, "receivers", "");
    for (int i = 0; i < rl.size(); i++) {
      Receiver r = receiver(rl.get(i), "receivers[" + i + "]");
      if (r != null && !names.add(r.name())) {
        problems.at(
            rl.get(i), "receivers[" + i + "].name", "receiver " + r.name() + " is given twice", "");
      } else if (r != null) {
        receivers.add(r);
      }
    }
    Node.MapNode rm = map(m, "route", "");
    Route route = null;
    if (rm == null) {
      problems.at(m, "route", "no route given", "add 'route: {receiver: NAME}'");
    } else {
      route = route(rm, "route", null, names, intervalNames);
    }
    List<InhibitRule> inhibits = new ArrayList<>();
    List<Node.MapNode> il = list(m, "inhibit_rules", "");
    for (int i = 0; i < il.size(); i++) {
      inhibits.add(inhibit(il.get(i), "inhibit_rules[" + i + "]"));
    }
    if (!problems.isEmpty() || route == null) {
      return new Parsed(Optional.empty(), problems.list());
    }
    return new Parsed(
        Optional.of(new RoutingConfig(route, receivers, inhibits, intervals)), List.of());
  }

  private Route route(
      Node.MapNode m, String path, Route parent, Set<String> receivers, Set<String> intervals) {
    strict(m, path, ROUTE);
    boolean root = parent == null;
    String receiver = string(m, "receiver", path).orElse(root ? "" : parent.receiver());
    if (receiver.isEmpty()) {
      problems.at(m, path + ".receiver", "the root route needs a receiver", "add 'receiver: NAME'");
    } else if (!receivers.contains(receiver)) {
      problems.at(
          m.entries().containsKey("receiver") ? m.entries().get("receiver").value() : m,
          path + ".receiver",
          "undefined receiver \"" + receiver + "\" used in route",
          "declare it under 'receivers:'");
    }
    List<String> groupBy =
        m.entries().containsKey("group_by")
            ? strings(m, "group_by", path)
            : root ? List.of() : parent.groupBy();
    for (String l : groupBy) {
      if (!l.equals("...") && !LABEL.matcher(l).matches()) {
        problems.at(
            m.entries().get("group_by").value(), path + ".group_by", "invalid label name " + l, "");
      }
    }
    if (groupBy.contains("...") && groupBy.size() > 1) {
      problems.at(
          m.entries().get("group_by").value(),
          path + ".group_by",
          "cannot have wildcard group_by (`...`) and other labels at the same time",
          "");
    }
    Duration wait =
        duration(m, "group_wait", path).orElse(root ? Duration.ofSeconds(30) : parent.groupWait());
    Duration interval =
        duration(m, "group_interval", path)
            .orElse(root ? Duration.ofMinutes(5) : parent.groupInterval());
    Duration repeat =
        duration(m, "repeat_interval", path)
            .orElse(root ? Duration.ofHours(4) : parent.repeatInterval());
    if (interval.isZero()) {
      problems.at(m, path + ".group_interval", "must be longer than zero", "write e.g. 5m");
    }
    if (repeat.isZero()) {
      problems.at(m, path + ".repeat_interval", "must be longer than zero", "write e.g. 4h");
    }
    List<LabelMatcher> matchers = matchers(m, "matchers", "match", "match_re", path);
    boolean cont = bool(m, "continue", path).orElse(false);
    if (root && (!matchers.isEmpty() || cont)) {
      problems.at(
          m,
          path,
          "the root route must not have matchers or 'continue'",
          "put them on a child route under 'routes:'");
    }
    List<String> mute =
        m.entries().containsKey("mute_time_intervals")
            ? strings(m, "mute_time_intervals", path)
            : List.of();
    List<String> active =
        m.entries().containsKey("active_time_intervals")
            ? strings(m, "active_time_intervals", path)
            : List.of();
    for (String n : concat(mute, active)) {
      if (!intervals.contains(n)) {
        problems.at(
            m,
            path,
            "undefined time interval \"" + n + "\" used in route",
            "declare it under 'time_intervals:'");
      }
    }
    Route self =
        new Route(
            receiver, groupBy, wait, interval, repeat, matchers, cont, mute, active, List.of());
    List<Route> children = new ArrayList<>();
    List<Node.MapNode> cl = list(m, "routes", path);
    for (int i = 0; i < cl.size(); i++) {
      children.add(route(cl.get(i), path + ".routes[" + i + "]", self, receivers, intervals));
    }
    return new Route(
        receiver, groupBy, wait, interval, repeat, matchers, cont, mute, active, children);
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private Receiver receiver(Node.MapNode m, String path) {
    strict(m, path, RECEIVER);
    String name = string(m, "name", path).orElse("");
    if (name.isEmpty()) {
      problems.at(m, path + ".name", "a receiver needs a name", "add 'name: NAME'");
      return null;
    }
    String at = path + " (" + name + ")";
    List<Receiver.Integration> out = new ArrayList<>();
    for (Node.MapNode c : list(m, "webhook_configs", at)) {
      strict(c, at + ".webhook_configs", WEBHOOK);
      String url = url(c, "url", at + ".webhook_configs", null);
      int max = (int) integer(c, "max_alerts", at).orElse(0L).longValue();
      out.add(new Receiver.Webhook(url, bool(c, "send_resolved", at).orElse(true), max));
    }
    for (Node.MapNode c : list(m, "slack_configs", at)) {
      strict(c, at + ".slack_configs", SLACK);
      String url = url(c, "api_url", at + ".slack_configs", global.get("slack_api_url"));
      out.add(
          new Receiver.Slack(
              url,
              string(c, "channel", at).orElse(""),
              bool(c, "send_resolved", at).orElse(false)));
    }
    for (Node.MapNode c : list(m, "email_configs", at)) {
      strict(c, at + ".email_configs", EMAIL);
      String to = string(c, "to", at).orElse("");
      if (to.isBlank()) {
        problems.at(
            c, at + ".email_configs.to", "missing to address in email config", "add 'to: ADDRESS'");
      }
      String smarthost =
          string(c, "smarthost", at).orElse(global.getOrDefault("smtp_smarthost", ""));
      if (!smarthost.matches("[^:\\s]+:\\d{1,5}")) {
        problems.at(
            c,
            at + ".email_configs.smarthost",
            "no SMTP server as host:port (here or in global.smtp_smarthost)",
            "write e.g. 'smarthost: mail.example.com:587'");
      }
      String from = string(c, "from", at).orElse(global.getOrDefault("smtp_from", ""));
      if (from.isBlank()) {
        problems.at(
            c,
            at + ".email_configs.from",
            "no from address (here or in global.smtp_from)",
            "add 'from: ADDRESS'");
      }
      List<String> addresses = new ArrayList<>();
      for (String a : to.split(",")) {
        if (!a.isBlank()) {
          addresses.add(a.trim());
        }
      }
      out.add(
          new Receiver.Email(
              addresses,
              from,
              smarthost,
              string(c, "auth_username", at).orElse(global.getOrDefault("smtp_auth_username", "")),
              string(c, "auth_password", at).orElse(global.getOrDefault("smtp_auth_password", "")),
              bool(c, "require_tls", at)
                  .orElse(!"false".equals(global.getOrDefault("smtp_require_tls", "true"))),
              bool(c, "send_resolved", at).orElse(false)));
    }
    for (Node.MapNode c : list(m, "pagerduty_configs", at)) {
      strict(c, at + ".pagerduty_configs", PAGERDUTY);
      String key = string(c, "routing_key", at).orElse("");
      if (key.isBlank()) {
        problems.at(
            c,
            at + ".pagerduty_configs.routing_key",
            "missing routing_key (Events API v2)",
            "give the integration key of a PagerDuty service");
      }
      String url =
          string(c, "url", at)
              .orElse(
                  global.getOrDefault("pagerduty_url", "https://events.pagerduty.com/v2/enqueue"));
      String severity = string(c, "severity", at).orElse("error");
      if (!List.of("critical", "error", "warning", "info").contains(severity)) {
        problems.at(
            c,
            at + ".pagerduty_configs.severity",
            "severity must be critical, error, warning or info",
            "");
      }
      out.add(
          new Receiver.PagerDuty(key, url, severity, bool(c, "send_resolved", at).orElse(true)));
    }
    for (Node.MapNode c : list(m, "msteams_configs", at)) {
      strict(c, at + ".msteams_configs", TEAMS);
      String url = url(c, "webhook_url", at + ".msteams_configs", null);
      out.add(new Receiver.Teams(url, bool(c, "send_resolved", at).orElse(true)));
    }
    return new Receiver(name, out);
  }

  private InhibitRule inhibit(Node.MapNode m, String path) {
    strict(m, path, INHIBIT);
    List<LabelMatcher> source =
        matchers(m, "source_matchers", "source_match", "source_match_re", path);
    List<LabelMatcher> target =
        matchers(m, "target_matchers", "target_match", "target_match_re", path);
    List<String> equal = m.entries().containsKey("equal") ? strings(m, "equal", path) : List.of();
    return new InhibitRule(source, target, equal);
  }

  private Optional<TimeInterval> timeInterval(Node.MapNode m, String path) {
    strict(m, path, INTERVAL);
    String name = string(m, "name", path).orElse("");
    if (name.isEmpty()) {
      problems.at(m, path + ".name", "a time interval needs a name", "add 'name: NAME'");
      return Optional.empty();
    }
    List<TimeInterval.Period> periods = new ArrayList<>();
    for (Node.MapNode p : list(m, "time_intervals", path)) {
      String at = path + " (" + name + ").time_intervals";
      strict(p, at, PERIOD);
      List<TimeInterval.Range> minutes = new ArrayList<>();
      for (Node.MapNode t : list(p, "times", at)) {
        strict(t, at + ".times", TIMES);
        int s = clock(t, "start_time", at);
        int e = clock(t, "end_time", at);
        if (s >= 0 && e >= 0 && s >= e) {
          problems.at(t, at + ".times", "start_time must be before end_time", "");
        }
        minutes.add(new TimeInterval.Range(s, e));
      }
      String location = string(p, "location", at).orElse("UTC");
      try {
        ZoneId.of(location.equals("Local") ? "UTC" : location);
      } catch (java.time.DateTimeException e) {
        problems.at(
            p, at + ".location", "unknown time zone " + location, "write e.g. Europe/Berlin");
        location = "UTC";
      }
      periods.add(
          new TimeInterval.Period(
              minutes,
              ranges(p, "weekdays", at, WEEKDAYS, 0, 6),
              ranges(p, "days_of_month", at, List.of(), -31, 31),
              ranges(p, "months", at, MONTHS, 1, 12),
              ranges(p, "years", at, List.of(), 1, 9999),
              location.equals("Local") ? "UTC" : location));
    }
    return Optional.of(new TimeInterval(name, periods));
  }

  private static final List<String> WEEKDAYS =
      List.of("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday");
  private static final List<String> MONTHS =
      List.of(
          "",
          "january",
          "february",
          "march",
          "april",
          "may",
          "june",
          "july",
          "august",
          "september",
          "october",
          "november",
          "december");

  private List<TimeInterval.Range> ranges(
      Node.MapNode m, String field, String path, List<String> names, int min, int max) {
    List<TimeInterval.Range> out = new ArrayList<>();
    if (!m.entries().containsKey(field)) {
      return out;
    }
    for (String r : strings(m, field, path)) {
      String[] parts = r.split(":", 2);
      int s = value(parts[0], names, min, max);
      int e = parts.length == 2 ? value(parts[1], names, min, max) : s;
      boolean bad =
          s == Integer.MIN_VALUE
              || e == Integer.MIN_VALUE
              || (s < 0 && e > 0) // a negative (from the end) start needs a negative end
              || ((s < 0) == (e < 0) && s > e); // no wrapping: 'saturday:sunday' is an error
      if (bad) {
        problems.at(
            m.entries().get(field).value(),
            path + "." + field,
            "invalid range '" + r + "'",
            names.isEmpty()
                ? "write e.g. '1:5' (" + min + " to " + max + ")"
                : "write e.g. '"
                    + names.get(names.size() > 7 ? 1 : 1)
                    + ":"
                    + names.get(names.size() - 1)
                    + "'");
        continue;
      }
      out.add(new TimeInterval.Range(s, e));
    }
    return out;
  }

  private static int value(String s, List<String> names, int min, int max) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    int i = names.indexOf(t);
    if (i >= 0 && !t.isEmpty()) {
      return i;
    }
    try {
      int v = Integer.parseInt(t);
      return v < min || v > max || v == 0 && min < 0 ? Integer.MIN_VALUE : v;
    } catch (NumberFormatException e) {
      return Integer.MIN_VALUE;
    }
  }

  /** HH:MM as minutes of the day (24:00 allowed as an end); -1 when invalid. */
  private int clock(Node.MapNode m, String field, String path) {
    String v = string(m, field, path).orElse("");
    Matcher x = Pattern.compile("(\\d{2}):(\\d{2})").matcher(v);
    if (x.matches()) {
      int h = Integer.parseInt(x.group(1));
      int min = Integer.parseInt(x.group(2));
      if ((h < 24 && min < 60) || (h == 24 && min == 0)) {
        return h * 60 + min;
      }
    }
    problems.at(
        m, path + "." + field, "invalid time '" + v + "'", "write HH:MM, e.g. 09:00 or 24:00");
    return -1;
  }

  private List<LabelMatcher> matchers(
      Node.MapNode m, String field, String eqField, String reField, String path) {
    List<LabelMatcher> out = new ArrayList<>();
    if (m.entries().containsKey(field)) {
      Node at = m.entries().get(field).value();
      for (String s : strings(m, field, path)) {
        Optional<LabelMatcher> lm = parseMatcher(s);
        if (lm.isEmpty()) {
          problems.at(
              at,
              path + "." + field,
              "bad matcher format: " + s,
              "write e.g. 'severity=\"page\"' or 'service=~\"api|web\"'");
        } else {
          out.add(lm.get());
        }
      }
    }
    for (String f : List.of(eqField, reField)) {
      Node.MapNode mm = map(m, f, path);
      if (mm == null) {
        continue;
      }
      for (Node.Entry e : mm.entries().values()) {
        if (!LABEL.matcher(e.key()).matches()) {
          problems.add(e.line(), e.column(), path + "." + f, "invalid label name " + e.key(), "");
        }
        String v = e.value() instanceof Node.Scalar s ? s.text() : "";
        out.add(
            new LabelMatcher(
                e.key(), f.equals(reField) ? LabelMatcher.Op.REGEX : LabelMatcher.Op.EQUAL, v));
      }
    }
    for (LabelMatcher lm : out) {
      if (lm.op() == LabelMatcher.Op.REGEX || lm.op() == LabelMatcher.Op.NOT_REGEX) {
        try {
          com.google.re2j.Pattern.compile(lm.value());
        } catch (com.google.re2j.PatternSyntaxException e) {
          problems.at(
              m, path, "invalid regular expression in " + lm + ": " + e.getDescription(), "");
        }
      }
    }
    // Alertmanager sorts a route's matchers (by name, value, then operator).
    out.sort(
        java.util.Comparator.comparing(LabelMatcher::name)
            .thenComparing(LabelMatcher::value)
            .thenComparing(LabelMatcher::op));
    return out;
  }

  /** A matcher as Alertmanager writes one: {@code name="value"}, quotes optional. */
  public static Optional<LabelMatcher> parseMatcher(String s) {
    Matcher x = MATCHER.matcher(s);
    if (!x.matches()) {
      return Optional.empty();
    }
    String v = x.group(3);
    if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
      try {
        v = Template.unquote(v);
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    } else if (v.contains("\"")) {
      return Optional.empty();
    }
    LabelMatcher.Op op =
        switch (x.group(2)) {
          case "=" -> LabelMatcher.Op.EQUAL;
          case "!=" -> LabelMatcher.Op.NOT_EQUAL;
          case "=~" -> LabelMatcher.Op.REGEX;
          default -> LabelMatcher.Op.NOT_REGEX;
        };
    return Optional.of(new LabelMatcher(x.group(1), op, v));
  }

  // ---- field helpers (Alertmanager's names are exact)

  private void strict(Node.MapNode m, String path, List<String> known) {
    problems.unknownKeys(m, path, known);
  }

  private Node.MapNode map(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null || (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      return null;
    }
    if (e.value() instanceof Node.MapNode mm) {
      return mm;
    }
    problems.at(e.value(), join(path, field), "must be a map", "");
    return null;
  }

  private List<Node.MapNode> list(Node.MapNode m, String field, String path) {
    List<Node.MapNode> out = new ArrayList<>();
    Node.Entry e = m.entries().get(field);
    if (e == null || (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      return out;
    }
    if (!(e.value() instanceof Node.ListNode l)) {
      problems.at(e.value(), join(path, field), "must be a list", "");
      return out;
    }
    for (Node item : l.items()) {
      if (item instanceof Node.MapNode mm) {
        out.add(mm);
      } else {
        problems.at(item, join(path, field), "must be a map", "");
      }
    }
    return out;
  }

  private List<String> strings(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    List<String> out = new ArrayList<>();
    if (e == null) {
      return out;
    }
    if (!(e.value() instanceof Node.ListNode l)) {
      problems.at(e.value(), join(path, field), "must be a list of strings", "");
      return out;
    }
    for (Node item : l.items()) {
      if (item instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
        out.add(s.text());
      } else {
        problems.at(item, join(path, field), "must be a string", "");
      }
    }
    return out;
  }

  private Optional<String> string(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null || (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL)) {
      return Optional.empty();
    }
    if (e.value() instanceof Node.Scalar s) {
      return Optional.of(s.text());
    }
    problems.at(e.value(), join(path, field), "must be a string", "");
    return Optional.empty();
  }

  private Optional<Boolean> bool(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null) {
      return Optional.empty();
    }
    if (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.BOOL) {
      return Optional.of(Boolean.parseBoolean(s.text()));
    }
    problems.at(e.value(), join(path, field), "must be true or false", "");
    return Optional.empty();
  }

  private Optional<Long> integer(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null) {
      return Optional.empty();
    }
    if (e.value() instanceof Node.Scalar s && s.text().matches("\\d{1,9}")) {
      return Optional.of(Long.parseLong(s.text()));
    }
    problems.at(e.value(), join(path, field), "must be a whole number ≥ 0", "");
    return Optional.empty();
  }

  private Optional<Duration> duration(Node.MapNode m, String field, String path) {
    Node.Entry e = m.entries().get(field);
    if (e == null) {
      return Optional.empty();
    }
    String text = e.value() instanceof Node.Scalar s ? s.text() : "";
    long ms = Template.durationMs(text);
    if (ms < 0) {
      problems.at(
          e.value(),
          join(path, field),
          "not a valid duration: " + Fields.describe(e.value()),
          "write e.g. 30s, 5m or 4h");
      return Optional.empty();
    }
    return Optional.of(Duration.ofMillis(ms));
  }

  private String url(Node.MapNode m, String field, String path, String dflt) {
    String u = string(m, field, path).orElse(dflt == null ? "" : dflt);
    if (!u.startsWith("http://") && !u.startsWith("https://")) {
      problems.at(
          m.entries().containsKey(field) ? m.entries().get(field).value() : m,
          path + "." + field,
          u.isEmpty() ? "missing " + field : "'" + field + "' must be an http:// or https:// URL",
          "give the receiver's URL");
    }
    return u;
  }

  private static String join(String path, String field) {
    return path.isEmpty() ? field : path + "." + field;
  }
}
