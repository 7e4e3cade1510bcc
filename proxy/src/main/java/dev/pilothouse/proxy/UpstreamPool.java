package dev.pilothouse.proxy;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Idle keep-alive connections to backends, one pool per event loop: used only from that loop's
 * thread, so it needs no locks, and a request's upstream runs on the same thread as its client.
 */
final class UpstreamPool {
  static final int MAX_IDLE_PER_BACKEND = 128;
  private final Map<String, ArrayDeque<UpstreamHandler>> idle = new HashMap<>();

  /** An open connection to the backend idle for less than maxIdleNanos, or null. */
  UpstreamHandler acquire(Backend b, long maxIdleNanos, long now) {
    ArrayDeque<UpstreamHandler> q = idle.get(b.id());
    if (q == null) {
      return null;
    }
    UpstreamHandler h;
    while ((h = q.pollLast()) != null) {
      if (h.channel().isActive()
          && now - h.idleSince < maxIdleNanos
          && h.backend.port() == b.port()
          && h.backend.host().equals(b.host())) {
        return h;
      }
      h.channel().close();
    }
    return null;
  }

  /** Keeps a connection for reuse; closes it when the pool is full. */
  void release(Backend b, UpstreamHandler h) {
    ArrayDeque<UpstreamHandler> q = idle.computeIfAbsent(b.id(), k -> new ArrayDeque<>());
    if (q.size() >= MAX_IDLE_PER_BACKEND || !h.channel().isActive()) {
      h.channel().close();
      return;
    }
    q.addLast(h);
  }

  /** Forgets a connection that closed while idle. */
  void remove(Backend b, UpstreamHandler h) {
    ArrayDeque<UpstreamHandler> q = idle.get(b.id());
    if (q != null) {
      q.remove(h);
    }
  }
}
