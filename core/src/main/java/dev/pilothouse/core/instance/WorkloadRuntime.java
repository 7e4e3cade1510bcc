package dev.pilothouse.core.instance;

/** A runtime other than this machine's processes (a Kubernetes namespace): its workloads, logs. */
public interface WorkloadRuntime extends Workloads, InstanceLogs, AutoCloseable {
  /** Lets go of the connection; the workloads it runs keep running. */
  @Override
  void close();
}
