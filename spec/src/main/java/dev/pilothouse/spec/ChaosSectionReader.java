package dev.pilothouse.spec;

import dev.pilothouse.core.spec.ChaosSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code chaos:} section: {@code enabled}, {@code allowedHours: {days, from, to, timezone}},
 * {@code minErrorBudget}, {@code gameDays: [{experiment, schedule}]} (each experiment file read and
 * checked now), {@code monkey: [{service, meanTimeBetweenKills, maxConcurrent, signal}]} and {@code
 * clock: [service]} (services started with libfaketime, whose clocks experiments may skew).
 */
final class ChaosSectionReader extends SectionReader {
  static final List<String> CHAOS =
      List.of("enabled", "allowedHours", "minErrorBudget", "gameDays", "monkey", "clock");
  static final List<String> HOURS = List.of("days", "from", "to", "timezone");
  static final List<String> GAME_DAY = List.of("experiment", "schedule");
  static final List<String> MONKEY =
      List.of("service", "meanTimeBetweenKills", "maxConcurrent", "signal");
  static final int MAX = 100;

  ChaosSectionReader(SectionReader parent) {
    super(parent);
  }

  ChaosSpec chaos(Fields f, Set<String> services) {
    ChaosSpec.AllowedHours hours =
        f.object("allowedHours", HOURS).map(this::hours).orElse(ChaosSpec.AllowedHours.BUSINESS);
    double budget = f.number("minErrorBudget", 0, 1, true).orElse(0.25);
    List<ChaosSpec.GameDay> gameDays = new ArrayList<>();
    for (Fields g :
        objects(
            f,
            "gameDays",
            GAME_DAY,
            "write e.g. '- {experiment: chaos/kill.yaml, schedule: \"0 10 * * TUE\"}'",
            MAX)) {
      gameDay(g, services).ifPresent(gameDays::add);
    }
    List<ChaosSpec.Monkey> monkeys = new ArrayList<>();
    for (Fields m :
        objects(
            f, "monkey", MONKEY, "write e.g. '- {service: shop, meanTimeBetweenKills: 2h}'", MAX)) {
      monkey(m, services).ifPresent(monkeys::add);
    }
    List<String> clock = f.strings("clock").orElse(List.of());
    for (int i = 0; i < clock.size(); i++) {
      if (!services.contains(clock.get(i))) {
        problems.at(
            ((Node.ListNode) f.get("clock").orElseThrow()).items().get(i),
            f.join("clock") + "[" + i + "]",
            "no service '" + clock.get(i) + "' in this spec",
            Suggest.nearest(clock.get(i), List.copyOf(services))
                .map(x -> "did you mean '" + x + "'?")
                .orElse("name a declared service whose instances clock faults may skew"));
      }
    }
    return new ChaosSpec(
        f.bool("enabled").orElse(true), hours, budget, gameDays, monkeys, List.copyOf(clock));
  }

  private ChaosSpec.AllowedHours hours(Fields h) {
    Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
    for (String d : h.strings("days").orElse(List.of("mon", "tue", "wed", "thu", "fri"))) {
      Optional<DayOfWeek> day =
          EnumSet.allOf(DayOfWeek.class).stream()
              .filter(
                  x -> x.name().substring(0, 3).equalsIgnoreCase(d) || x.name().equalsIgnoreCase(d))
              .findFirst();
      if (day.isEmpty()) {
        problems.at(
            h.get("days").orElseThrow(),
            h.join("days"),
            "unknown day '" + d + "'",
            "mon, tue, wed, thu, fri, sat or sun");
      } else {
        days.add(day.get());
      }
    }
    LocalTime from = time(h, "from", LocalTime.of(9, 0));
    LocalTime to = time(h, "to", LocalTime.of(17, 0));
    String zone = h.string("timezone").orElse("UTC");
    try {
      ZoneId.of(zone);
    } catch (java.time.DateTimeException e) {
      problems.at(
          h.get("timezone").orElseThrow(),
          h.join("timezone"),
          "unknown time zone '" + zone + "'",
          "an IANA zone such as Europe/Berlin, or UTC");
      zone = "UTC";
    }
    return new ChaosSpec.AllowedHours(days, from, to, zone);
  }

