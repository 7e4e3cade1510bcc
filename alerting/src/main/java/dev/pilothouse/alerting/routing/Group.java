package dev.pilothouse.alerting.routing;

import dev.pilothouse.core.alerting.routing.Fingerprints;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An aggregation group: the alerts one route sends together because they share its group_by labels,
 * with the moment of its next flush (group_wait after it was made, then group_interval).
 */
final class Group {
  /**
   * An alert as the router holds it.
   *
   * @param endsAt when it resolved; null while firing
   * @param version changes with every update, so a delivery removes only what it saw
   */
  record Held(
      String fingerprint,
      Map<String, String> labels,
      Map<String, String> annotations,
      Instant startsAt,
      Instant endsAt,
      long version) {
    boolean resolved(Instant now) {
      return endsAt != null && !endsAt.isAfter(now);
    }
  }

  final RouteNode route;
  final Map<String, String> labels;
  final String key;
  final Map<String, Held> alerts = new LinkedHashMap<>();
  Instant nextFlush;
  boolean flushed;

  Group(RouteNode route, Map<String, String> labels, Instant now, Instant firstStartsAt) {
    this.route = route;
    this.labels = labels;
    this.key = route.key + ":" + Fingerprints.labelSet(labels);
    // A group whose first alert began longer than group_wait ago is flushed at once.
    Instant wait = now.plus(route.route.groupWait());
    this.nextFlush = firstStartsAt.plus(route.route.groupWait()).isBefore(now) ? now : wait;
  }

  /** Removes the resolved alerts a successful delivery carried, unless they changed since. */
  void removeDelivered(List<Held> resolved) {
    for (Held h : resolved) {
      Held now = alerts.get(h.fingerprint());
      if (now != null && now.version() == h.version()) {
        alerts.remove(h.fingerprint());
        delivered.put(h.fingerprint(), h.version());
      }
    }
  }

  /** Resolved alerts already delivered (by version), kept out when the rules report them again. */
  final Map<String, Long> delivered = new java.util.HashMap<>();

  List<Held> snapshot() {
    return new ArrayList<>(alerts.values());
  }
}
