package dev.pilothouse.spec;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Autoscale.Behavior;
import dev.pilothouse.core.spec.Autoscale.Policy;
import dev.pilothouse.core.spec.Autoscale.Target;
import dev.pilothouse.core.spec.Resources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** A service's {@code autoscale:} section: bounds, targets, tolerance, behaviors, warmup. */
final class AutoscaleReader extends SectionReader {
  static final List<String> AUTOSCALE =
      List.of(
          "min",
          "max",
          "targets",
          "tolerance",
          "scaleUp",
          "scaleDown",
          "warmup",
          "fallback",
          "schedules",
          "timeZone",
          "predictive",
          "scaleToZero");
  static final List<String> SCALE_TO_ZERO = List.of("cooldown", "holdTimeout", "maxHeld");
  static final List<String> SCHEDULE = List.of("cron", "min", "max", "duration");
  static final List<String> PREDICTIVE = List.of("mode", "lead");
  static final List<String> TARGETS =
      List.of("requestsPerSecond", "cpu", "memory", "inFlight", "latencyP99", "promql");
  static final List<String> PROMQL = List.of("query", "perInstance");
  static final List<String> BEHAVIOR = List.of("stabilization", "policies", "selectPolicy");
  static final List<String> POLICY = List.of("instances", "percent", "period");
  static final List<String> TOLERANCE = List.of("up", "down");
  static final List<String> FALLBACK = List.of("after", "replicas");

  /** The most targets one service may declare (each is measured every second). */
  static final int MAX_TARGETS = 10;

  AutoscaleReader(SectionReader parent) {
    super(parent);
  }

  /** The section, or null when it has problems (they are recorded). */
  Autoscale autoscale(Fields f, Resources resources, boolean routed) {
    int before = problems.list().size();
    int min =
        f.require("min", "give the fewest instances, e.g. 'min: 1'")
            .flatMap(n -> f.asInteger(n, f.join("min"), 0, Autoscale.MAX_INSTANCES))
            .map(Long::intValue)
            .orElse(1);
    int max =
        f.require("max", "give the most instances, e.g. 'max: 10'")
            .flatMap(n -> f.asInteger(n, f.join("max"), 1, Autoscale.MAX_INSTANCES))
            .map(Long::intValue)
            .orElse(min);
    if (max < min && f.has("max")) {
      problems.at(
          f.get("max").orElseThrow(),
          f.join("max"),
          "must not be below min (" + min + ")",
          "raise max or lower min");
    }
    List<Target> targets = new ArrayList<>();
    List<Fields> entries =
        objects(
            f,
            "targets",
            TARGETS,
            "write a list such as '- requestsPerSecond: 50' or '- cpu: 70%'",
            MAX_TARGETS);
    if (entries.isEmpty() && problems.list().size() == before) {
      problems.at(
          f.get("targets").orElse(f.node()),
          f.join("targets"),
          "at least one target is needed",
          "add e.g. 'targets: [{requestsPerSecond: 50}]'");
    }
    for (Fields t : entries) {
      target(t, resources).ifPresent(targets::add);
    }
    Autoscale.Tolerance tolerance = tolerance(f);
    Behavior up = f.object("scaleUp", BEHAVIOR).map(b -> behavior(b, Behavior.UP)).orElse(null);
    Behavior down =
        f.object("scaleDown", BEHAVIOR).map(b -> behavior(b, Behavior.DOWN)).orElse(null);
    Duration warmup = duration(f, "warmup", Duration.ofSeconds(30), true);
    if (warmup.compareTo(Duration.ofHours(1)) > 0) {
      problems.at(
          f.get("warmup").orElseThrow(), f.join("warmup"), "must be at most 1h", "lower it");
    }
    Autoscale.Fallback fallback =
        f.object("fallback", FALLBACK).map(x -> fallback(x, min, max)).orElse(null);
    Autoscale.ScaleToZero zero = null;
    if (min == 0 && f.has("min")) {
      if (!routed) {
        problems.at(
            f.get("min").orElseThrow(),
            f.join("min"),
            "scale to zero needs the load balancer to hold requests and to see them arrive, and"
                + " the service has no route",
            "add 'route: /' (or another prefix), or use 'min: 1'");
      }
      zero =
          f.object("scaleToZero", SCALE_TO_ZERO)
              .map(this::scaleToZero)
              .orElse(Autoscale.ScaleToZero.DEFAULT);
    } else if (f.has("scaleToZero")) {
      problems.at(
          f.get("scaleToZero").orElseThrow(),
          f.join("scaleToZero"),
          "applies only with 'min: 0'",
          "set min to 0, or remove scaleToZero");
    }
    String zone = f.string("timeZone").orElse("UTC");
    try {
      java.time.ZoneId.of(zone);
    } catch (java.time.DateTimeException e) {
      problems.at(
          f.get("timeZone").orElseThrow(),
          f.join("timeZone"),
          "unknown time zone '" + zone + "'",
          "write an IANA zone such as Europe/Berlin, America/New_York or UTC");
    }
    List<Autoscale.Schedule> schedules = new ArrayList<>();
    for (Fields sf :
        objects(
            f, "schedules", SCHEDULE, "write e.g. '- {cron: \"0 8 * * MON-FRI\", min: 4}'", 20)) {
      schedule(sf, min, max).ifPresent(schedules::add);
    }
    Autoscale.Predictive predictive =
        f.object("predictive", PREDICTIVE).map(this::predictive).orElse(null);
    if (predictive != null
        && targets.stream().noneMatch(t -> t instanceof Target.RequestsPerSecond)
        && problems.list().size() == before) {
      problems.at(
          f.get("predictive").orElseThrow(),
          f.join("predictive"),
          "the forecast is of the request rate, and no requestsPerSecond target says what one"
              + " instance carries",
          "add '- requestsPerSecond: N' to targets");
    }
    if (problems.list().size() != before) {
      return null;
    }
    return new Autoscale(
        min,
        max,
        targets,
        tolerance,
        up,
        down,
        warmup,
        fallback,
        schedules,
        zone,
        predictive,
        zero);
  }

