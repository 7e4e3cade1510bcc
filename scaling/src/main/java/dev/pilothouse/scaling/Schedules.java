package dev.pilothouse.scaling;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.pilothouse.core.spec.Autoscale;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bounds an autoscaled service's schedules set at a moment: each schedule holds from each time
 * its cron expression (Unix crontab's five fields, names such as MON-FRI allowed) names, in the
 * service's time zone, for its duration — or, without one, until another schedule fires or the day
 * ends.
 */
final class Schedules {
  private static final CronParser PARSER =
      new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));

  private Schedules() {}

  /**
   * The bounds in force.
   *
   * @param why the schedules that hold, as "cron (min N)"; empty when none does
   */
  record Bounds(int floor, int cap, String why) {}

  static Bounds at(Autoscale a, Instant now) {
    if (a.schedules().isEmpty()) {
      return new Bounds(a.min(), a.max(), "");
    }
    ZonedDateTime t = now.atZone(ZoneId.of(a.timeZone()));
    int floor = a.min();
    int cap = a.max();
    List<String> active = new ArrayList<>();
    for (Autoscale.Schedule s : a.schedules()) {
      Optional<ZonedDateTime> start = lastStart(s.cron(), t);
      if (start.isEmpty() || !t.isBefore(end(a, s, start.get()))) {
        continue;
      }
      if (s.min() > 0) {
        floor = Math.max(floor, s.min());
      }
      if (s.max() > 0) {
        cap = Math.min(cap, s.max());
      }
      active.add(
          "schedule '"
              + s.cron()
              + "'"
              + (s.min() > 0 ? " min " + s.min() : "")
              + (s.max() > 0 ? " max " + s.max() : ""));
    }
    return new Bounds(Math.min(floor, cap), cap, String.join(", ", active));
  }

  /** The last time at or before t that cron names (to the minute). */
  private static Optional<ZonedDateTime> lastStart(String cron, ZonedDateTime t) {
    ExecutionTime e = execution(cron);
    ZonedDateTime minute = t.truncatedTo(ChronoUnit.MINUTES);
    if (e.isMatch(minute)) {
      return Optional.of(minute);
    }
    return e.lastExecution(t);
  }

  private static ZonedDateTime end(Autoscale a, Autoscale.Schedule s, ZonedDateTime start) {
    if (s.duration() != null) {
      return start.plus(s.duration());
    }
    ZonedDateTime end = start.truncatedTo(ChronoUnit.DAYS).plusDays(1);
    for (Autoscale.Schedule other : a.schedules()) {
      if (other != s) {
        Optional<ZonedDateTime> next = execution(other.cron()).nextExecution(start);
        if (next.isPresent() && next.get().isBefore(end)) {
          end = next.get();
        }
      }
    }
    return end;
  }

  private static ExecutionTime execution(String cron) {
    return ExecutionTime.forCron(PARSER.parse(cron)); // microseconds: no cache (no mutable static)
  }
}
