package dev.pilothouse.core.spec;

import java.time.Instant;

/**
 * One stored version of the desired state.
 *
 * @param number increasing from 1
 * @param source where it came from: a file path, or a command such as "scale shop 5"
 */
public record Revision(long number, Instant at, String source, Spec spec) {}
