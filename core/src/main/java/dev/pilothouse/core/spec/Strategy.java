package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * How a service's new version is rolled out: {@link Rolling} replacement, a {@link Canary} that
 * takes traffic step by step, or a {@link BlueGreen} switch. Each strategy carries only the fields
 * that apply to it; canary and blue-green share the {@link Progressive} settings (the new set's
 * size, targeting rules, the statistical {@link Analysis} and smoke tests).
 */
public sealed interface Strategy permits Strategy.Rolling, Strategy.Progressive {

  /** Rolling, canary or blue-green. */
  Kind kind();

  /** The new version must be ready within this, or the deploy rolls back. */
  Duration progressDeadline();

  /**
   * The limits used to replace instances: a rolling plan's own; after a canary or blue-green
   * promotion, the rest of the fleet moves onto the new version with the defaults (surge 1).
   */
  default Rolling replacement() {
    return this instanceof Rolling r ? r : Rolling.DEFAULT;
  }

  /** The rolling plan a service without a strategy gets: surge 1, none unavailable. */
  static Rolling rolling() {
    return Rolling.DEFAULT;
  }

  /** The deploy strategy's name. */
  enum Kind {
    ROLLING,
    CANARY,
    BLUE_GREEN;

    /** The name in spec files: rolling, canary, blueGreen. */
    public String wire() {
      return switch (this) {
        case ROLLING -> "rolling";
        case CANARY -> "canary";
        case BLUE_GREEN -> "blueGreen";
      };
    }
  }

  /**
   * Replaces instances in place, a few at a time.
   *
   * @param maxSurge instances started above the replica count while replacing
   * @param maxUnavailable instances that may be missing while replacing
   */
  record Rolling(Amount maxSurge, Amount maxUnavailable, Duration progressDeadline)
      implements Strategy {
    /** Surge 1, none unavailable, ten minutes to finish. */
    public static final Rolling DEFAULT =
        new Rolling(Amount.of(1), Amount.of(0), Duration.ofMinutes(10));

    public Rolling {
      requireNonNull(maxSurge, "maxSurge");
      requireNonNull(maxUnavailable, "maxUnavailable");
      requireNonNull(progressDeadline, "progressDeadline");
      if (maxSurge.value() == 0 && maxUnavailable.value() == 0) {
        throw new IllegalArgumentException("maxSurge and maxUnavailable cannot both be 0");
      }
    }

    /** These limits, ten minutes to finish. */
    public static Rolling of(Amount maxSurge, Amount maxUnavailable) {
      return new Rolling(maxSurge, maxUnavailable, DEFAULT.progressDeadline);
    }

    @Override
    public Kind kind() {
      return Kind.ROLLING;
    }
  }

  /**
   * What canary and blue-green share: a new set of instances beside the stable ones, reached first
   * by targeted requests (smoke tests, match rules), then judged against the stable version.
   */
  sealed interface Progressive extends Strategy permits Canary, BlueGreen {
    /** Instances of the new version run beside the stable ones (with auto: the fewest). */
    int canaryReplicas();

    /**
     * Instances of the new version while it takes weight percent of a service of serviceReplicas
     * instances: the fixed count, unless a canary's size follows its weight.
     */
    default int canaryReplicas(int serviceReplicas, int weight) {
      return canaryReplicas();
    }

    /** Requests matching any rule always go to the new version. */
    List<MatchRule> match();

    /** Thresholds of the statistical comparison with the stable version. */
    Analysis analysis();

    /** Requests the new version must answer as expected before it gets user traffic. */
    List<SmokeTest> smoke();

    /** A client keeps the side it was first sent to (canary only). */
    boolean sticky();

    /** After traffic has moved, how long the new version is still judged (zero: not). */
    Duration watch();

    /** Webhooks consulted at the rollout's turning points. */
    List<Gate> gates();

    /**
     * Whether fresh instances of the stable version run beside the canary, as many and with as much
     * traffic, and the canary is judged against them only (Kayenta's experiment).
     */
    default boolean baseline() {
      return false;
    }

    /** The gates of one type, in the order declared. */
    default List<Gate> gates(Gate.Type type) {
      return gates().stream().filter(g -> g.type() == type).toList();
    }
  }

