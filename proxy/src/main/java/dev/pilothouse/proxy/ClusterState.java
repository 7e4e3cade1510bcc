package dev.pilothouse.proxy;

import java.util.concurrent.atomic.AtomicInteger;

/** Counters of one service's traffic: active requests, pending connects and active retries. */
final class ClusterState {
  final AtomicInteger active = new AtomicInteger();
  final AtomicInteger pending = new AtomicInteger();
  final AtomicInteger retries = new AtomicInteger();

  /** Whether one more retry fits in the budget: budget × active requests, at least minRetries. */
  boolean retryAllowed(double budget, int minRetries) {
    int allowed = Math.max(minRetries, (int) (active.get() * budget));
    return retries.get() < allowed;
  }
}
