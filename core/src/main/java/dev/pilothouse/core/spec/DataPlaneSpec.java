package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

/**
 * Pilothouse's data plane running in a cluster ({@code runtime.dataPlane}): a Deployment of proxies
 * that route the cluster's services to their pods and split a canary's traffic by weight, driven by
 * the daemon over their control port.
 *
 * @param image the Pilothouse image (built from {@code deploy/kubernetes/Dockerfile}) the proxies
 *     run
 * @param replicas how many proxies
 * @param serviceType the type of the Service in front of them: ClusterIP, NodePort or LoadBalancer
 */
public record DataPlaneSpec(String image, int replicas, String serviceType) {
  /** The Service types there are. */
  public static final java.util.List<String> SERVICE_TYPES =
      java.util.List.of("ClusterIP", "NodePort", "LoadBalancer");

  public DataPlaneSpec {
    requireNonNull(image, "image");
    requireNonNull(serviceType, "serviceType");
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas must be at least 1, but was " + replicas);
    }
    if (!SERVICE_TYPES.contains(serviceType)) {
      throw new IllegalArgumentException("unknown Service type " + serviceType);
    }
  }
}