  /**
   * A new set that takes a growing share of traffic, step by step.
   *
   * @param maxAnalysisWait an analysis short of traffic waits at most this long, then pauses
   * @param checks custom checks run at every analysis step
   * @param load built-in load generator driven when an analysis is short of traffic, or null
   * @param validation after promotion, how long the new version is still watched (zero: not)
   * @param autoSurge with {@code canaryReplicas: auto}, the most instances the canary may add to
   *     the service's (its size follows its weight up to this); null for a fixed count
   * @param baseline fresh stable instances beside the canary, compared with it instead of the
   *     stable ones
   */
  record Canary(
      List<Step> steps,
      int canaryReplicas,
      List<MatchRule> match,
      boolean sticky,
      Analysis analysis,
      Duration maxAnalysisWait,
      List<Check> checks,
      Load load,
      List<SmokeTest> smoke,
      Duration validation,
      Duration progressDeadline,
      List<Gate> gates,
      Mirror mirror,
      Amount autoSurge,
      boolean baseline)
      implements Progressive {
    /** A canary with its core settings: no gates, mirror, automatic size or baseline. */
    public Canary(
        List<Step> steps,
        int canaryReplicas,
        List<MatchRule> match,
        boolean sticky,
        Analysis analysis,
        Duration maxAnalysisWait,
        List<Check> checks,
        Load load,
        List<SmokeTest> smoke,
        Duration validation,
        Duration progressDeadline) {
      this(
          steps,
          canaryReplicas,
          match,
          sticky,
          analysis,
          maxAnalysisWait,
          checks,
          load,
          smoke,
          validation,
          progressDeadline,
          List.of(),
          null,
          null,
          false);
    }

    public Canary {
      gates = gates == null ? List.of() : List.copyOf(gates);
      steps = List.copyOf(steps);
      match = match == null ? List.of() : List.copyOf(match);
      requireNonNull(analysis, "analysis");
      requireNonNull(maxAnalysisWait, "maxAnalysisWait");
      checks = checks == null ? List.of() : List.copyOf(checks);
      smoke = smoke == null ? List.of() : List.copyOf(smoke);
      validation = validation == null ? Duration.ZERO : validation;
      requireNonNull(progressDeadline, "progressDeadline");
      if (canaryReplicas < 1) {
        throw new IllegalArgumentException(
            "canaryReplicas must be >= 1, but was " + canaryReplicas);
      }
    }

    /** These steps with the documented defaults for everything else. */
    public static Canary of(List<Step> steps) {
      return new Canary(
          steps,
          1,
          List.of(),
          false,
          Analysis.DEFAULT,
          Duration.ofMinutes(5),
          List.of(),
          null,
          List.of(),
          Duration.ZERO,
          Duration.ofMinutes(10));
    }

    @Override
    public Kind kind() {
      return Kind.CANARY;
    }

    /**
     * With auto size: as many instances as the weight's share of the service's, rounded up, at
     * least {@link #canaryReplicas()} and at most {@link #autoSurge()}.
     */
    @Override
    public int canaryReplicas(int serviceReplicas, int weight) {
      if (autoSurge == null) {
        return canaryReplicas;
      }
      int share = (int) Math.ceil(serviceReplicas * weight / 100.0);
      int most = Math.max(canaryReplicas, autoSurge.resolve(serviceReplicas, true));
      return Math.min(most, Math.max(canaryReplicas, share));
    }

    @Override
    public Duration watch() {
      return validation;
    }
  }

  /**
   * A full new set that takes all traffic in one switch, while the old set stays warm.
   *
   * @param rollbackWindow how long the old set stays warm after the switch, while the new set is
   *     judged against what the old one served
   */
  record BlueGreen(
      int canaryReplicas,
      List<MatchRule> match,
      Analysis analysis,
      List<SmokeTest> smoke,
      Duration rollbackWindow,
      Duration progressDeadline,
      List<Gate> gates)
      implements Progressive {
    /** A blue-green plan without gates. */
    public BlueGreen(
        int canaryReplicas,
        List<MatchRule> match,
        Analysis analysis,
        List<SmokeTest> smoke,
        Duration rollbackWindow,
        Duration progressDeadline) {
      this(canaryReplicas, match, analysis, smoke, rollbackWindow, progressDeadline, List.of());
    }

    public BlueGreen {
      gates = gates == null ? List.of() : List.copyOf(gates);
      match = match == null ? List.of() : List.copyOf(match);
      requireNonNull(analysis, "analysis");
      smoke = smoke == null ? List.of() : List.copyOf(smoke);
      requireNonNull(rollbackWindow, "rollbackWindow");
      requireNonNull(progressDeadline, "progressDeadline");
      if (canaryReplicas < 1) {
        throw new IllegalArgumentException(
            "canaryReplicas must be >= 1, but was " + canaryReplicas);
      }
    }

    @Override
    public Kind kind() {
      return Kind.BLUE_GREEN;
    }

    @Override
    public boolean sticky() {
      return false;
    }

    @Override
    public Duration watch() {
      return rollbackWindow;
    }
  }

