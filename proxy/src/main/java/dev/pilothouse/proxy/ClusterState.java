package dev.pilothouse.proxy;

import java.util.concurrent.atomic.AtomicInteger;

/** Counters of one service's traffic: active requests, pending connects and active retries. */
final class ClusterState {
  final AtomicInteger active = new AtomicInteger();
  final AtomicInteger pending = new AtomicInteger();
  final AtomicInteger retries = new AtomicInteger();

  /** Requests waiting now for a first ready instance (a route held while scaled to zero). */
  final AtomicInteger held = new AtomicInteger();

  /** Requests that found no ready instance, so far: the demand that wakes a service at zero. */
  final java.util.concurrent.atomic.AtomicLong cold = new java.util.concurrent.atomic.AtomicLong();

  /** Whether one more retry fits in the budget: budget × active requests, at least minRetries. */
  boolean retryAllowed(double budget, int minRetries) {
    int allowed = Math.max(minRetries, (int) (active.get() * budget));
    return retries.get() < allowed;
  }
}
