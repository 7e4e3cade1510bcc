package dev.pilothouse.core.event;

import java.time.Instant;
import java.util.Map;

/**
 * A recorded event: append-only, each holding the hash of the one before (the audit chain).
 *
 * @param seq position in the log, from 1
 * @param prevHash hash of event seq-1 (64 zeros for the first)
 * @param hash SHA-256 over prevHash and this event's content
 */
public record Event(
    long seq,
    Instant at,
    String type,
    String service,
    String instance,
    String message,
    Map<String, String> fields,
    String prevHash,
    String hash) {

  public Event {
    fields = Map.copyOf(fields);
  }
}
