package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A named set of periods (Alertmanager's time_intervals): a moment is in the interval when it is in
 * any of its periods.
 */
public record TimeInterval(String name, List<Period> periods) {
  public TimeInterval {
    requireNonNull(name, "name");
    periods = List.copyOf(periods);
  }

  /**
   * One period: each list restricts the moment (an empty list restricts nothing).
   *
   * @param minutes ranges of minutes of the day [start, end)
   * @param weekdays ranges of days of the week, 0 = Sunday … 6 = Saturday, inclusive
   * @param daysOfMonth ranges of days, 1…31 or negative from the month's end (-1: its last day)
   * @param months ranges of months 1…12, inclusive
   * @param years ranges of years, inclusive
   * @param location the time zone the moment is read in (IANA name; "UTC" by default)
   */
  public record Period(
      List<Range> minutes,
      List<Range> weekdays,
      List<Range> daysOfMonth,
      List<Range> months,
      List<Range> years,
      String location) {
    public Period {
      minutes = List.copyOf(minutes);
      weekdays = List.copyOf(weekdays);
      daysOfMonth = List.copyOf(daysOfMonth);
      months = List.copyOf(months);
      years = List.copyOf(years);
      requireNonNull(location, "location");
    }
  }

  /** A range of whole numbers [start, end] (for minutes: [start, end)). */
  public record Range(int start, int end) {}
}