  /**
   * A copy of a share of the stable instances' bodyless requests (GET, HEAD, OPTIONS, DELETE
   * without a body) sent to the new version while the rollout runs: its answers are measured and
   * analysed like live traffic, then discarded, so users never see them.
   *
   * @param percent of those requests, 1–100
   */
  record Mirror(int percent) {
    public Mirror {
      if (percent < 1 || percent > 100) {
        throw new IllegalArgumentException("percent must be in 1..100, but was " + percent);
      }
    }
  }

  /**
   * A webhook consulted at one of the rollout's turning points (Flagger's webhook types). It is
   * POSTed the rollout's context as JSON (as checks are, plus {@code "gate"}: its type); a 2xx
   * answer is yes.
   *
   * @param timeout how long one call may take
   */
  record Gate(String name, Type type, String url, Duration timeout) {
    /** When a gate is asked, and what its answer does. */
    public enum Type {
      /** Before the new version gets any traffic; no holds the rollout until yes. */
      CONFIRM_ROLLOUT,
      /** After the smoke tests, before any traffic; no rolls back. */
      PRE_ROLLOUT,
      /** Before each increase of the new version's weight (blue-green: the switch); holds. */
      CONFIRM_TRAFFIC_INCREASE,
      /** Before the new version is promoted; holds. */
      CONFIRM_PROMOTION,
      /** After the rollout ended (promoted or rolled back); the answer is only recorded. */
      POST_ROLLOUT,
      /** Asked throughout the rollout; yes rolls back at once. */
      ROLLBACK;

      /** The name in spec files: confirm-rollout, pre-rollout, … */
      public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
      }

      /** Whether a no holds the rollout (rather than rolling it back or being ignored). */
      public boolean holds() {
        return this == CONFIRM_ROLLOUT
            || this == CONFIRM_TRAFFIC_INCREASE
            || this == CONFIRM_PROMOTION;
      }
    }

