package dev.pilothouse.spec;

import dev.pilothouse.core.incident.OnCall;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code oncall:} section: people and how to reach them, rotations with overrides, and
 * escalation policies. Every name a schedule or a policy refers to must exist.
 */
final class OnCallReader extends SectionReader {
  static final List<String> ONCALL = List.of("users", "schedules", "escalations");
  static final List<String> USER = List.of("email", "webhook", "slack");
  static final List<String> SCHEDULE = List.of("name", "users", "turn", "start", "overrides");
  static final List<String> OVERRIDE = List.of("user", "from", "until");
  static final List<String> ESCALATION = List.of("name", "match", "levels");
  static final List<String> LEVEL = List.of("after", "notify");

  OnCallReader(SectionReader parent) {
    super(parent);
  }

  /**
   * @param smtp whether notifications.smtp is set (e-mail pages go through it)
   */
  OnCall oncall(Fields f, boolean smtp) {
    Map<String, OnCall.User> users = new TreeMap<>();
    freeMap(f, "users")
        .ifPresent(
            um -> {
              for (Node.Entry e : um.entries().values()) {
                String path = f.join("users") + "." + e.key();
                if (!e.key().matches("[a-z0-9][a-z0-9._-]{0,62}")) {
                  problems.add(
                      e.line(),
                      e.column(),
                      path,
                      "invalid user name '" + e.key() + "'",
                      "use lowercase letters, digits, '.', '_' and '-'");
                  continue;
                }
                if (!(e.value() instanceof Node.MapNode m)) {
                  problems.at(e.value(), path, "must be a map", "write {email: …, webhook: …}");
                  continue;
                }
                Fields u = new Fields(m, path, problems, USER);
                String email = u.string("email").orElse("");
                String webhook = u.string("webhook").orElse("");
                String slack = u.string("slack").orElse("");
                if (email.isEmpty() && webhook.isEmpty() && slack.isEmpty()) {
                  problems.at(m, path, "has no way to be reached", "give email, webhook or slack");
                }
                if (!email.isEmpty() && !email.matches("[^@\\s]+@[^@\\s]+")) {
                  problems.at(
                      u.get("email").orElseThrow(),
                      u.join("email"),
                      "'" + email + "' is not an e-mail address",
                      "write e.g. alice@example.com");
                } else if (!email.isEmpty() && !smtp) {
                  problems.at(
                      u.get("email").orElseThrow(),
                      u.join("email"),
                      "e-mail pages need a mail server",
                      "set notifications.email.smtp (host:port) and notifications.email.from");
                }
                url(u, "webhook", webhook);
                url(u, "slack", slack);
                users.put(e.key(), new OnCall.User(email, webhook, slack));
              }
            });
    List<OnCall.Schedule> schedules = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields s :
        objects(f, "schedules", SCHEDULE, "write '- {name: primary, users: [alice, bob]}'", 100)) {
      schedule(s, users, names).ifPresent(schedules::add);
    }
    List<OnCall.Escalation> escalations = new ArrayList<>();
    Set<String> policies = new HashSet<>();
    for (Fields e :
        objects(
            f,
            "escalations",
            ESCALATION,
            "write '- {name: default, levels: [{notify: [schedule:primary]}]}'",
            100)) {
      escalation(e, users, names, policies).ifPresent(escalations::add);
    }
    return new OnCall(users, schedules, escalations);
  }

  /** A map whose keys are the user's (names, labels), not fields. */
  private Optional<Node.MapNode> freeMap(Fields f, String field) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    if (on.get() instanceof Node.MapNode m) {
      return Optional.of(m);
    }
    problems.at(on.get(), f.join(field), "must be a map", "write its entries indented below it");
    return Optional.empty();
  }

  private void url(Fields f, String field, String v) {
    if (!v.isEmpty() && !v.startsWith("http://") && !v.startsWith("https://")) {
      problems.at(
          f.get(field).orElseThrow(),
          f.join(field),
          "'" + v + "' is not an http(s) URL",
          "write e.g. https://hooks.example.com/…");
    }
  }

  private Optional<OnCall.Schedule> schedule(
      Fields f, Map<String, OnCall.User> users, Set<String> names) {
    int before = problems.list().size();
    String name = name(f, names, "schedule");
    List<String> members = f.strings("users").orElse(List.of());
    if (members.isEmpty()) {
      f.require("users", "give the people who take turns, e.g. [alice, bob]");
      if (f.has("users")) {
        problems.at(
            f.get("users").orElseThrow(), f.join("users"), "is empty", "name at least one user");
      }
    }
    for (int i = 0; i < members.size(); i++) {
      known(
          users,
          members.get(i),
          ((Node.ListNode) f.get("users").orElseThrow()).items().get(i),
          f.join("users") + "[" + i + "]");
    }
    Duration turn = duration(f, "turn", Duration.ofDays(7), false);
    Instant start = instant(f, "start").orElse(Instant.parse("2024-01-01T09:00:00Z"));
    List<OnCall.Override> overrides = new ArrayList<>();
    for (Fields o :
        objects(f, "overrides", OVERRIDE, "write '- {user: carol, from: …, until: …}'", 1000)) {
      String user =
          o.require("user", "name who is on call instead")
              .flatMap(n -> o.asString(n, o.join("user")))
              .orElse("");
      if (!user.isEmpty()) {
        known(users, user, o.get("user").orElseThrow(), o.join("user"));
      }
      Optional<Instant> from = instant(o, "from");
      Optional<Instant> until = instant(o, "until");
      if (from.isEmpty()) {
        o.require("from", "give when it starts, e.g. 2026-12-24T00:00:00Z");
      }
      if (until.isEmpty()) {
        o.require("until", "give when it ends, e.g. 2026-12-27T00:00:00Z");
      }
      if (from.isPresent() && until.isPresent()) {
        if (!until.get().isAfter(from.get())) {
          problems.at(
              o.get("until").orElseThrow(), o.join("until"), "must be after from", "swap them");
        } else {
          overrides.add(new OnCall.Override(user, from.get(), until.get()));
        }
      }
    }
    if (problems.list().size() != before) {
      return Optional.empty();
    }
    return Optional.of(new OnCall.Schedule(name, members, turn, start, overrides));
  }

  private Optional<OnCall.Escalation> escalation(
      Fields f, Map<String, OnCall.User> users, Set<String> schedules, Set<String> names) {
    int before = problems.list().size();
    String name = name(f, names, "escalation policy");
    Map<String, String> match = new TreeMap<>();
    freeMap(f, "match")
        .ifPresent(
            mm -> {
              for (Node.Entry e : mm.entries().values()) {
                if (e.value() instanceof Node.Scalar sc) {
                  match.put(e.key(), sc.text());
                } else {
                  problems.at(
                      e.value(),
                      f.join("match") + "." + e.key(),
                      "must be a single value",
                      "write service: shop");
                }
              }
            });
    List<OnCall.Level> levels = new ArrayList<>();
    List<Fields> lf = objects(f, "levels", LEVEL, "write '- {notify: [schedule:primary]}'", 20);
    if (lf.isEmpty()) {
      f.require("levels", "give at least one level: '- {notify: [schedule:primary]}'");
    }
    for (Fields l : lf) {
      Duration after = duration(l, "after", Duration.ZERO, true);
      List<String> targets = l.strings("notify").orElse(List.of());
      if (targets.isEmpty()) {
        l.require("notify", "say who: [schedule:primary] or [user:alice]");
      }
      for (int i = 0; i < targets.size(); i++) {
        String t = targets.get(i);
        Node at = ((Node.ListNode) l.get("notify").orElseThrow()).items().get(i);
        String path = l.join("notify") + "[" + i + "]";
        if (t.startsWith("schedule:")) {
          if (!schedules.contains(t.substring(9))) {
            problems.at(
                at,
                path,
                "no schedule named '" + t.substring(9) + "'",
                "name one of oncall.schedules");
          }
        } else if (t.startsWith("user:")) {
          known(users, t.substring(5), at, path);
        } else {
          problems.at(
              at,
              path,
              "'" + t + "' is neither schedule:NAME nor user:NAME",
              "write e.g. schedule:primary");
        }
      }
      levels.add(new OnCall.Level(after, targets));
    }
    if (problems.list().size() != before) {
      return Optional.empty();
    }
    return Optional.of(new OnCall.Escalation(name, match, levels));
  }

  private String name(Fields f, Set<String> names, String what) {
    String name =
        f.require("name", "give the " + what + " a name")
            .flatMap(n -> f.asString(n, f.join("name")))
            .orElse("");
    if (!name.isEmpty() && !names.add(name)) {
      problems.at(
          f.get("name").orElseThrow(),
          f.join("name"),
          "a second " + what + " named '" + name + "'",
          "give each its own name");
    }
    return name;
  }

  private void known(Map<String, OnCall.User> users, String user, Node at, String path) {
    if (!users.containsKey(user)) {
      problems.at(
          at,
          path,
          "no user named '" + user + "'",
          users.isEmpty()
              ? "declare people under oncall.users"
              : "name one of " + String.join(", ", users.keySet()));
    }
  }

  private Optional<Instant> instant(Fields f, String field) {
    Optional<String> v = f.string(field);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(OffsetDateTime.parse(v.get()).toInstant());
    } catch (DateTimeParseException e) {
      problems.at(
          f.get(field).orElseThrow(),
          f.join(field),
          "'" + v.get() + "' is not a time with a zone",
          "write e.g. 2026-11-30T09:00:00Z or 2026-11-30T09:00:00+01:00");
      return Optional.empty();
    }
  }
}
