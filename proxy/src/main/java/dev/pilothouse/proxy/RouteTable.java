package dev.pilothouse.proxy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An immutable snapshot of every route, indexed for matching by host and longest path prefix. The
 * data plane swaps whole tables atomically; a request keeps the table it started with.
 */
public final class RouteTable {
  private static final RouteTable EMPTY = new RouteTable(List.of());
  private final List<Route> routes;
  private final Map<String, Route[]> byHost = new HashMap<>();
  private final Route[] anyHost;
  private final Map<BackendGroup, java.util.concurrent.atomic.AtomicLong> counters =
      new java.util.IdentityHashMap<>();

  private RouteTable(List<Route> routes) {
    this.routes = List.copyOf(routes);
    Comparator<Route> longestFirst =
        Comparator.comparingInt((Route r) -> r.pathPrefix().length()).reversed();
    List<Route> wildcard = new ArrayList<>();
    Map<String, List<Route>> hosts = new HashMap<>();
    for (Route r : routes) {
      if (r.host().isEmpty()) {
        wildcard.add(r);
      } else {
        hosts.computeIfAbsent(r.host().toLowerCase(Locale.ROOT), h -> new ArrayList<>()).add(r);
      }
    }
    wildcard.sort(longestFirst);
    this.anyHost = wildcard.toArray(Route[]::new);
    for (Route r : routes) {
      for (BackendGroup g : r.groups()) {
        counters.put(g, new java.util.concurrent.atomic.AtomicLong());
      }
    }
    hosts.forEach(
        (h, list) -> {
          list.sort(longestFirst);
          byHost.put(h, list.toArray(Route[]::new));
        });
  }

  /** The round-robin position of a group of this table (restarts with each new table). */
  java.util.concurrent.atomic.AtomicLong counter(BackendGroup g) {
    return counters.get(g);
  }

  /** A table of these routes. */
  public static RouteTable of(List<Route> routes) {
    return routes.isEmpty() ? EMPTY : new RouteTable(routes);
  }

  /** The empty table: every request gets 404. */
  public static RouteTable empty() {
    return EMPTY;
  }

  public List<Route> routes() {
    return routes;
  }

  /**
   * The route for a request: host-specific routes first, then any-host routes; the longest matching
   * prefix within each. Null when nothing matches.
   *
   * @param hostHeader the Host header, possibly with a port, possibly null
   */
  public Route match(String hostHeader, String path) {
    if (hostHeader != null && !byHost.isEmpty()) {
      Route[] candidates = byHost.get(hostOnly(hostHeader));
      if (candidates != null) {
        Route r = longest(candidates, path);
        if (r != null) {
          return r;
        }
      }
    }
    return longest(anyHost, path);
  }

  private static Route longest(Route[] candidates, String path) {
    for (Route r : candidates) {
      String p = r.pathPrefix();
      if (path.startsWith(p)
          && (p.length() == path.length()
              || p.endsWith("/")
              || path.charAt(p.length()) == '/'
              || path.charAt(p.length()) == '?')) {
        return r;
      }
    }
    return null;
  }

  static String hostOnly(String host) {
    int colon = host.lastIndexOf(':');
    String h = colon > 0 && host.indexOf(']') < colon ? host.substring(0, colon) : host;
    return h.toLowerCase(Locale.ROOT);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RouteTable t && t.routes.equals(routes);
  }

  @Override
  public int hashCode() {
    return routes.hashCode();
  }
}
