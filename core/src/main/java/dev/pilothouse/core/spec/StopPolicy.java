package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How an instance is stopped: a signal, then SIGKILL after the timeout.
 *
 * @param signal signal name without the SIG prefix, such as TERM, INT, QUIT, HUP
 */
public record StopPolicy(String signal, Duration timeout) {

  public StopPolicy {
    requireNonNull(signal, "signal");
    requireNonNull(timeout, "timeout");
  }

  /** SIGTERM, then SIGKILL after 10 seconds. */
  public static StopPolicy defaults() {
    return new StopPolicy("TERM", Duration.ofSeconds(10));
  }
}
