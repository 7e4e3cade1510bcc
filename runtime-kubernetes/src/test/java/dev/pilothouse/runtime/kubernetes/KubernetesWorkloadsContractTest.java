package dev.pilothouse.runtime.kubernetes;

import dev.pilothouse.core.instance.InstanceLogs;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.instance.WorkloadsContract;
import java.time.Clock;

/**
 * The contract on the Kubernetes runtime, against fabric8's mock API server in CRUD mode with the
 * cluster's controllers and kubelet simulated ({@link SimulatedCluster}; no real cluster here).
 */
class KubernetesWorkloadsContractTest extends WorkloadsContract {
  private SimulatedCluster cluster;
  private KubernetesWorkloads last;

  @Override
  protected Workloads open() {
    if (cluster == null) {
      cluster = new SimulatedCluster();
    }
    last =
        KubernetesWorkloads.create(
            cluster.client(),
            SimulatedCluster.NAMESPACE,
            sink,
            SecretSource.none(),
            Clock.systemUTC());
    return last;
  }

  @Override
  protected InstanceLogs logs() {
    return last;
  }

  @Override
  protected void crash(InstanceStatus instance) {
    cluster.crash(instance.id());
  }

  @Override
  protected void settle() {
    cluster.settle();
  }

  @Override
  protected void cleanUp(Workloads w) {
    ((KubernetesWorkloads) w).close();
    cluster.close();
  }
}
