package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * How a service's instance count follows its load, as Kubernetes' HorizontalPodAutoscaler (v2)
 * decides it: each target proposes {@code ceil(current × value / target)}, the highest proposal
 * wins, changes within the tolerance are ignored, and the stabilization windows and rate policies
 * of each direction limit how fast the count moves.
 *
 * @param min the fewest instances (at least 1)
 * @param max the most instances
 * @param targets what to measure and the value per instance to hold it at; at least one
 * @param tolerance how far a measurement may stray from its target before the count changes
 * @param scaleUp how fast the count may rise
 * @param scaleDown how fast the count may fall
 * @param warmup how long after becoming ready an instance's measurements are ignored (a JVM's
 *     start-up CPU)
 * @param fallback the count to run when no target has been measurable for a while; null: keep the
 *     current count
 * @param schedules bounds that hold at set times (cron), e.g. at least 4 on weekday mornings
 * @param timeZone the zone the schedules' times are in (an IANA name such as Europe/Berlin)
 * @param predictive a floor raised ahead of the peaks the store's history shows; null: none
 * @param scaleToZero how a service with min 0 sleeps and wakes; null when min is above 0
 */
public record Autoscale(
    int min,
    int max,
    List<Target> targets,
    Tolerance tolerance,
    Behavior scaleUp,
    Behavior scaleDown,
    Duration warmup,
    Fallback fallback,
    List<Schedule> schedules,
    String timeZone,
    Predictive predictive,
    ScaleToZero scaleToZero) {

  /** The most instances autoscaling may run of one service. */
  public static final int MAX_INSTANCES = 1000;

  /** Autoscaling without schedules or forecasts. */
  public Autoscale(
      int min,
      int max,
      List<Target> targets,
      Tolerance tolerance,
      Behavior scaleUp,
      Behavior scaleDown,
      Duration warmup,
      Fallback fallback) {
    this(
        min, max, targets, tolerance, scaleUp, scaleDown, warmup, fallback, List.of(), "UTC", null);
  }

  /** Autoscaling that never goes below one instance unless min is 0 (with the default waking). */
  public Autoscale(
      int min,
      int max,
      List<Target> targets,
      Tolerance tolerance,
      Behavior scaleUp,
      Behavior scaleDown,
      Duration warmup,
      Fallback fallback,
      List<Schedule> schedules,
      String timeZone,
      Predictive predictive) {
    this(
        min,
        max,
        targets,
        tolerance,
        scaleUp,
        scaleDown,
        warmup,
        fallback,
        schedules,
        timeZone,
        predictive,
        null);
  }

  public Autoscale {
    schedules = schedules == null ? List.of() : List.copyOf(schedules);
    timeZone = timeZone == null || timeZone.isEmpty() ? "UTC" : timeZone;
    for (Schedule s : schedules) {
      if ((s.min() > 0 && (s.min() < min || s.min() > max))
          || (s.max() > 0 && (s.max() < min || s.max() > max))) {
        throw new IllegalArgumentException(
            "a schedule's bounds must be within min..max (" + min + ".." + max + ")");
      }
    }
    if (min < 0 || max < Math.max(1, min) || max > MAX_INSTANCES) {
      throw new IllegalArgumentException(
          "autoscale needs 0 <= min <= max, 1 <= max <= "
              + MAX_INSTANCES
              + ", but was "
              + min
              + ".."
              + max);
    }
    scaleToZero = min == 0 ? (scaleToZero == null ? ScaleToZero.DEFAULT : scaleToZero) : null;
    targets = List.copyOf(targets);
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("autoscale needs at least one target");
    }
    tolerance = tolerance == null ? Tolerance.DEFAULT : tolerance;
    scaleUp = scaleUp == null ? Behavior.UP : scaleUp;
    scaleDown = scaleDown == null ? Behavior.DOWN : scaleDown;
    warmup = warmup == null ? Duration.ofSeconds(30) : warmup;
    if (warmup.isNegative()) {
      throw new IllegalArgumentException("warmup must not be negative, but was " + warmup);
    }
    if (fallback != null && (fallback.replicas() < min || fallback.replicas() > max)) {
      throw new IllegalArgumentException(
          "fallback replicas must be within min..max ("
              + min
              + ".."
              + max
              + "), but was "
              + fallback.replicas());
    }
  }

  /** A count held within min and max. */
  public int clamp(int count) {
    return Math.max(min, Math.min(max, count));
  }

  /** What one target measures. */
  public sealed interface Target {
    /** The target's name as the spec writes it (and {@code scale explain} shows it). */
    String name();

    /** The value per instance (or, for latency, the value) the target holds the service at. */
    double value();

    /** Requests per second per ready instance, counted by the load balancer. */
    record RequestsPerSecond(double value) implements Target {
      public RequestsPerSecond {
        positive(value, "requestsPerSecond");
      }

      @Override
      public String name() {
        return "requestsPerSecond";
      }
    }

    /** CPU used per instance, in percent of the service's {@code resources.cpu}. */
    record Cpu(double value) implements Target {
      public Cpu {
        positive(value, "cpu");
      }

      @Override
      public String name() {
        return "cpu";
      }
    }

    /** Resident memory per instance, in percent of the service's {@code resources.memory}. */
    record Memory(double value) implements Target {
      public Memory {
        positive(value, "memory");
      }

      @Override
      public String name() {
        return "memory";
      }
    }

    /** Requests in flight per ready instance, at the load balancer. */
    record InFlight(double value) implements Target {
      public InFlight {
        positive(value, "inFlight");
      }

      @Override
      public String name() {
        return "inFlight";
      }
    }

    /** The 99th percentile of the service's latency at the load balancer, in milliseconds. */
    record LatencyP99(double value) implements Target {
      public LatencyP99 {
        positive(value, "latencyP99");
      }

      @Override
      public String name() {
        return "latencyP99";
      }
    }

    /** A PromQL query's value (the sum of its series) held at value per instance. */
    record Promql(String query, double value) implements Target {
      public Promql {
        requireNonNull(query, "query");
        positive(value, "promql.perInstance");
      }

      @Override
      public String name() {
        return "promql";
      }
    }

    private static void positive(double v, String field) {
      if (!(v > 0) || Double.isInfinite(v)) {
        throw new IllegalArgumentException(field + " must be greater than 0, but was " + v);
      }
    }
  }

  /**
   * How far a target's ratio (measured / target) may stray from 1 before the count changes, above
   * and below.
   */
  public record Tolerance(double up, double down) {
    public static final Tolerance DEFAULT = new Tolerance(0.1, 0.1);

    public Tolerance {
      if (!(up >= 0 && up < 10) || !(down >= 0 && down < 1)) {
        throw new IllegalArgumentException(
            "tolerance must be in [0, 1000%) up and [0, 100%) down, but was " + up + ", " + down);
      }
    }
  }

  /**
   * The limits on one direction of change.
   *
   * @param stabilization the window whose recommendations are considered: scaling down takes the
   *     highest of them, scaling up the lowest
   * @param policies how much the count may change per period
   * @param select which policy applies when several do: the one allowing the most change (MAX), the
   *     least (MIN), or none at all (DISABLED: never change in this direction)
   */
  public record Behavior(Duration stabilization, List<Policy> policies, Select select) {
    /** Kubernetes' default for scaling up: no window, double or +4 per 15 s, whichever is more. */
    public static final Behavior UP =
        new Behavior(
            Duration.ZERO,
            List.of(
                new Policy(Policy.Kind.PERCENT, 100, Duration.ofSeconds(15)),
                new Policy(Policy.Kind.INSTANCES, 4, Duration.ofSeconds(15))),
            Select.MAX);

    /** Kubernetes' default for scaling down: a 5-minute window, then any amount per 15 s. */
    public static final Behavior DOWN =
        new Behavior(
            Duration.ofMinutes(5),
            List.of(new Policy(Policy.Kind.PERCENT, 100, Duration.ofSeconds(15))),
            Select.MAX);

    public Behavior {
      requireNonNull(stabilization, "stabilization");
      if (stabilization.isNegative() || stabilization.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(
            "stabilization must be within 0s..1h, but was " + stabilization);
      }
      policies = List.copyOf(policies);
      select = select == null ? Select.MAX : select;
      if (policies.isEmpty() && select != Select.DISABLED) {
        throw new IllegalArgumentException("a scaling behavior needs at least one policy");
      }
    }

    /** The longest period of any policy: how far back scale changes must be remembered. */
    public Duration longestPeriod() {
      return policies.stream().map(Policy::period).max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /** Which policy applies when several do. */
    public enum Select {
      MAX,
      MIN,
      DISABLED;

      public String wire() {
        return switch (this) {
          case MAX -> "max";
          case MIN -> "min";
          case DISABLED -> "disabled";
        };
      }
    }
  }

  /**
   * One rate limit: at most value instances (or value percent of the count at the period's start)
   * of change per period.
   */
  public record Policy(Kind kind, double value, Duration period) {
    /** Whether value counts instances or percent. */
    public enum Kind {
      INSTANCES,
      PERCENT;

      public String wire() {
        return name().toLowerCase(Locale.ROOT);
      }
    }

    public Policy {
      requireNonNull(kind, "kind");
      requireNonNull(period, "period");
      if (!(value > 0) || (kind == Kind.INSTANCES && value != Math.rint(value))) {
        throw new IllegalArgumentException(
            kind.wire()
                + " must be a positive "
                + (kind == Kind.INSTANCES ? "whole " : "")
                + "number, but was "
                + value);
      }
      if (period.compareTo(Duration.ofSeconds(1)) < 0
          || period.compareTo(Duration.ofMinutes(30)) > 0) {
        throw new IllegalArgumentException("period must be within 1s..30m, but was " + period);
      }
    }

    /** As the spec writes it: "4 instances per 15s", "50% per 60s". */
    public String describe() {
      String amount =
          kind == Kind.INSTANCES
              ? (long) value + (value == 1 ? " instance" : " instances")
              : SpecTerms.render(value) + "%";
      return amount + " per " + SpecTerms.duration(period);
    }
  }

  /**
   * How a service with {@code min: 0} sleeps and wakes (KEDA's activation and cooldown): it goes
   * down to one instance like any other, and from one to none only after cooldown without a
   * request; at none, the load balancer holds requests (at most maxHeld, each at most holdTimeout)
   * while the first instance starts, which a held request wakes at once.
   */
  public record ScaleToZero(Duration cooldown, Duration holdTimeout, int maxHeld) {
    public static final ScaleToZero DEFAULT =
        new ScaleToZero(Duration.ofMinutes(5), Duration.ofSeconds(30), 1000);

    public ScaleToZero {
      requireNonNull(cooldown, "cooldown");
      requireNonNull(holdTimeout, "holdTimeout");
      if (cooldown.isNegative()
          || holdTimeout.compareTo(Duration.ofSeconds(1)) < 0
          || maxHeld < 1) {
        throw new IllegalArgumentException(
            "scaleToZero needs cooldown >= 0, holdTimeout >= 1s and maxHeld >= 1");
      }
    }
  }

  /**
   * Bounds that hold from each time cron names for duration (null: until the next firing of another
   * schedule, or the end of that day in the time zone).
   *
   * @param min the fewest instances while it holds; 0 when it sets none
   * @param max the most instances while it holds; 0 when it sets none
   */
  public record Schedule(String cron, Duration duration, int min, int max) {
    public Schedule {
      requireNonNull(cron, "cron");
      if (min < 0 || max < 0 || (min == 0 && max == 0) || (max > 0 && min > max)) {
        throw new IllegalArgumentException(
            "a schedule sets min, max or both (min <= max), but was " + min + ".." + max);
      }
      if (duration != null && (duration.isNegative() || duration.isZero())) {
        throw new IllegalArgumentException("a schedule's duration must be positive");
      }
    }
  }

  /**
   * A floor from a seasonal forecast of the service's request rate: what the next lead looked like
   * at this time of week (two weeks of history or more) or of day.
   *
   * @param apply whether the floor is applied; false: forecast only (shown, not acted on)
   * @param lead how far ahead the forecast looks (instances take time to start)
   */
  public record Predictive(boolean apply, Duration lead) {
    public Predictive {
      requireNonNull(lead, "lead");
      if (lead.compareTo(Duration.ofMinutes(1)) < 0 || lead.compareTo(Duration.ofHours(6)) > 0) {
        throw new IllegalArgumentException("lead must be within 1m..6h, but was " + lead);
      }
    }
  }

  /**
   * The count to run when no target has been measurable for {@code after} (KEDA's fallback); the
   * count returns to the targets' proposal when a measurement comes back.
   */
  public record Fallback(Duration after, int replicas) {
    public Fallback {
      requireNonNull(after, "after");
      if (after.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("fallback.after must be at least 1s, but was " + after);
      }
    }
  }
}
