package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A health check: an HTTP GET, a TCP connect or a command, with its schedule and thresholds.
 *
 * @param path HTTP path (kind HTTP), otherwise empty
 * @param port port to check; 0 means the instance's own port
 * @param command command and arguments (kind EXEC), otherwise empty
 */
public record Probe(
    Kind kind,
    String path,
    int port,
    List<String> command,
    Duration interval,
    Duration timeout,
    int failureThreshold,
    int successThreshold,
    Duration initialDelay) {

  /** What a probe does. */
  public enum Kind {
    HTTP,
    TCP,
    EXEC
  }

  public Probe {
    requireNonNull(kind, "kind");
    requireNonNull(path, "path");
    command = List.copyOf(command);
    requirePositive(interval, "interval");
    requirePositive(timeout, "timeout");
    requireNonNull(initialDelay, "initialDelay");
    if (failureThreshold < 1 || successThreshold < 1) {
      throw new IllegalArgumentException("thresholds must be >= 1");
    }
  }

  /** An HTTP probe with default schedule, for tests and defaults. */
  public static Probe http(String path) {
    return new Probe(
        Kind.HTTP,
        path,
        0,
        List.of(),
        Duration.ofSeconds(1),
        Duration.ofSeconds(1),
        3,
        1,
        Duration.ZERO);
  }

  private static void requirePositive(Duration d, String field) {
    requireNonNull(d, field);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, but was " + d);
    }
  }
}
