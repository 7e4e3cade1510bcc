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
  private final Map<String, Index> byHost = new HashMap<>();
  private final Index anyHost;
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
    this.anyHost = new Index(wildcard.toArray(Route[]::new));
    for (Route r : routes) {
      for (BackendGroup g : r.groups()) {
        counters.put(g, new java.util.concurrent.atomic.AtomicLong());
      }
    }
    hosts.forEach(
        (h, list) -> {
          list.sort(longestFirst);
          byHost.put(h, new Index(list.toArray(Route[]::new)));
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
      Index candidates = byHost.get(hostOnly(hostHeader));
      if (candidates != null) {
        Route r = candidates.match(path);
        if (r != null) {
          return r;
        }
      }
    }
    return anyHost.match(path);
  }

  /**
   * Routes of one host, longest prefix first. With many routes they are also bucketed by the first
   * path segment: a prefix only ever matches whole segments, so a path can only match routes of its
   * own first segment, or "/".
   */
  private static final class Index {
    private static final int BUCKET_FROM = 16;
    private final Route[] all;
    private final Map<String, Route[]> bySegment;
    private final Route[] root;

    Index(Route[] sorted) {
      this.all = sorted;
      if (sorted.length < BUCKET_FROM) {
        this.bySegment = null;
        this.root = null;
        return;
      }
      Map<String, List<Route>> buckets = new HashMap<>();
      List<Route> rootList = new ArrayList<>();
      for (Route r : sorted) {
        String seg = firstSegment(r.pathPrefix());
        if (seg.isEmpty()) {
          rootList.add(r);
        } else {
          buckets.computeIfAbsent(seg, k -> new ArrayList<>()).add(r);
        }
      }
      this.bySegment = new HashMap<>();
      buckets.forEach((k, v) -> bySegment.put(k, v.toArray(Route[]::new)));
      this.root = rootList.toArray(Route[]::new);
    }

    Route match(String path) {
      if (bySegment == null) {
        return longest(all, path);
      }
      Route[] bucket = bySegment.get(firstSegment(path));
      if (bucket != null) {
        Route r = longest(bucket, path);
        if (r != null) {
          return r;
        }
      }
      return longest(root, path);
    }
  }

  /**
   * "api" for "/api/v1/x"; empty for "/" or a prefix such as "/api/" without a full first segment.
   */
  static String firstSegment(String path) {
    int end = path.indexOf('/', 1);
    return end < 0 ? path.substring(Math.min(1, path.length())) : path.substring(1, end);
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
