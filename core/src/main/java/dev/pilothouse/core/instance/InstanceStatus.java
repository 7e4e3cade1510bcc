package dev.pilothouse.core.instance;

import java.time.Instant;

/**
 * A read-only view of one instance for status output.
 *
 * @param host the address it listens on: 127.0.0.1 for a local process, the pod's IP in a cluster
 */
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
    String version,
    String host) {

  /** An instance of this machine: it listens on 127.0.0.1. */
  public InstanceStatus(
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
    this(
        id, service, slot, pid, port, state, ready, startedAt, restarts, template, version,
        LOOPBACK);
  }

  /** Where this machine's instances listen. */
  public static final String LOOPBACK = "127.0.0.1";

  public InstanceStatus {
    host = host == null || host.isEmpty() ? LOOPBACK : host;
  }

  /** Whether it takes traffic: running and ready. */
  public boolean serving() {
    return ready && state.equals("running");
  }
}
