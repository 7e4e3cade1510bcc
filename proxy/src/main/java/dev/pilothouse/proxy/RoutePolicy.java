package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * How a route treats its requests: timeouts, retries, limits, outlier ejection, rate limit and
 * fault injection.
 */
public record RoutePolicy(
    Duration connectTimeout,
    Duration requestTimeout,
    Duration idleTimeout,
    int retries,
    double retryBudget,
    int minRetries,
    Balancing balancing,
    int maxConnections,
    int maxPending,
    int maxRequests,
    Outlier outlier,
    RateLimit rateLimit,
    Fault fault,
    Hold hold) {

  /** A policy that answers at once when the route has no ready instance. */
  public RoutePolicy(
      Duration connectTimeout,
      Duration requestTimeout,
      Duration idleTimeout,
      int retries,
      double retryBudget,
      int minRetries,
      Balancing balancing,
      int maxConnections,
      int maxPending,
      int maxRequests,
      Outlier outlier,
      RateLimit rateLimit,
      Fault fault) {
    this(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        rateLimit,
        fault,
        Hold.NONE);
  }

  /**
   * Requests that find no ready instance wait for one (a service scaled to zero starting its
   * first): at most maxHeld at once per route, each at most timeout, then 503 with Retry-After.
   *
   * @param timeout zero: no waiting, 503 at once
   */
  public record Hold(Duration timeout, int maxHeld) {
    public static final Hold NONE = new Hold(Duration.ZERO, 0);

    public Hold {
      requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || maxHeld < 0) {
        throw new IllegalArgumentException("hold timeout and maxHeld must not be negative");
      }
    }

    boolean active() {
      return !timeout.isZero() && maxHeld > 0;
    }
  }

  /** Load-balancing policies. */
  public enum Balancing {
    ROUND_ROBIN,
    LEAST_REQUEST
  }

  /**
   * Passive outlier ejection.
   *
   * @param consecutiveFailures 5xx answers or connect failures in a row that eject a backend
   * @param baseEjection first ejection time; the n-th ejection lasts n times as long
   * @param maxEjectedPercent at most this share of a group's backends is ejected at once
   */
  public record Outlier(int consecutiveFailures, Duration baseEjection, int maxEjectedPercent) {
    public Outlier {
      requireNonNull(baseEjection, "baseEjection");
    }
  }

  /**
   * A token bucket: requestsPerSecond refill, burst capacity.
   *
   * @param requestsPerSecond 0 disables
   */
  public record RateLimit(double requestsPerSecond, long burst) {}

  /**
   * Fault injection, off unless a percent is above 0.
   *
   * @param header when non-empty, only requests carrying this header are affected
   * @param callers when non-empty, only requests whose connection comes from a process of one of
   *     these sessions (an instance's process group leader, see {@link Callers}) are affected
   * @param silent aborted requests get no answer: the connection is held, unread, until the route's
   *     request timeout and then closed (a black hole), instead of {@code abortStatus}
   */
  public record Fault(
      Duration delay,
      double delayPercent,
      int abortStatus,
      double abortPercent,
      String header,
      List<Long> callers,
      boolean silent) {
    public Fault {
      requireNonNull(delay, "delay");
      requireNonNull(header, "header");
      callers = List.copyOf(callers);
    }

    public Fault(
        Duration delay, double delayPercent, int abortStatus, double abortPercent, String header) {
      this(delay, delayPercent, abortStatus, abortPercent, header, List.of(), false);
    }

    /** No faults. */
    public static Fault none() {
      return new Fault(Duration.ZERO, 0, 503, 0, "");
    }

    boolean active() {
      return delayPercent > 0 || abortPercent > 0;
    }
  }

  public RoutePolicy {
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(requestTimeout, "requestTimeout");
    requireNonNull(idleTimeout, "idleTimeout");
    requireNonNull(balancing, "balancing");
    requireNonNull(outlier, "outlier");
    requireNonNull(rateLimit, "rateLimit");
    requireNonNull(fault, "fault");
    hold = hold == null ? Hold.NONE : hold;
  }

  /** A copy that holds requests finding no ready instance (a service scaled to zero). */
  public RoutePolicy withHold(Hold h) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        rateLimit,
        fault,
        h);
  }

  /** A copy with another balancing policy. */
  public RoutePolicy withBalancing(Balancing b) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        b,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        rateLimit,
        fault,
        hold);
  }

  /** A copy with another request timeout. */
  public RoutePolicy withRequestTimeout(Duration d) {
    return new RoutePolicy(
        connectTimeout,
        d,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        rateLimit,
        fault,
        hold);
  }

  /** A copy with other outlier ejection settings. */
  public RoutePolicy withOutlier(Outlier o) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        o,
        rateLimit,
        fault,
        hold);
  }

  /** A copy with another rate limit. */
  public RoutePolicy withRateLimit(RateLimit r) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        r,
        fault);
  }

  /** A copy with other injected faults. */
  public RoutePolicy withFault(Fault f) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        retries,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        maxRequests,
        outlier,
        rateLimit,
        f);
  }

  /** A copy with other retries and request limit. */
  public RoutePolicy withRetriesAndMaxRequests(int n, int max) {
    return new RoutePolicy(
        connectTimeout,
        requestTimeout,
        idleTimeout,
        n,
        retryBudget,
        minRetries,
        balancing,
        maxConnections,
        maxPending,
        max,
        outlier,
        rateLimit,
        fault,
        hold);
  }

  /**
   * Sensible defaults: 1s connect, 15s to response headers, 60s idle, 2 retries in a 20% budget.
   */
  public static RoutePolicy defaults() {
    return new RoutePolicy(
        Duration.ofSeconds(1),
        Duration.ofSeconds(15),
        Duration.ofSeconds(60),
        2,
        0.2,
        3,
        Balancing.LEAST_REQUEST,
        10_000,
        1_000,
        10_000,
        new Outlier(5, Duration.ofSeconds(10), 50),
        new RateLimit(0, 0),
        Fault.none());
  }
}
