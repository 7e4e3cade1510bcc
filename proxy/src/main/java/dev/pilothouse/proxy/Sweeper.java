package dev.pilothouse.proxy;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks request deadlines and idle client connections of one event loop every few tens of
 * milliseconds. Cheaper than a scheduled task per request: a request only stores its deadline.
 */
final class Sweeper implements Runnable {
  static final long PERIOD_MS = 50;
  private final List<FrontendHandler> connections = new ArrayList<>();
  private final long idleNanos;
  private final Ticker ticker;

  Sweeper(long idleNanos, Ticker ticker) {
    this.idleNanos = idleNanos;
    this.ticker = ticker;
  }

  void add(FrontendHandler h) {
    connections.add(h);
  }

  void remove(FrontendHandler h) {
    connections.remove(h);
  }

  @Override
  public void run() {
    long now = ticker.nanoTime();
    for (int i = connections.size() - 1; i >= 0; i--) {
      if (i < connections.size()) {
        connections.get(i).sweep(now, idleNanos);
      }
    }
  }
}
