package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Where requests for a host and path prefix go.
 *
 * @param host the Host header to match (without port), empty for any host
 * @param pathPrefix the longest matching prefix wins; "/" matches everything
 * @param stripPrefix remove the prefix from the path before forwarding
 * @param mirror a group that also receives a copy of each request (responses ignored), or empty
 * @param stickyCookie when not empty, a client is kept on the group it was first sent to by a
 *     cookie of this name, set by the proxy
 * @param mirrorPercent percent of the bodyless requests that are copied to the mirror group
 * @param hashBy "header:NAME" or "cookie:NAME": a request carrying it goes to the group its value
 *     hashes to (by weight), so one user always sees one group; empty for none
 */
public record Route(
    String name,
    String host,
    String pathPrefix,
    boolean stripPrefix,
    List<BackendGroup> groups,
    List<Match> matches,
    String mirror,
    RoutePolicy policy,
    String stickyCookie,
    int mirrorPercent,
    String hashBy) {

  /** A route without hashing by a user key. */
  public Route(
      String name,
      String host,
      String pathPrefix,
      boolean stripPrefix,
      List<BackendGroup> groups,
      List<Match> matches,
      String mirror,
      RoutePolicy policy,
      String stickyCookie,
      int mirrorPercent) {
    this(
        name,
        host,
        pathPrefix,
        stripPrefix,
        groups,
        matches,
        mirror,
        policy,
        stickyCookie,
        mirrorPercent,
        "");
  }

  /** A route that mirrors every bodyless request (if it mirrors). */
  public Route(
      String name,
      String host,
      String pathPrefix,
      boolean stripPrefix,
      List<BackendGroup> groups,
      List<Match> matches,
      String mirror,
      RoutePolicy policy,
      String stickyCookie) {
    this(name, host, pathPrefix, stripPrefix, groups, matches, mirror, policy, stickyCookie, 100);
  }

  /** A route without sticky sessions. */
  public Route(
      String name,
      String host,
      String pathPrefix,
      boolean stripPrefix,
      List<BackendGroup> groups,
      List<Match> matches,
      String mirror,
      RoutePolicy policy) {
    this(name, host, pathPrefix, stripPrefix, groups, matches, mirror, policy, "");
  }

  public Route {
    requireNonNull(stickyCookie, "stickyCookie");
    requireNonNull(hashBy, "hashBy");
    if (!hashBy.isEmpty() && !hashBy.startsWith("header:") && !hashBy.startsWith("cookie:")) {
      throw new IllegalArgumentException(
          "hashBy must be header:NAME or cookie:NAME, but was " + hashBy);
    }
    requireNonNull(name, "name");
    requireNonNull(host, "host");
    requireNonNull(pathPrefix, "pathPrefix");
    if (!pathPrefix.startsWith("/")) {
      throw new IllegalArgumentException("pathPrefix must start with '/', but was " + pathPrefix);
    }
    groups = List.copyOf(groups);
    matches = List.copyOf(matches);
    requireNonNull(mirror, "mirror");
    if (mirrorPercent < 1 || mirrorPercent > 100) {
      throw new IllegalArgumentException(
          "mirrorPercent must be in 1..100, but was " + mirrorPercent);
    }
    requireNonNull(policy, "policy");
  }

  /** A route of one "stable" group. */
  public static Route simple(
      String name, String prefix, List<Backend> backends, RoutePolicy policy) {
    return new Route(
        name,
        "",
        prefix,
        false,
        List.of(new BackendGroup("stable", 100, backends)),
        List.of(),
        "",
        policy);
  }

  /** The group with this name, if any. */
  public BackendGroup group(String groupName) {
    for (BackendGroup g : groups) {
      if (g.name().equals(groupName)) {
        return g;
      }
    }
    return null;
  }
}
