package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one flush of an alert group sends to one integration: the fields of Alertmanager's webhook
 * message (version 4), which every integration formats in its own way.
 *
 * @param status "firing" when any alert fires, else "resolved"
 * @param truncatedAlerts alerts left out by the integration's max_alerts
 */
public record Notification(
    String receiver,
    String groupKey,
    String status,
    Map<String, String> groupLabels,
    Map<String, String> commonLabels,
    Map<String, String> commonAnnotations,
    String externalUrl,
    List<Alert> alerts,
    int truncatedAlerts) {
  public Notification {
    requireNonNull(receiver, "receiver");
    requireNonNull(groupKey, "groupKey");
    requireNonNull(status, "status");
    groupLabels = new TreeMap<>(groupLabels);
    commonLabels = new TreeMap<>(commonLabels);
    commonAnnotations = new TreeMap<>(commonAnnotations);
    requireNonNull(externalUrl, "externalUrl");
    alerts = List.copyOf(alerts);
  }

  /**
   * One alert of a notification.
   *
   * @param endsAt when it resolved; null while it fires (sent as Go's zero time)
   * @param fingerprint Alertmanager's fingerprint of its labels (16 hex digits)
   */
  public record Alert(
      String status,
      Map<String, String> labels,
      Map<String, String> annotations,
      Instant startsAt,
      Instant endsAt,
      String generatorUrl,
      String fingerprint) {
    public Alert {
      labels = new TreeMap<>(labels);
      annotations = new TreeMap<>(annotations);
    }
  }

  /** Delivers notifications to one kind of integration. */
  @FunctionalInterface
  public interface Sender {
    /** Sends; throws when the receiving end did not take it (the router retries). */
    void send(Receiver.Integration integration, Notification notification) throws Exception;
  }
}