  private Autoscale.ScaleToZero scaleToZero(Fields z) {
    Autoscale.ScaleToZero d = Autoscale.ScaleToZero.DEFAULT;
    Duration cooldown = duration(z, "cooldown", d.cooldown(), true);
    Duration hold = duration(z, "holdTimeout", d.holdTimeout(), false);
    if (hold.compareTo(Duration.ofSeconds(1)) < 0 || hold.compareTo(Duration.ofMinutes(5)) > 0) {
      problems.at(
          z.get("holdTimeout").orElseThrow(),
          z.join("holdTimeout"),
          "must be within 1s..5m",
          "give the time a first instance needs to start, with room, e.g. 30s");
      hold = d.holdTimeout();
    }
    if (cooldown.compareTo(Duration.ofDays(1)) > 0) {
      problems.at(
          z.get("cooldown").orElseThrow(), z.join("cooldown"), "must be at most 1d", "lower it");
      cooldown = d.cooldown();
    }
    int maxHeld = z.integer("maxHeld", 1, 100_000).map(Long::intValue).orElse(d.maxHeld());
    return new Autoscale.ScaleToZero(cooldown, hold, maxHeld);
  }

  private Optional<Autoscale.Schedule> schedule(Fields sf, int min, int max) {
    Optional<String> cron =
        sf.require("cron", "give the times in crontab's five fields, e.g. \"0 8 * * MON-FRI\"")
            .flatMap(n -> sf.asString(n, sf.join("cron")));
    if (cron.isEmpty()) {
      return Optional.empty();
    }
    String wrong = CronCheck.problem(cron.get());
    if (wrong != null) {
      problems.at(
          sf.get("cron").orElseThrow(),
          sf.join("cron"),
          "invalid cron expression '" + cron.get() + "': " + wrong,
          "write minute hour day-of-month month day-of-week, e.g. \"0 8 * * MON-FRI\"");
      return Optional.empty();
    }
    if (!sf.has("min") && !sf.has("max")) {
      problems.at(
          sf.node(),
          sf.path(),
          "a schedule sets no bound",
          "give 'min: N' (at least N instances then), 'max: N', or both");
      return Optional.empty();
    }
    Optional<Long> sMin = sf.has("min") ? sf.integer("min", min, max) : Optional.of(0L);
    Optional<Long> sMax = sf.has("max") ? sf.integer("max", min, max) : Optional.of(0L);
    Duration duration = sf.has("duration") ? duration(sf, "duration", Duration.ZERO, false) : null;
    if (sMin.isEmpty() || sMax.isEmpty() || (duration != null && duration.isZero())) {
      return Optional.empty();
    }
    if (sMin.get() > 0 && sMax.get() > 0 && sMin.get() > sMax.get()) {
      problems.at(
          sf.get("max").orElseThrow(),
          sf.join("max"),
          "must not be below the schedule's min (" + sMin.get() + ")",
          "raise max or lower min");
      return Optional.empty();
    }
    return Optional.of(
        new Autoscale.Schedule(cron.get(), duration, sMin.get().intValue(), sMax.get().intValue()));
  }