  private LocalTime time(Fields h, String field, LocalTime dflt) {
    Optional<String> v = h.string(field);
    if (v.isEmpty()) {
      return dflt;
    }
    if (!v.get().matches("([01]\\d|2[0-3]):[0-5]\\d")) {
      problems.at(
          h.get(field).orElseThrow(),
          h.join(field),
          "'" + v.get() + "' is not a time of day",
          "write HH:MM, e.g. '09:00'");
      return dflt;
    }
    return LocalTime.parse(v.get());
  }

  private Optional<ChaosSpec.GameDay> gameDay(Fields g, Set<String> services) {
    Optional<String> file = g.string("experiment");
    Optional<String> schedule = g.string("schedule");
    if (file.isEmpty()) {
      g.require("experiment", "the experiment file, relative to this spec");
      return Optional.empty();
    }
    if (schedule.isEmpty()) {
      g.require("schedule", "a crontab expression, e.g. '0 10 * * TUE'");
      return Optional.empty();
    }
    String cron = CronCheck.problem(schedule.get());
    if (cron != null) {
      problems.at(
          g.get("schedule").orElseThrow(),
          g.join("schedule"),
          "invalid schedule: " + cron,
          "five fields: minute hour day-of-month month day-of-week");
    }
    Path p = baseDir.resolve(file.get()).normalize();
    Node at = g.get("experiment").orElseThrow();
    String text;
    try {
      if (Files.size(p) > ChaosReader.MAX_BYTES) {
        problems.at(at, g.join("experiment"), p + " is larger than 1 MiB", "");
        return Optional.empty();
      }
      text = Files.readString(p, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      problems.at(
          at,
          g.join("experiment"),
          "cannot read experiment file " + p,
          "give a path relative to this spec file");
      return Optional.empty();
    }
    ChaosReader.Parsed parsed = ChaosReader.read(file.get(), text, promql);
    if (parsed.experiment().isEmpty()) {
      problems.at(
          at,
          g.join("experiment"),
          "the experiment has "
              + parsed.errors().size()
              + " problem(s), the first: "
              + parsed.errors().get(0),
          "'pilothouse chaos run --dry-run " + file.get() + "' shows them all");
      return Optional.empty();
    }
    String target = parsed.experiment().get().target().service();
    if (!services.contains(target)) {
      problems.at(
          at,
          g.join("experiment"),
          "the experiment targets service '" + target + "', which this spec does not declare",
          "declare it or fix the experiment's target");
    }
    return Optional.of(new ChaosSpec.GameDay(p.toString(), schedule.get()));
  }

  private Optional<ChaosSpec.Monkey> monkey(Fields m, Set<String> services) {
    Optional<String> service = m.string("service");
    if (service.isEmpty()) {
      m.require("service", "the service whose instances the monkey may kill");
      return Optional.empty();
    }
    if (!services.contains(service.get())) {
      problems.at(
          m.get("service").orElseThrow(),
          m.join("service"),
          "no service '" + service.get() + "' in this spec",
          Suggest.nearest(service.get(), List.copyOf(services))
              .map(x -> "did you mean '" + x + "'?")
              .orElse("name a declared service"));
    }
    Duration mtbk = duration(m, "meanTimeBetweenKills", Duration.ofHours(1), false);
    if (mtbk.compareTo(Duration.ofMinutes(1)) < 0) {
      problems.at(
          m.get("meanTimeBetweenKills").orElseThrow(),
          m.join("meanTimeBetweenKills"),
          "must be at least 1m",
          "the monkey is for now and then, not a loop");
    }
    int max = m.integer("maxConcurrent", 1, 1000).map(Long::intValue).orElse(1);
    String signal = m.string("signal").orElse("SIGKILL").toUpperCase(Locale.ROOT);
    if (!signal.equals("SIGKILL") && !signal.equals("SIGTERM")) {
      problems.at(
          m.get("signal").orElseThrow(),
          m.join("signal"),
          "unknown signal '" + signal + "'",
          "SIGKILL (the default) or SIGTERM");
    }
    return Optional.of(new ChaosSpec.Monkey(service.get(), mtbk, max, signal.equals("SIGTERM")));
  }
}
