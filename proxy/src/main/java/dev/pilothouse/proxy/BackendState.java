package dev.pilothouse.proxy;

import java.util.concurrent.atomic.AtomicInteger;

/** Live counters of one backend, kept across route-table swaps by backend id. */
final class BackendState {
  final String id;
  final AtomicInteger active = new AtomicInteger();
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger consecutiveFailures = new AtomicInteger();
  final AtomicInteger ejections = new AtomicInteger();
  volatile long ejectedUntilNanos;
  volatile Series series;

  BackendState(String id) {
    this.id = id;
  }

  boolean ejected(long now) {
    long until = ejectedUntilNanos;
    return until != 0 && now - until < 0;
  }
}
