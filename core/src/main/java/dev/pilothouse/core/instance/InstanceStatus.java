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
    String version) {}
