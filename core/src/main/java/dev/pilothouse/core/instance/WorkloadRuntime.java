package dev.pilothouse.core.instance;

/**
 * A runtime other than this machine's processes (a Kubernetes namespace): its workloads, their
 * logs, and how their traffic is split during a canary.
 */
public interface WorkloadRuntime
    extends Workloads, InstanceLogs, dev.pilothouse.core.traffic.TrafficSplitter, AutoCloseable {
  /**
   * The Pilothouse data plane running in this runtime (its proxies, each reached over its control
   * port), or none: then its services' traffic goes through the runtime's own Service or Gateway.
   */
  default java.util.List<dev.pilothouse.core.traffic.DataPlaneEndpoint> dataPlane() {
    return java.util.List.of();
  }

  /** Lets go of the connection; the workloads it runs keep running. */
  @Override
  void close();
}
