package dev.pilothouse.core.instance;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/** Consecutive results and the pending check of one probe of one instance. */
final class ProbeState {
  int successes;
  int failures;
  Instant nextAt = Instant.MIN;
  CompletableFuture<Boolean> pending;

  /** Records a result; returns it. */
  boolean record(boolean passed) {
    if (passed) {
      successes++;
      failures = 0;
    } else {
      failures++;
      successes = 0;
    }
    return passed;
  }
}
