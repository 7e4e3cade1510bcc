package dev.pilothouse.core.incident;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Who is paged for an incident: the people, their schedules and the escalation policies.
 *
 * @param users by name: how each is reached
 * @param schedules rotations with overrides
 * @param escalations policies, the first whose labels match an incident's applies
 */
public record OnCall(
    Map<String, User> users, List<Schedule> schedules, List<Escalation> escalations) {
  public OnCall {
    users = new TreeMap<>(users == null ? Map.of() : users);
    schedules = schedules == null ? List.of() : List.copyOf(schedules);
    escalations = escalations == null ? List.of() : List.copyOf(escalations);
  }

  /** Nobody on call. */
  public static OnCall none() {
    return new OnCall(Map.of(), List.of(), List.of());
  }

  /**
   * A person, reached on every contact given.
   *
   * @param email an address (needs notifications.smtp), or ""
   * @param webhook a URL that gets Alertmanager's webhook JSON, or ""
   * @param slack a Slack incoming-webhook URL, or ""
   */
  public record User(String email, String webhook, String slack) {
    public User {
      email = email == null ? "" : email;
      webhook = webhook == null ? "" : webhook;
      slack = slack == null ? "" : slack;
    }
  }

  /**
   * A rotation: users take turns of one length from a start, handing over at the start's time of
   * day; an override puts someone else on call for a while (the last matching one wins).
   */
  public record Schedule(
      String name, List<String> users, Duration turn, Instant start, List<Override> overrides) {
    public Schedule {
      requireNonNull(name, "name");
      users = List.copyOf(users);
      requireNonNull(turn, "turn");
      requireNonNull(start, "start");
      overrides = overrides == null ? List.of() : List.copyOf(overrides);
    }

    /** Who is on call at a moment. */
    public String onCallAt(Instant t) {
      for (int i = overrides.size() - 1; i >= 0; i--) {
        Override o = overrides.get(i);
        if (!t.isBefore(o.from()) && t.isBefore(o.until())) {
          return o.user();
        }
      }
      long turns = Math.floorDiv(Duration.between(start, t).toMillis(), turn.toMillis());
      return users.get((int) Math.floorMod(turns, (long) users.size()));
    }

    /** When the person on call at a moment hands over (the next turn or override boundary). */
    public Instant handoverAfter(Instant t) {
      long turns = Math.floorDiv(Duration.between(start, t).toMillis(), turn.toMillis());
      Instant next = start.plus(turn.multipliedBy(turns + 1));
      for (Override o : overrides) {
        if (o.from().isAfter(t) && o.from().isBefore(next)) {
          next = o.from();
        }
        if (o.until().isAfter(t) && o.until().isBefore(next)) {
          next = o.until();
        }
      }
      return next;
    }
  }

  /** Someone on call instead of the rotation's person in [from, until). */
  public record Override(String user, Instant from, Instant until) {}

  /**
   * An escalation policy: levels notified one after the other while an incident is not
   * acknowledged.
   *
   * @param match labels an incident's first alert must have (empty: every incident)
   */
  public record Escalation(String name, Map<String, String> match, List<Level> levels) {
    public Escalation {
      match = new TreeMap<>(match == null ? Map.of() : match);
      levels = List.copyOf(levels);
    }
  }

  /**
   * One level: notified {@code after} the previous level (the first: after the incident opened).
   *
   * @param targets who is notified: {@code user:NAME} or {@code schedule:NAME}
   */
  public record Level(Duration after, List<String> targets) {
    public Level {
      after = after == null ? Duration.ZERO : after;
      targets = List.copyOf(targets);
    }
  }
}
