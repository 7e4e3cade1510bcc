package dev.pilothouse.alerting.routing;

import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A route of the tree with its compiled matchers and Alertmanager's key. */
final class RouteNode {
  final Route route;
  final String key;
  private final Matchers matchers;
  private final List<RouteNode> children = new ArrayList<>();

  RouteNode(Route route, RouteNode parent) {
    this.route = route;
    StringBuilder ms = new StringBuilder("{");
    for (int i = 0; i < route.matchers().size(); i++) {
      LabelMatcher m = route.matchers().get(i);
      ms.append(i == 0 ? "" : ",").append(m);
    }
    ms.append('}');
    this.key = parent == null ? ms.toString() : parent.key + "/" + ms;
    this.matchers = Matchers.of(route.matchers());
    for (Route r : route.routes()) {
      children.add(new RouteNode(r, this));
    }
  }

  /**
   * The routes an alert goes to: the deepest matching routes, the first matching child only unless
   * it has {@code continue}; this route when no child matches.
   */
  List<RouteNode> match(Map<String, String> labels) {
    if (!matchers.matches(labels)) {
      return List.of();
    }
    List<RouteNode> all = new ArrayList<>();
    for (RouteNode c : children) {
      List<RouteNode> m = c.match(labels);
      all.addAll(m);
      if (!m.isEmpty() && !c.route.cont()) {
        break;
      }
    }
    if (all.isEmpty()) {
      all.add(this);
    }
    return all;
  }

  /** The labels an alert is grouped by on this route. */
  Map<String, String> groupLabels(Map<String, String> labels) {
    if (route.groupByAll()) {
      return new TreeMap<>(labels);
    }
    Map<String, String> out = new TreeMap<>();
    for (String n : route.groupBy()) {
      String v = labels.get(n);
      if (v != null && !v.isEmpty()) {
        out.put(n, v);
      }
    }
    return out;
  }
}
