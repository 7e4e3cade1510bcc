package dev.pilothouse.alerting.routing;

import dev.pilothouse.core.alerting.routing.TimeInterval;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

/** Whether a moment falls in Alertmanager's named time intervals. */
final class TimeIntervals {
  private final Map<String, TimeInterval> byName;

  TimeIntervals(List<TimeInterval> intervals) {
    java.util.Map<String, TimeInterval> m = new java.util.LinkedHashMap<>();
    intervals.forEach(t -> m.put(t.name(), t));
    this.byName = m;
  }

  /** Whether now is in any of the named intervals (names that do not exist never match). */
  boolean any(List<String> names, Instant now) {
    for (String n : names) {
      TimeInterval t = byName.get(n);
      if (t != null && contains(t, now)) {
        return true;
      }
    }
    return false;
  }

  static boolean contains(TimeInterval t, Instant now) {
    for (TimeInterval.Period p : t.periods()) {
      if (contains(p, now)) {
        return true;
      }
    }
    return false;
  }

  static boolean contains(TimeInterval.Period p, Instant now) {
    ZonedDateTime z = now.atZone(ZoneId.of(p.location()));
    int minute = z.getHour() * 60 + z.getMinute();
    if (!p.minutes().isEmpty()
        && p.minutes().stream().noneMatch(r -> minute >= r.start() && minute < r.end())) {
      return false;
    }
    int weekday = z.getDayOfWeek().getValue() % 7; // Sunday = 0
    if (!in(p.weekdays(), weekday)) {
      return false;
    }
    int day = z.getDayOfMonth();
    int length = z.toLocalDate().lengthOfMonth();
    if (!p.daysOfMonth().isEmpty()
        && p.daysOfMonth().stream()
            .noneMatch(
                r -> {
                  int s = r.start() < 0 ? length + r.start() + 1 : r.start();
                  int e = r.end() < 0 ? length + r.end() + 1 : r.end();
                  return day >= s && day <= e;
                })) {
      return false;
    }
    return in(p.months(), z.getMonthValue()) && in(p.years(), z.getYear());
  }

  private static boolean in(List<TimeInterval.Range> ranges, int v) {
    return ranges.isEmpty() || ranges.stream().anyMatch(r -> v >= r.start() && v <= r.end());
  }
}
