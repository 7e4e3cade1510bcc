package dev.pilothouse.core.flags;

import java.time.Instant;

/**
 * One change of a flag, as the history shows it.
 *
 * @param source who changed it: "spec rN", "api", "cli"
 * @param before null when the flag was created
 * @param after null when the flag was deleted
 */
public record FlagChange(
    long seq, Instant at, String key, String source, Flag before, Flag after) {}
