package dev.pilothouse.core.instance;

/**
 * A runtime other than this machine's processes (a Kubernetes namespace): its workloads, their
 * logs, and how their traffic is split during a canary.
 */
public interface WorkloadRuntime
    extends Workloads, InstanceLogs, dev.pilothouse.core.traffic.TrafficSplitter, AutoCloseable {
  /** Lets go of the connection; the workloads it runs keep running. */
  @Override
  void close();
}
