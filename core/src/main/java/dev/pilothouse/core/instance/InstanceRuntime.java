package dev.pilothouse.core.instance;

import java.util.Optional;
import java.util.Set;

/** Starts, signals and finds instance processes; the local runtime and Kubernetes implement it. */
public interface InstanceRuntime {

  /**
   * Starts an instance.
   *
   * @throws LaunchException when it cannot be started (command missing, workdir missing)
   */
  RunningProcess start(Launch launch);

  /** Re-attaches to a process started before a daemon restart, if it still runs as recorded. */
  Optional<RunningProcess> adopt(String instanceId, long pid, long startTicks);

  /**
   * Kills every process this runtime started whose instance id is not in keep; returns the pids it
   * killed.
   */
  Set<Long> reapOrphans(Set<String> keep);

  /** Sends a signal (TERM, INT, KILL …) to the instance's whole process group. */
  void signal(RunningProcess process, String signal);

  /** Kills what is left of an exited instance's process group. */
  void cleanup(RunningProcess process);
}
