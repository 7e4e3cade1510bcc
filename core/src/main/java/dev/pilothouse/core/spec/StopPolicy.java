package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How an instance is stopped: drained of requests, then a signal, then SIGKILL after the timeout.
 *
 * @param signal signal name without the SIG prefix, such as TERM, INT, QUIT, HUP
 * @param drainTimeout longest wait for in-flight requests to finish before the signal
 */
public record StopPolicy(String signal, Duration timeout, Duration drainTimeout) {

  public StopPolicy {
    requireNonNull(signal, "signal");
    requireNonNull(timeout, "timeout");
    requireNonNull(drainTimeout, "drainTimeout");
  }

  /** A policy with the default 15s drain timeout. */
  public StopPolicy(String signal, Duration timeout) {
    this(signal, timeout, Duration.ofSeconds(15));
  }

  /** Drain for up to 15s, SIGTERM, then SIGKILL after 10 seconds. */
  public static StopPolicy defaults() {
    return new StopPolicy("TERM", Duration.ofSeconds(10), Duration.ofSeconds(15));
  }
}
