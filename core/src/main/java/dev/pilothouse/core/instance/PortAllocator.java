package dev.pilothouse.core.instance;

import java.util.Set;

/** Finds a free TCP port for a new instance. */
@FunctionalInterface
public interface PortAllocator {
  /** A port free now on the loopback interface and not in inUse. */
  int allocate(Set<Integer> inUse);
}
