package dev.pilothouse.core.instance;

import java.time.Instant;

/**
 * The persisted row of one instance, enough to re-adopt it after a daemon restart.
 *
 * @param state lower-case {@link InstanceState} name
 */
public record InstanceRecord(
    String id,
    String service,
    int slot,
    String template,
    long pid,
    long startTicks,
    int port,
    String state,
    boolean ready,
    Instant startedAt,
    int restarts,
    String version) {}
