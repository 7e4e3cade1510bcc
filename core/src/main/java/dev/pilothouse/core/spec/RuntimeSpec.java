package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

/**
 * Where a spec's services run.
 *
 * @param kind local processes on this machine, or Deployments in a Kubernetes namespace
 * @param namespace the Kubernetes namespace (kind KUBERNETES); empty for local
 * @param kubeconfig path of the kubeconfig file; empty: the in-cluster service account when the
 *     daemon runs in a pod, else {@code $KUBECONFIG} or {@code ~/.kube/config}
 * @param context the kubeconfig context to use; empty: its current context
 * @param gateway the Gateway API Gateway ({@code NAME} or {@code NAMESPACE/NAME}) whose HTTPRoutes
 *     split routed services' traffic by weight during canaries; empty: traffic splits by instance
 *     count behind one Service
 * @param hpa autoscaled services get a HorizontalPodAutoscaler, which then owns their replica
 *     count, instead of Pilothouse's autoscaler
 * @param dataPlane Pilothouse's proxies in the cluster, which route its services and split their
 *     canaries' traffic by weight; null for none
 */
public record RuntimeSpec(
    Kind kind,
    String namespace,
    String kubeconfig,
    String context,
    String gateway,
    boolean hpa,
    DataPlaneSpec dataPlane) {
  /** A runtime without Pilothouse's data plane in it. */
  public RuntimeSpec(
      Kind kind, String namespace, String kubeconfig, String context, String gateway, boolean hpa) {
    this(kind, namespace, kubeconfig, context, gateway, hpa, null);
  }

  /** A runtime without a Gateway. */
  public RuntimeSpec(Kind kind, String namespace, String kubeconfig, String context) {
    this(kind, namespace, kubeconfig, context, "", false);
  }

  /** A runtime whose autoscaled services are scaled by Pilothouse. */
  public RuntimeSpec(
      Kind kind, String namespace, String kubeconfig, String context, String gateway) {
    this(kind, namespace, kubeconfig, context, gateway, false);
  }

  /** The runtimes there are. */
  public enum Kind {
    LOCAL,
    KUBERNETES;

    /** The spec's spelling. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public RuntimeSpec {
    requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    kubeconfig = kubeconfig == null ? "" : kubeconfig;
    context = context == null ? "" : context;
    gateway = gateway == null ? "" : gateway;
  }

  /** Local processes: the default. */
  public static RuntimeSpec local() {
    return new RuntimeSpec(Kind.LOCAL, "", "", "");
  }

  /** Whether services run as Kubernetes Deployments. */
  public boolean kubernetes() {
    return kind == Kind.KUBERNETES;
  }
}