  private Autoscale.Predictive predictive(Fields p) {
    String mode = p.string("mode").orElse("forecast-only").toLowerCase(Locale.ROOT);
    boolean apply;
    switch (mode) {
      case "on" -> apply = true;
      case "forecast-only", "forecastonly" -> apply = false;
      default -> {
        problems.at(
            p.get("mode").orElseThrow(),
            p.join("mode"),
            "unknown mode '" + mode + "'",
            "write 'forecast-only' (show what it would do) or 'on'");
        return null;
      }
    }
    Duration lead = duration(p, "lead", Duration.ofMinutes(10), false);
    if (lead.compareTo(Duration.ofMinutes(1)) < 0 || lead.compareTo(Duration.ofHours(6)) > 0) {
      problems.at(
          p.get("lead").orElseThrow(),
          p.join("lead"),
          "must be within 1m..6h",
          "write e.g. 10m (long enough for new instances to start)");
      return null;
    }
    return new Autoscale.Predictive(apply, Duration.ofMinutes(lead.toMinutes()));
  }

  private Optional<Target> target(Fields t, Resources resources) {
    if (t.node().entries().size() != 1) {
      problems.at(
          t.node(),
          t.path(),
          "each target names one measurement, but this one has " + t.node().entries().size(),
          "write one per list item: '- requestsPerSecond: 50', '- cpu: 70%'");
      return Optional.empty();
    }
    if (t.has("requestsPerSecond")) {
      return positive(t, "requestsPerSecond", 1e9).map(Target.RequestsPerSecond::new);
    }
    if (t.has("inFlight")) {
      return positive(t, "inFlight", 1e9).map(Target.InFlight::new);
    }
    if (t.has("cpu")) {
      if (resources.cpu() <= 0) {
        problems.at(
            t.get("cpu").orElseThrow(),
            t.join("cpu"),
            "a CPU target is a percentage of resources.cpu, which the service does not declare",
            "add 'resources: {cpu: 500m}' (what one instance is meant to use)");
        return Optional.empty();
      }
      return percent(t, "cpu").map(Target.Cpu::new);
    }
    if (t.has("memory")) {
      if (resources.memoryBytes() <= 0) {
        problems.at(
            t.get("memory").orElseThrow(),
            t.join("memory"),
            "a memory target is a percentage of resources.memory, which the service does not"
                + " declare",
            "add 'resources: {memory: 512Mi}'");
        return Optional.empty();
      }
      return percent(t, "memory").map(Target.Memory::new);
    }
    if (t.has("latencyP99")) {
      Duration d = duration(t, "latencyP99", Duration.ZERO, false);
      return d.isZero() ? Optional.empty() : Optional.of(new Target.LatencyP99(d.toNanos() / 1e6));
    }
    Optional<Fields> q = t.object("promql", PROMQL);
    if (q.isEmpty()) {
      return Optional.empty();
    }
    Fields qf = q.get();
    Optional<String> query =
        qf.require("query", "give the PromQL expression, e.g. 'sum(rate(jobs_total[1m]))'")
            .flatMap(n -> qf.asString(n, qf.join("query")));
    Optional<Double> per =
        qf.require("perInstance", "give the value one instance should carry, e.g. 100")
            .flatMap(n -> positive(qf, "perInstance", 1e15));
    if (query.isEmpty() || per.isEmpty()) {
      return Optional.empty();
    }
    String wrong = promql.problem(query.get());
    if (wrong != null) {
      problems.at(
          qf.get("query").orElseThrow(),
          qf.join("query"),
          "invalid PromQL: " + wrong,
          "check the expression with 'pilothouse query'");
      return Optional.empty();
    }
    return Optional.of(new Target.Promql(query.get(), per.get()));
  }

