package dev.pilothouse.core.experiment;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * An experiment's lifecycle as kept across restarts.
 *
 * @param definition a hash of its spec: a changed definition starts it afresh
 * @param phase Running, Concluded or Ended
 * @param concludedAt null while running
 * @param outcome how it ended ("promoted green", "stopped", "removed from the spec"), or empty
 */
public record ExperimentRecord(
    String name,
    String service,
    String definition,
    Instant startedAt,
    String phase,
    Instant concludedAt,
    String outcome) {
  public ExperimentRecord {
    requireNonNull(name, "name");
    requireNonNull(service, "service");
    requireNonNull(definition, "definition");
    requireNonNull(startedAt, "startedAt");
    requireNonNull(phase, "phase");
    outcome = outcome == null ? "" : outcome;
  }
}