    public Gate {
      requireNonNull(name, "name");
      requireNonNull(type, "type");
      requireNonNull(url, "url");
      requireNonNull(timeout, "timeout");
    }
  }

  /**
   * Thresholds of the statistical comparison of the new version with the stable one.
   *
   * @param alpha significance level of the tests
   * @param minRequests requests each side needs before a metric is judged
   * @param maxErrorRateIncrease tolerated absolute increase of the error rate
   * @param maxLatencyIncreaseMs tolerated latency shift in milliseconds
   * @param maxLatencyIncreaseRatio tolerated latency shift relative to the stable median
   */
  record Analysis(
      double alpha,
      int minRequests,
      double maxErrorRateIncrease,
      double maxLatencyIncreaseMs,
      double maxLatencyIncreaseRatio) {
    /** The documented defaults: alpha 0.05, 50 requests, +1 % errors, +5 ms or +10 % latency. */
    public static final Analysis DEFAULT = new Analysis(0.05, 50, 0.01, 5, 0.10);

    public Analysis {
      if (!(alpha > 0 && alpha < 1)) {
        throw new IllegalArgumentException("alpha must be in (0, 1), but was " + alpha);
      }
      if (minRequests < 1) {
        throw new IllegalArgumentException("minRequests must be >= 1, but was " + minRequests);
      }
    }
  }

  /**
   * A count of instances, absolute or as a percentage of the replica count.
   *
   * @param value instances, or percent when percent is set
   */
  record Amount(int value, boolean percent) {
    public Amount {
      if (value < 0 || (percent && value > 100)) {
        throw new IllegalArgumentException("invalid amount " + value + (percent ? "%" : ""));
      }
    }

    /** An absolute count. */
    public static Amount of(int n) {
      return new Amount(n, false);
    }

    /** Instances for this replica count; percentages round up or down. */
    public int resolve(int replicas, boolean roundUp) {
      if (!percent) {
        return value;
      }
      double exact = replicas * value / 100.0;
      return (int) (roundUp ? Math.ceil(exact) : Math.floor(exact));
    }

    @Override
    public String toString() {
      return value + (percent ? "%" : "");
    }
  }

  /**
   * A smoke test: one request sent to the new version (by header-targeted routing) before it gets
   * user traffic.
   *
   * @param body text the answer must contain, empty for any
   * @param maxLatency the answer must come within this
   */
  record SmokeTest(String method, String path, int status, String body, Duration maxLatency) {
    public SmokeTest {
      requireNonNull(method, "method");
      requireNonNull(path, "path");
      requireNonNull(body, "body");
      requireNonNull(maxLatency, "maxLatency");
    }
  }

  /**
   * A custom analysis check: an HTTP webhook (2xx passes), a command (exit 0 passes) or a PromQL
   * expression (true passes).
   *
   * @param kind "webhook", "command" or "promql"
   * @param target the URL, the command line or the expression
   */
  record Check(String name, String kind, String target, Duration timeout) {
    public Check {
      requireNonNull(name, "name");
      requireNonNull(kind, "kind");
      requireNonNull(target, "target");
      requireNonNull(timeout, "timeout");
    }
  }

  /**
   * Traffic the built-in load generator sends through the route when an analysis lacks requests.
   *
   * @param rate requests per second
   * @param path request path
   */
  record Load(double rate, String path) {
    public Load {
      requireNonNull(path, "path");
      if (!(rate > 0)) {
        throw new IllegalArgumentException("rate must be > 0, but was " + rate);
      }
    }
  }

  /**
   * One canary step.
   *
   * @param weight percent of traffic, for WEIGHT
   * @param duration PAUSE length (null: until promoted by hand) or ANALYSIS window (null when the
   *     analysis is a template's)
   * @param template an ANALYSIS by a template's measured metrics, or null for the built-in
   *     comparison over a window
   */
  record Step(Kind kind, int weight, Duration duration, AnalysisTemplate.Use template) {
    /** What a step does. */
    public enum Kind {
      WEIGHT,
      PAUSE,
      ANALYSIS
    }

    /** A step without a template. */
    public Step(Kind kind, int weight, Duration duration) {
      this(kind, weight, duration, null);
    }

    public Step {
      requireNonNull(kind, "kind");
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("weight must be in 0..100, but was " + weight);
      }
      if (kind == Kind.ANALYSIS && template == null) {
        requireNonNull(duration, "duration");
      }
    }

    /** Sends percent of traffic to the canary. */
    public static Step weight(int percent) {
      return new Step(Kind.WEIGHT, percent, null);
    }

    /** Waits; null waits until promoted by hand. */
    public static Step pause(Duration d) {
      return new Step(Kind.PAUSE, 0, d);
    }

    /** Compares canary with stable over a window of traffic. */
    public static Step analysis(Duration window) {
      return new Step(Kind.ANALYSIS, 0, window);
    }

    /** Measures a template's metrics. */
    public static Step analysis(AnalysisTemplate.Use template) {
      return new Step(Kind.ANALYSIS, 0, null, requireNonNull(template, "template"));
    }
  }

  /**
   * Requests carrying a header or cookie whose value matches go to the new version.
   *
   * @param kind "header" or "cookie"
   * @param value the exact value ("*": any), the prefix, or the regular expression (RE2 syntax,
   *     matched against the whole value)
   * @param op "exact", "prefix" or "regex"
   */
  record MatchRule(String kind, String name, String value, String op) {
    /** An exact match ("*": any value). */
    public MatchRule(String kind, String name, String value) {
      this(kind, name, value, "exact");
    }

    public MatchRule {
      requireNonNull(kind, "kind");
      requireNonNull(name, "name");
      requireNonNull(value, "value");
      op = op == null ? "exact" : op; // rows stored before matches had an op
    }
  }
}
