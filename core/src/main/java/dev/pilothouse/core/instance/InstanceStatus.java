package dev.pilothouse.core.instance;

import java.time.Instant;

/** A read-only view of one instance for status output. */
public record InstanceStatus(
    String id,
    String service,
    int slot,
    long pid,
    int port,
    String state,
    boolean ready,
    Instant startedAt,
    int restarts,
    String template,
    String version) {

  /** Whether it takes traffic: running and ready. */
  public boolean serving() {
    return ready && state.equals("running");
  }
}
