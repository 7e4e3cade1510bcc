package dev.pilothouse.core.instance;

import java.util.List;

/**
 * A read-only view of one service for status output.
 *
 * @param state running, progressing, degraded, crash-loop, stopped or removing
 */
public record ServiceStatus(
    String name,
    String version,
    String state,
    int desiredReplicas,
    int readyReplicas,
    int generation,
    List<InstanceStatus> instances) {}
