package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;

/**
 * An Alertmanager silence: alerts matching every matcher are muted from startsAt to endsAt.
 *
 * @param updatedAt when it was created or last changed (expiring sets endsAt to that moment)
 */
public record Silence(
    String id,
    List<LabelMatcher> matchers,
    Instant startsAt,
    Instant endsAt,
    String createdBy,
    String comment,
    Instant updatedAt) {
  public Silence {
    requireNonNull(id, "id");
    matchers = List.copyOf(matchers);
    requireNonNull(startsAt, "startsAt");
    requireNonNull(endsAt, "endsAt");
    requireNonNull(createdBy, "createdBy");
    requireNonNull(comment, "comment");
    requireNonNull(updatedAt, "updatedAt");
  }

  /** Alertmanager's states: pending before startsAt, active until endsAt, then expired. */
  public String state(Instant now) {
    if (now.isBefore(startsAt)) {
      return "pending";
    }
    return now.isBefore(endsAt) ? "active" : "expired";
  }
}
