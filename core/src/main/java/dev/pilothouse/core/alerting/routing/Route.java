package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A node of Alertmanager's routing tree. Unset settings are inherited from the parent when the
 * config is read, so every node carries its effective values.
 *
 * @param groupBy label names alerts are grouped by; {@code ["..."]} groups by every label
 * @param cont Alertmanager's {@code continue}: keep matching the following siblings
 */
public record Route(
    String receiver,
    List<String> groupBy,
    Duration groupWait,
    Duration groupInterval,
    Duration repeatInterval,
    List<LabelMatcher> matchers,
    boolean cont,
    List<String> muteTimeIntervals,
    List<String> activeTimeIntervals,
    List<Route> routes) {
  public Route {
    requireNonNull(receiver, "receiver");
    groupBy = List.copyOf(groupBy);
    requireNonNull(groupWait, "groupWait");
    requireNonNull(groupInterval, "groupInterval");
    requireNonNull(repeatInterval, "repeatInterval");
    matchers = List.copyOf(matchers);
    muteTimeIntervals = List.copyOf(muteTimeIntervals);
    activeTimeIntervals = List.copyOf(activeTimeIntervals);
    routes = List.copyOf(routes);
  }

  /** Whether alerts are grouped by all their labels ({@code group_by: ['...']}). */
  public boolean groupByAll() {
    return groupBy.contains("...");
  }
}
