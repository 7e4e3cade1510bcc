package dev.pilothouse.core.scaling;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * The instance count the autoscaler chose for a service, and when and why: the desired state reads
 * it in place of the spec's {@code replicas} while the service is autoscaled.
 *
 * @param reason the decision in words, e.g. "requestsPerSecond 152.3 per instance (target 50)"
 */
public record ScaleState(String service, int replicas, Instant at, String reason) {
  public ScaleState {
    requireNonNull(service, "service");
    requireNonNull(at, "at");
    requireNonNull(reason, "reason");
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must be >= 0, but was " + replicas);
    }
  }
}
