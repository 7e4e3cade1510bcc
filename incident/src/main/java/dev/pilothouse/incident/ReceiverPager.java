package dev.pilothouse.incident;

import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.Receiver;
import dev.pilothouse.core.incident.Incident;
import dev.pilothouse.core.incident.OnCall;
import dev.pilothouse.core.spec.NotificationsSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Pages a person on every contact they gave, through the alert receivers' Sender port
 * (Alertmanager's webhook JSON, Slack, e-mail through notifications.email.smtp), with the incident
 * as the group.
 */
public final class ReceiverPager implements Incidents.Pager {
  private final Notification.Sender sender;
  private final Supplier<NotificationsSpec> notifications;
  private final Supplier<String> externalUrl;

  public ReceiverPager(
      Notification.Sender sender,
      Supplier<NotificationsSpec> notifications,
      Supplier<String> externalUrl) {
    this.sender = sender;
    this.notifications = notifications;
    this.externalUrl = externalUrl;
  }

  @Override
  public void page(String user, OnCall.User contact, Incident incident, int level)
      throws Exception {
    NotificationsSpec n = notifications.get();
    List<Receiver.Integration> ways = new ArrayList<>();
    if (!contact.webhook().isEmpty()) {
      ways.add(new Receiver.Webhook(contact.webhook(), true, 0));
    }
    if (!contact.slack().isEmpty()) {
      ways.add(new Receiver.Slack(contact.slack(), "", true));
    }
    if (!contact.email().isEmpty() && !n.smtp().isEmpty()) {
      ways.add(
          new Receiver.Email(
              List.of(contact.email()),
              n.from().isEmpty() ? "pilothouse@localhost" : n.from(),
              n.smtp(),
              "",
              "",
              false,
              true));
    }
    if (ways.isEmpty()) {
      throw new IllegalStateException("no contact of " + user + " can be used");
    }
    Notification note = notification(user, incident, level);
    List<String> failed = new ArrayList<>();
    for (Receiver.Integration w : ways) {
      try {
        sender.send(w, note);
      } catch (Exception e) {
        failed.add(w.kind() + ": " + e.getMessage());
      }
    }
    if (failed.size() == ways.size()) {
      throw new IllegalStateException(String.join("; ", failed));
    }
  }

  private Notification notification(String user, Incident i, int level) {
    Map<String, String> common = new LinkedHashMap<>();
    common.put("incident", Long.toString(i.id()));
    if (!i.service().isEmpty()) {
      common.put("service", i.service());
    }
    if (!i.severity().isEmpty()) {
      common.put("severity", i.severity());
    }
    common.put("escalation_level", Integer.toString(level));
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("summary", i.title());
    annotations.put(
        "description",
        "incident "
            + i.id()
            + " opened "
            + i.openedAt()
            + "; acknowledge it: pilothouse incident ack "
            + i.id());
    List<Notification.Alert> alerts = new ArrayList<>();
    for (Incident.Alert a : i.alerts()) {
      if (a.resolvedAt() != null) {
        continue;
      }
      Map<String, String> labels = new LinkedHashMap<>(Incidents.labels(a.labels()));
      labels.putIfAbsent("alertname", a.name());
      Map<String, String> ann = new LinkedHashMap<>();
      if (!a.summary().isEmpty()) {
        ann.put("summary", a.summary());
      }
      if (!a.runbook().isEmpty()) {
        ann.put("runbook_url", a.runbook());
      }
      alerts.add(
          new Notification.Alert(
              "firing",
              labels,
              ann,
              a.firedAt(),
              null,
              "",
              dev.pilothouse.core.alerting.routing.Fingerprints.of(labels)));
    }
    return new Notification(
        "oncall/" + user,
        "incident/" + i.id(),
        "firing",
        Map.of("incident", Long.toString(i.id())),
        common,
        annotations,
        externalUrl.get(),
        alerts,
        0);
  }
}
