package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.net.URI;

/**
 * One region of a multi-region spec: a cluster runtime, the address its traffic enters by, and its
 * share of the traffic the built-in load balancer sends to the services placed there.
 *
 * @param name the region's name in the spec ({@code regions.NAME}) and in placements
 * @param runtime the cluster the region's services run in
 * @param endpoint where the region's traffic enters (its Gateway or ingress): {@code
 *     http://HOST:PORT}
 * @param weight the region's share of the traffic, 0–100 (0: drained, as after a failover)
 */
public record RegionSpec(String name, RuntimeSpec runtime, URI endpoint, int weight) {
  public RegionSpec {
    requireNonNull(name, "name");
    requireNonNull(runtime, "runtime");
    requireNonNull(endpoint, "endpoint");
    if (weight < 0 || weight > 100) {
      throw new IllegalArgumentException("weight must be in 0..100, but was " + weight);
    }
  }

  /** A copy with another weight. */
  public RegionSpec withWeight(int w) {
    return new RegionSpec(name, runtime, endpoint, w);
  }

  /** The endpoint's port (80 when the URL names none). */
  public int port() {
    return endpoint.getPort() > 0 ? endpoint.getPort() : 80;
  }
}
