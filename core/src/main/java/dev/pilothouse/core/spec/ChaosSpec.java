package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code chaos:} section: game days (experiments on a schedule), the monkey (random termination
 * of opted-in services) and their leash (allowed hours, the error budget left, the switch).
 *
 * @param enabled false stops everything chaos does (and refuses manual runs) while the spec says so
 * @param minErrorBudget nothing automatic starts while an SLO of the service has less than this
 *     share of its error budget left
 */
public record ChaosSpec(
    boolean enabled,
    AllowedHours allowedHours,
    double minErrorBudget,
    List<GameDay> gameDays,
    List<Monkey> monkey,
    List<String> clock) {

  public ChaosSpec {
    requireNonNull(allowedHours, "allowedHours");
    gameDays = List.copyOf(gameDays);
    monkey = List.copyOf(monkey);
    clock = List.copyOf(clock);
  }

  /** Without services whose clocks experiments may shift. */
  public ChaosSpec(
      boolean enabled,
      AllowedHours allowedHours,
      double minErrorBudget,
      List<GameDay> gameDays,
      List<Monkey> monkey) {
    this(enabled, allowedHours, minErrorBudget, gameDays, monkey, List.of());
  }

  /** No game days, no monkey; manual runs allowed. */
  public static ChaosSpec none() {
    return new ChaosSpec(true, AllowedHours.BUSINESS, 0.25, List.of(), List.of());
  }

  /**
   * When automatic chaos may act: these days, from one time of day to another, in a time zone.
   *
   * @param timezone an IANA zone id, e.g. Europe/Berlin
   */
  public record AllowedHours(Set<DayOfWeek> days, LocalTime from, LocalTime to, String timezone) {
    public AllowedHours {
      days = days.isEmpty() ? EnumSet.noneOf(DayOfWeek.class) : EnumSet.copyOf(days);
      requireNonNull(from, "from");
      requireNonNull(to, "to");
      requireNonNull(timezone, "timezone");
    }

    /** Monday to Friday, 09:00 to 17:00 UTC (Chaos Monkey's business hours). */
    public static final AllowedHours BUSINESS =
        new AllowedHours(
            EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY),
            LocalTime.of(9, 0),
            LocalTime.of(17, 0),
            "UTC");

    /** Whether the moment is within these hours (to before from: across midnight). */
    public boolean allows(Instant at) {
      ZonedDateTime t = at.atZone(ZoneId.of(timezone));
      LocalTime time = t.toLocalTime();
      boolean inTime =
          from.isBefore(to)
              ? !time.isBefore(from) && time.isBefore(to)
              : !time.isBefore(from) || time.isBefore(to);
      return days.contains(t.getDayOfWeek()) && inTime;
    }
  }

  /**
   * An experiment file run on a schedule.
   *
   * @param experiment the file's absolute path
   * @param schedule a crontab expression (five fields), in the allowed hours' time zone
   */
  public record GameDay(String experiment, String schedule) {
    public GameDay {
      requireNonNull(experiment, "experiment");
      requireNonNull(schedule, "schedule");
    }
  }

  /**
   * Random termination of a service's instances.
   *
   * @param maxConcurrent never kill while this many of its instances are down already
   * @param graceful SIGTERM (and the stop timeout) instead of SIGKILL
   */
  public record Monkey(
      String service, Duration meanTimeBetweenKills, int maxConcurrent, boolean graceful) {
    public Monkey {
      requireNonNull(service, "service");
      requireNonNull(meanTimeBetweenKills, "meanTimeBetweenKills");
    }
  }
}
