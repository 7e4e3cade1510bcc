package dev.pilothouse.core.instance;

import java.util.OptionalInt;

/** A started or adopted instance process, as the runtime sees it. */
public interface RunningProcess {
  /** Operating-system process id (also its process group id). */
  long pid();

  /** Kernel start time of the process in clock ticks since boot; tells a reused pid apart. */
  long startTicks();

  /** Whether the process is still running (a stopped process is running). */
  boolean alive();

  /** The exit code, when the process has exited and the code is known. */
  OptionalInt exitCode();
}
