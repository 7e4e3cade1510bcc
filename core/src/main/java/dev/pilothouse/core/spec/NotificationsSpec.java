package dev.pilothouse.core.spec;

import java.util.List;

/**
 * Where rollout events are sent.
 *
 * @param webhooks URLs that get each event as JSON (POST)
 * @param slack Slack-compatible incoming-webhook URLs ({"text": …})
 * @param smtp host:port of an SMTP server for email, empty for none
 * @param events event types to send
 */
public record NotificationsSpec(
    List<String> webhooks,
    List<String> slack,
    String smtp,
    String from,
    List<String> to,
    List<String> events) {

  /**
   * What is sent by default: the rollout events (started, step passed, paused, promoted, rolled
   * back), crash loops and remediations that did not help.
   */
  public static final List<String> ROLLOUT_EVENTS =
      List.of(
          "RolloutStarted",
          "RolloutStep",
          "RolloutPaused",
          "RolloutPromoted",
          "RolloutRolledBack",
          "CrashLoop",
          "RemediationEscalated");

  public NotificationsSpec {
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
    slack = slack == null ? List.of() : List.copyOf(slack);
    smtp = smtp == null ? "" : smtp;
    from = from == null ? "" : from;
    to = to == null ? List.of() : List.copyOf(to);
    events = events == null || events.isEmpty() ? ROLLOUT_EVENTS : List.copyOf(events);
  }

  /** No notifications. */
  public static NotificationsSpec none() {
    return new NotificationsSpec(List.of(), List.of(), "", "", List.of(), ROLLOUT_EVENTS);
  }
}
