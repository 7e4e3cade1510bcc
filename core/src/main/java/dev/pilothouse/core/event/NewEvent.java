package dev.pilothouse.core.event;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * An event about to be recorded; the store gives it a sequence number and its chain hash.
 *
 * @param service empty when the event is not about one service
 * @param instance empty when the event is not about one instance
 * @param fields extra figures (never secrets)
 */
public record NewEvent(
    Instant at,
    String type,
    String service,
    String instance,
    String message,
    Map<String, String> fields) {

  public NewEvent {
    requireNonNull(at, "at");
    requireNonNull(type, "type");
    requireNonNull(service, "service");
    requireNonNull(instance, "instance");
    requireNonNull(message, "message");
    fields = new TreeMap<>(fields);
  }
}