  private Optional<Double> positive(Fields f, String field, double max) {
    Optional<Double> v = f.number(field, 0, max, true);
    if (v.isPresent() && v.get() <= 0) {
      problems.at(
          f.get(field).orElseThrow(),
          f.join(field),
          "must be greater than 0",
          "give the value one instance should carry");
      return Optional.empty();
    }
    return v;
  }

  /** {@code 70%}, or 70; more than 100% is allowed (a target above what an instance asked for). */
  private Optional<Double> percent(Fields f, String field) {
    return percentage(
        f, field, false, 1000, "invalid percentage", "above 0 and at most 1000%, e.g. 70%");
  }

  /** A fraction from a percentage in [0, limit). */
  private Optional<Double> fraction(Fields f, String field, double limit) {
    return percentage(
            f,
            field,
            true,
            limit,
            "invalid tolerance",
            "from 0% to below " + (long) limit + "%, e.g. 10%")
        .map(v -> v / 100);
  }

  /**
   * A percentage written {@code 70%} or 70: above 0 (or from 0 with zeroAllowed) and up to max
   * (below it with zeroAllowed, a tolerance's open bound).
   */
  private Optional<Double> percentage(
      Fields f, String field, boolean zeroAllowed, double max, String what, String range) {
    Node n = f.get(field).orElseThrow();
    String text = n instanceof Node.Scalar s ? s.text().trim() : "";
    String digits = text.endsWith("%") ? text.substring(0, text.length() - 1).trim() : text;
    try {
      double v = Double.parseDouble(digits);
      boolean inRange = zeroAllowed ? v >= 0 && v < max : v > 0 && v <= max;
      if (inRange && !digits.isEmpty() && Character.isDigit(digits.charAt(0))) {
        return Optional.of(v);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.at(n, f.join(field), what + " " + Fields.describe(n), "write a percentage " + range);
    return Optional.empty();
  }

  private Autoscale.Tolerance tolerance(Fields f) {
    Optional<Node> on = f.get("tolerance");
    if (on.isEmpty()) {
      return Autoscale.Tolerance.DEFAULT;
    }
    if (on.get() instanceof Node.MapNode) {
      Fields t = f.object("tolerance", TOLERANCE).orElseThrow();
      double up =
          t.has("up") ? fraction(t, "up", 1000).orElse(0.1) : Autoscale.Tolerance.DEFAULT.up();
      double down =
          t.has("down") ? fraction(t, "down", 100).orElse(0.1) : Autoscale.Tolerance.DEFAULT.down();
      return new Autoscale.Tolerance(up, down);
    }
    double both = fraction(f, "tolerance", 100).orElse(0.1);
    return new Autoscale.Tolerance(both, both);
  }

  private Behavior behavior(Fields b, Behavior dflt) {
    Duration window = duration(b, "stabilization", dflt.stabilization(), true);
    if (window.compareTo(Duration.ofHours(1)) > 0) {
      problems.at(
          b.get("stabilization").orElseThrow(),
          b.join("stabilization"),
          "must be at most 1h",
          "lower the stabilization window");
      window = dflt.stabilization();
    }
    Behavior.Select select = dflt.select();
    Optional<String> sel = b.string("selectPolicy");
    if (sel.isPresent()) {
      switch (sel.get().toLowerCase(Locale.ROOT)) {
        case "max" -> select = Behavior.Select.MAX;
        case "min" -> select = Behavior.Select.MIN;
        case "disabled" -> select = Behavior.Select.DISABLED;
        default ->
            problems.at(
                b.get("selectPolicy").orElseThrow(),
                b.join("selectPolicy"),
                "unknown selectPolicy '" + sel.get() + "'",
                "use max (the policy allowing the most change), min or disabled");
      }
    }
    List<Policy> policies = new ArrayList<>();
    if (b.has("policies")) {
      for (Fields p :
          objects(b, "policies", POLICY, "write e.g. '- {percent: 100, period: 15s}'", 10)) {
        policy(p).ifPresent(policies::add);
      }
    } else {
      policies.addAll(dflt.policies());
    }
    if (policies.isEmpty() && select != Behavior.Select.DISABLED && b.has("policies")) {
      problems.at(
          b.get("policies").orElseThrow(),
          b.join("policies"),
          "at least one policy is needed",
          "add e.g. '- {percent: 100, period: 15s}', or write 'selectPolicy: disabled'");
      return dflt;
    }
    return new Behavior(window, policies, select);
  }

  private Optional<Policy> policy(Fields p) {
    boolean instances = p.has("instances");
    boolean percent = p.has("percent");
    if (instances == percent) {
      problems.at(
          p.node(),
          p.path(),
          instances ? "a policy limits instances or percent, not both" : "no limit given",
          "write '{instances: 4, period: 15s}' or '{percent: 100, period: 15s}'");
      return Optional.empty();
    }
    Optional<Double> value =
        instances
            ? p.integer("instances", 1, Autoscale.MAX_INSTANCES).map(Long::doubleValue)
            : positive(p, "percent", 100_000);
    Duration period =
        p.require("period", "give the period the limit applies to, e.g. 'period: 15s'").isPresent()
            ? duration(p, "period", Duration.ZERO, false)
            : Duration.ZERO;
    if (!period.isZero()
        && (period.compareTo(Duration.ofSeconds(1)) < 0
            || period.compareTo(Duration.ofMinutes(30)) > 0)) {
      problems.at(
          p.get("period").orElseThrow(),
          p.join("period"),
          "must be within 1s..30m",
          "write e.g. 15s or 1m");
      return Optional.empty();
    }
    if (value.isEmpty() || period.isZero()) {
      return Optional.empty();
    }
    return Optional.of(
        new Policy(instances ? Policy.Kind.INSTANCES : Policy.Kind.PERCENT, value.get(), period));
  }

  private Autoscale.Fallback fallback(Fields f, int min, int max) {
    Duration after = duration(f, "after", Duration.ofMinutes(1), false);
    if (after.compareTo(Duration.ofSeconds(1)) < 0) {
      problems.at(
          f.get("after").orElseThrow(), f.join("after"), "must be at least 1s", "write e.g. 1m");
      return null;
    }
    Optional<Long> replicas =
        f.require("replicas", "give the count to run without measurements, e.g. 'replicas: 3'")
            .flatMap(n -> f.asInteger(n, f.join("replicas"), min, max));
    return replicas.map(r -> new Autoscale.Fallback(after, r.intValue())).orElse(null);
  }
}
