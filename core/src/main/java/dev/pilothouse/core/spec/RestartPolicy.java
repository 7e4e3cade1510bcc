package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * When and how fast exited instances are restarted.
 *
 * @param mode always restart, restart only after a non-zero exit, or never
 * @param initialBackoff delay before the first restart
 * @param maxBackoff the cap on the delay
 * @param multiplier growth of the delay per consecutive failure
 * @param jitter fraction in [0, 1) by which each delay is randomly shortened or lengthened
 * @param resetAfter an instance up this long resets the failure count
 * @param maxRestarts consecutive failures after which the slot gives up (crash loop)
 */
public record RestartPolicy(
    Mode mode,
    Duration initialBackoff,
    Duration maxBackoff,
    double multiplier,
    double jitter,
    Duration resetAfter,
    int maxRestarts) {

  /** Which exits lead to a restart. */
  public enum Mode {
    ALWAYS,
    ON_FAILURE,
    NEVER
  }

  public RestartPolicy {
    requireNonNull(mode, "mode");
    requireNonNull(initialBackoff, "initialBackoff");
    requireNonNull(maxBackoff, "maxBackoff");
    requireNonNull(resetAfter, "resetAfter");
    if (multiplier < 1.0) {
      throw new IllegalArgumentException("multiplier must be >= 1, but was " + multiplier);
    }
    if (jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("jitter must be in [0, 1), but was " + jitter);
    }
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("maxRestarts must be >= 0, but was " + maxRestarts);
    }
  }

  /** The defaults: restart always, 250ms doubling to 30s, 20% jitter, reset after 60s, 6 tries. */
  public static RestartPolicy defaults() {
    return new RestartPolicy(
        Mode.ALWAYS,
        Duration.ofMillis(250),
        Duration.ofSeconds(30),
        2.0,
        0.2,
        Duration.ofSeconds(60),
        6);
  }
}
