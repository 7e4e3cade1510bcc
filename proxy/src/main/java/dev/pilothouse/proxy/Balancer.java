package dev.pilothouse.proxy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Picks a backend of a group: weighted round robin or least-request (power of two choices). */
final class Balancer {
  private Balancer() {}

  /**
   * A backend of the group that is not ejected and not in exclude (unless nothing else is left), or
   * null when the group is empty.
   */
  static Backend pick(
      List<Backend> backends,
      RoutePolicy.Balancing policy,
      AtomicLong counter,
      Map<String, BackendState> states,
      Backend exclude1,
      Backend exclude2,
      long now) {
    int n = backends.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return backends.get(0);
    }
    Backend chosen =
        policy == RoutePolicy.Balancing.ROUND_ROBIN
            ? roundRobin(backends, counter, states, exclude1, exclude2, now, true)
            : leastRequest(backends, states, exclude1, exclude2, now);
    if (chosen == null) {
      // Everything is ejected or excluded: panic mode, spread over all rather than fail.
      chosen = roundRobin(backends, counter, states, null, null, now, false);
    }
    return chosen;
  }

  private static boolean usable(
      Backend b,
      Map<String, BackendState> states,
      Backend x1,
      Backend x2,
      long now,
      boolean checkEjection) {
    if (b == x1 || b == x2) {
      return false;
    }
    if (!checkEjection) {
      return true;
    }
    BackendState s = states.get(b.id());
    return s == null || !s.ejected(now);
  }

  private static Backend roundRobin(
      List<Backend> backends,
      AtomicLong counter,
      Map<String, BackendState> states,
      Backend x1,
      Backend x2,
      long now,
      boolean checkEjection) {
    int n = backends.size();
    int total = 0;
    for (int i = 0; i < n; i++) {
      total += backends.get(i).weight();
    }
    long c = counter == null ? ThreadLocalRandom.current().nextLong() : counter.getAndIncrement();
    long slot = Math.floorMod(c, (long) total);
    int i = 0;
    long acc = backends.get(0).weight();
    while (acc <= slot) {
      acc += backends.get(++i).weight();
    }
    for (int tries = 0; tries < n; tries++) {
      Backend b = backends.get((i + tries) % n);
      if (usable(b, states, x1, x2, now, checkEjection)) {
        return b;
      }
    }
    return null;
  }

  private static Backend leastRequest(
      List<Backend> backends, Map<String, BackendState> states, Backend x1, Backend x2, long now) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    int n = backends.size();
    Backend a = null;
    Backend b = null;
    for (int tries = 0; tries < 2 * n && (a == null || b == null); tries++) {
      Backend c = backends.get(weightedIndex(backends, r));
      if (!usable(c, states, x1, x2, now, true)) {
        continue;
      }
      if (a == null) {
        a = c;
      } else if (c != a) {
        b = c;
      }
    }
    if (a == null) {
      for (Backend c : backends) {
        if (usable(c, states, x1, x2, now, true)) {
          return c;
        }
      }
      return null;
    }
    if (b == null) {
      return a;
    }
    return load(a, states) <= load(b, states) ? a : b;
  }

  private static double load(Backend b, Map<String, BackendState> states) {
    BackendState s = states.get(b.id());
    return (s == null ? 0 : s.active.get()) / (double) b.weight();
  }

  private static int weightedIndex(List<Backend> backends, ThreadLocalRandom r) {
    int n = backends.size();
    boolean uniform = true;
    int total = 0;
    for (int i = 0; i < n; i++) {
      int w = backends.get(i).weight();
      total += w;
      uniform &= w == 1;
    }
    if (uniform) {
      return r.nextInt(n);
    }
    int x = r.nextInt(total);
    for (int i = 0; i < n; i++) {
      x -= backends.get(i).weight();
      if (x < 0) {
        return i;
      }
    }
    return n - 1;
  }
}
