package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A set of backends sharing a traffic weight, such as "stable" and "canary".
 *
 * @param weight integer share of the route's traffic among groups; 0 gets only matched traffic
 */
public record BackendGroup(String name, int weight, List<Backend> backends) {
  public BackendGroup {
    requireNonNull(name, "name");
    backends = List.copyOf(backends);
    if (weight < 0) {
      throw new IllegalArgumentException("group weight must be >= 0, but was " + weight);
    }
  }
}
