package dev.pilothouse.core.instance;

import java.time.Instant;

/** One replica position of a service: its restart history and backoff. */
final class Slot {
  int failures;
  Instant nextStartAt = Instant.MIN;
  boolean crashLoop;
  boolean completed;
  int restarts;

  void reset() {
    failures = 0;
    nextStartAt = Instant.MIN;
    crashLoop = false;
    completed = false;
  }
}
