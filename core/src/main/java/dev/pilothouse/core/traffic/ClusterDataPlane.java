package dev.pilothouse.core.traffic;

import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.Spec;
import java.util.List;

/**
 * A cluster's Pilothouse data plane and what it routes: the services placed in that cluster and
 * their pods.
 *
 * @param region the region's name, or empty for the spec's one runtime
 * @param spec the part of the spec the cluster runs
 * @param status its services, their instances carrying their pods' addresses
 * @param endpoints its proxies
 */
public record ClusterDataPlane(
    String region, Spec spec, List<ServiceStatus> status, List<DataPlaneEndpoint> endpoints) {
  public ClusterDataPlane {
    status = List.copyOf(status);
    endpoints = List.copyOf(endpoints);
  }
}
