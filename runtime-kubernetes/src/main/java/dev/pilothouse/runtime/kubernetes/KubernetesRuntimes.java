package dev.pilothouse.runtime.kubernetes;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.instance.WorkloadRuntime;
import dev.pilothouse.core.spec.RuntimeSpec;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.time.InstantSource;
import java.util.function.Function;

/**
 * Opens the Kubernetes runtime a spec names: its kubeconfig (or in-cluster), context, namespace.
 */
public final class KubernetesRuntimes {
  /** How long one API request may take before the tick gives up on it (and retries next tick). */
  static final int REQUEST_TIMEOUT_MS = 10_000;

  private KubernetesRuntimes() {}

  /** A factory for the runtime router: one client per runtime spec. */
  public static Function<RuntimeSpec, WorkloadRuntime> opener(
      EventSink events, SecretSource secrets, InstantSource clock) {
    return spec -> open(spec, events, secrets, clock);
  }

  static KubernetesWorkloads open(
      RuntimeSpec spec, EventSink events, SecretSource secrets, InstantSource clock) {
    String context = spec.context().isEmpty() ? null : spec.context();
    Config config =
        spec.kubeconfig().isEmpty()
            ? Config.autoConfigure(context) // in a pod: its service account; else $KUBECONFIG
            : Config.fromKubeconfig(context, new File(spec.kubeconfig()));
    config.setNamespace(spec.namespace());
    config.setRequestTimeout(REQUEST_TIMEOUT_MS);
    config.setConnectionTimeout(REQUEST_TIMEOUT_MS);
    return KubernetesWorkloads.create(
        new KubernetesClientBuilder().withConfig(config).build(), spec, events, secrets, clock);
  }
}
