package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * How a service's new version is rolled out: by rolling replacement, as a canary or blue-green.
 * Canary and blue-green plans hold traffic steps, the new set's size, targeting rules, smoke tests,
 * deadlines, the thresholds of the statistical analysis, custom checks and the post-deploy
 * validation window. (The name is historical: the record describes every strategy.)
 *
 * @param canaryReplicas instances of the new version run beside the stable ones
 * @param match requests matching any rule always go to the canary
 * @param progressDeadline the new version must be ready within this, or the deploy rolls back
 * @param maxAnalysisWait an analysis short of traffic waits at most this long, then pauses
 * @param alpha significance level of the tests
 * @param minRequests requests each side needs before a metric is judged
 * @param maxErrorRateIncrease tolerated absolute increase of the error rate
 * @param maxLatencyIncreaseMs tolerated latency shift in milliseconds
 * @param maxLatencyIncreaseRatio tolerated latency shift relative to the stable median
 * @param kind rolling, canary or blue-green
 * @param maxSurge rolling: instances started above the replica count while replacing
 * @param maxUnavailable rolling: instances that may be missing while replacing
 * @param smoke requests the new version must answer as expected before it gets user traffic
 * @param checks custom checks run at every analysis step
 * @param load built-in load generator driven when an analysis is short of traffic, or null
 * @param validation after promotion, how long the new version is still watched (zero: not)
 * @param sticky a client keeps the side (stable or canary) it was first sent to, by a cookie
 * @param rollbackWindow blue-green: how long the old set stays warm after the switch
 */
public record CanarySpec(
    List<Step> steps,
    int canaryReplicas,
    List<MatchRule> match,
    Duration progressDeadline,
    Duration maxAnalysisWait,
    double alpha,
    int minRequests,
    double maxErrorRateIncrease,
    double maxLatencyIncreaseMs,
    double maxLatencyIncreaseRatio,
    Kind kind,
    Amount maxSurge,
    Amount maxUnavailable,
    List<SmokeTest> smoke,
    List<Check> checks,
    Load load,
    Duration validation,
    boolean sticky,
    Duration rollbackWindow) {

  /** The deploy strategy. */
  public enum Kind {
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
   * A count of instances, absolute or as a percentage of the replica count.
   *
   * @param value instances, or percent when percent is set
   */
  public record Amount(int value, boolean percent) {
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
  public record SmokeTest(
      String method, String path, int status, String body, Duration maxLatency) {
    public SmokeTest {
      requireNonNull(method, "method");
      requireNonNull(path, "path");
      requireNonNull(body, "body");
      requireNonNull(maxLatency, "maxLatency");
    }
  }

  /**
   * A custom analysis check: an HTTP webhook (2xx passes) or a command (exit 0 passes).
   *
   * @param kind "webhook" or "command"
   * @param target the URL or the command line
   */
  public record Check(String name, String kind, String target, Duration timeout) {
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
  public record Load(double rate, String path) {
    public Load {
      requireNonNull(path, "path");
      if (!(rate > 0)) {
        throw new IllegalArgumentException("rate must be > 0, but was " + rate);
      }
    }
  }

  /**
   * One step.
   *
   * @param weight percent of traffic, for WEIGHT
   * @param duration PAUSE length (null: until promoted by hand) or ANALYSIS window
   */
  public record Step(Kind kind, int weight, Duration duration) {
    /** What a step does. */
    public enum Kind {
      WEIGHT,
      PAUSE,
      ANALYSIS
    }

    public Step {
      requireNonNull(kind, "kind");
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("weight must be in 0..100, but was " + weight);
      }
      if (kind == Kind.ANALYSIS) {
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
  }

  /**
   * Requests carrying a header or cookie with a value ("*": any) go to the canary.
   *
   * @param kind "header" or "cookie"
   */
  public record MatchRule(String kind, String name, String value) {
    public MatchRule {
      requireNonNull(kind, "kind");
      requireNonNull(name, "name");
      requireNonNull(value, "value");
    }
  }

  public CanarySpec {
    steps = List.copyOf(steps);
    match = List.copyOf(match);
    requireNonNull(progressDeadline, "progressDeadline");
    requireNonNull(maxAnalysisWait, "maxAnalysisWait");
    if (canaryReplicas < 1) {
      throw new IllegalArgumentException("canaryReplicas must be >= 1, but was " + canaryReplicas);
    }
    kind = kind == null ? Kind.CANARY : kind;
    maxSurge = maxSurge == null ? Amount.of(1) : maxSurge;
    maxUnavailable = maxUnavailable == null ? Amount.of(0) : maxUnavailable;
    smoke = smoke == null ? List.of() : List.copyOf(smoke);
    checks = checks == null ? List.of() : List.copyOf(checks);
    validation = validation == null ? Duration.ZERO : validation;
    rollbackWindow = rollbackWindow == null ? Duration.ZERO : rollbackWindow;
  }

  /** A canary plan without the later options (smoke tests, checks, validation...). */
  public CanarySpec(
      List<Step> steps,
      int canaryReplicas,
      List<MatchRule> match,
      Duration progressDeadline,
      Duration maxAnalysisWait,
      double alpha,
      int minRequests,
      double maxErrorRateIncrease,
      double maxLatencyIncreaseMs,
      double maxLatencyIncreaseRatio) {
    this(
        steps,
        canaryReplicas,
        match,
        progressDeadline,
        maxAnalysisWait,
        alpha,
        minRequests,
        maxErrorRateIncrease,
        maxLatencyIncreaseMs,
        maxLatencyIncreaseRatio,
        Kind.CANARY,
        null,
        null,
        null,
        null,
        null,
        null,
        false,
        null);
  }

  /** These steps with the documented defaults for everything else. */
  public static CanarySpec of(List<Step> steps) {
    return new CanarySpec(
        steps,
        1,
        List.of(),
        Duration.ofMinutes(10),
        Duration.ofMinutes(5),
        0.05,
        50,
        0.01,
        5,
        0.10);
  }

  /** The rolling plan a service without a strategy gets: surge 1, none unavailable. */
  public static CanarySpec rolling() {
    return rolling(Amount.of(1), Amount.of(0));
  }

  /** A rolling plan with these limits and the documented defaults for everything else. */
  public static CanarySpec rolling(Amount maxSurge, Amount maxUnavailable) {
    CanarySpec d = of(List.of());
    return new CanarySpec(
        List.of(),
        1,
        List.of(),
        d.progressDeadline,
        d.maxAnalysisWait,
        d.alpha,
        d.minRequests,
        d.maxErrorRateIncrease,
        d.maxLatencyIncreaseMs,
        d.maxLatencyIncreaseRatio,
        Kind.ROLLING,
        maxSurge,
        maxUnavailable,
        null,
        null,
        null,
        null,
        false,
        null);
  }

  /** A copy of another kind. */
  public CanarySpec withKind(Kind k) {
    return new CanarySpec(
        steps,
        canaryReplicas,
        match,
        progressDeadline,
        maxAnalysisWait,
        alpha,
        minRequests,
        maxErrorRateIncrease,
        maxLatencyIncreaseMs,
        maxLatencyIncreaseRatio,
        k,
        maxSurge,
        maxUnavailable,
        smoke,
        checks,
        load,
        validation,
        sticky,
        rollbackWindow);
  }
}
