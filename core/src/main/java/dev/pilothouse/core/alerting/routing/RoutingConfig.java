package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/** Alertmanager's configuration as the router uses it: the tree, receivers, inhibition, time. */
public record RoutingConfig(
    Route route,
    List<Receiver> receivers,
    List<InhibitRule> inhibitRules,
    List<TimeInterval> timeIntervals) {
  public RoutingConfig {
    requireNonNull(route, "route");
    receivers = List.copyOf(receivers);
    inhibitRules = List.copyOf(inhibitRules);
    timeIntervals = List.copyOf(timeIntervals);
  }

  public Optional<Receiver> receiver(String name) {
    return receivers.stream().filter(r -> r.name().equals(name)).findFirst();
  }
}
