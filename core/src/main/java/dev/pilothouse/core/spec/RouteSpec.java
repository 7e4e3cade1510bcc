package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How the load balancer sends requests to a service.
 *
 * @param host Host header to match, empty for any
 * @param loadBalancer "round-robin" or "least-request"
 * @param requestsPerSecond rate limit; 0 for none
 */
public record RouteSpec(
    String host,
    String pathPrefix,
    boolean stripPrefix,
    Duration connectTimeout,
    Duration requestTimeout,
    Duration idleTimeout,
    int retries,
    double retryBudget,
    double requestsPerSecond,
    long burst,
    String loadBalancer,
    int maxConnections,
    int maxPending,
    int maxRequests,
    int outlierFailures,
    Duration outlierEjection,
    int maxEjectedPercent,
    Faults faults) {

  /**
   * Injected faults, for chaos experiments.
   *
   * @param header when non-empty, only requests with this header are affected
   */
  public record Faults(
      Duration delay, double delayPercent, int abortStatus, double abortPercent, String header) {
    public Faults {
      requireNonNull(delay, "delay");
      requireNonNull(header, "header");
    }

    /** No faults. */
    public static Faults none() {
      return new Faults(Duration.ZERO, 0, 503, 0, "");
    }
  }

  public RouteSpec {
    requireNonNull(host, "host");
    requireNonNull(pathPrefix, "pathPrefix");
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(requestTimeout, "requestTimeout");
    // Revisions stored before this field existed read it as null.
    idleTimeout = idleTimeout == null ? Duration.ofSeconds(60) : idleTimeout;
    requireNonNull(loadBalancer, "loadBalancer");
    requireNonNull(outlierEjection, "outlierEjection");
    requireNonNull(faults, "faults");
  }

  /** Everything to "/" with the defaults documented in docs/spec.md. */
  public static RouteSpec defaults(String pathPrefix) {
    return new RouteSpec(
        "",
        pathPrefix,
        false,
        Duration.ofSeconds(1),
        Duration.ofSeconds(15),
        Duration.ofSeconds(60),
        2,
        0.2,
        0,
        0,
        "least-request",
        10_000,
        1_000,
        10_000,
        5,
        Duration.ofSeconds(10),
        50,
        Faults.none());
  }
}
