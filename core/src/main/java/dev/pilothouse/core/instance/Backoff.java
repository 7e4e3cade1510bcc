package dev.pilothouse.core.instance;

import dev.pilothouse.core.spec.RestartPolicy;
import java.time.Duration;
import java.util.random.RandomGenerator;

/** Exponential backoff with jitter and a cap. */
public final class Backoff {
  private Backoff() {}

  /**
   * The delay before restart number {@code failures} (1 for the first restart): initial ×
   * multiplier^(failures-1), capped, then spread by ±jitter, and capped again.
   */
  public static Duration delay(RestartPolicy p, int failures, RandomGenerator random) {
    if (failures < 1) {
      throw new IllegalArgumentException("failures must be >= 1, but was " + failures);
    }
    double cap = p.maxBackoff().toNanos();
    double base =
        Math.min(cap, p.initialBackoff().toNanos() * Math.pow(p.multiplier(), failures - 1));
    double spread = 1 - p.jitter() + 2 * p.jitter() * random.nextDouble();
    return Duration.ofNanos((long) Math.min(cap, base * spread));
  }
}
