package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * A named receiver of Alertmanager's config with its integrations. Integrations hold credentials
 * (webhook paths, routing keys, passwords): never log or show them.
 */
public record Receiver(String name, List<Integration> integrations) {
  public Receiver {
    requireNonNull(name, "name");
    integrations = List.copyOf(integrations);
  }

  /** One way of notifying. */
  public sealed interface Integration {
    /** Whether resolved alerts are sent too. */
    boolean sendResolved();

    /** The kind, as Alertmanager names its configs: webhook, slack, email, pagerduty, msteams. */
    String kind();
  }

  /**
   * Alertmanager's webhook (version 4 JSON).
   *
   * @param maxAlerts at most this many alerts per message (0: all); the rest are counted in
   *     truncatedAlerts
   */
  public record Webhook(String url, boolean sendResolved, int maxAlerts) implements Integration {
    @Override
    public String kind() {
      return "webhook";
    }
  }

  /** A Slack-compatible incoming webhook. */
  public record Slack(String apiUrl, String channel, boolean sendResolved) implements Integration {
    @Override
    public String kind() {
      return "slack";
    }
  }

  /**
   * Email through SMTP.
   *
   * @param smarthost host:port
   * @param requireTls STARTTLS is required (Alertmanager's default)
   */
  public record Email(
      List<String> to,
      String from,
      String smarthost,
      String authUsername,
      String authPassword,
      boolean requireTls,
      boolean sendResolved)
      implements Integration {
    public Email {
      to = List.copyOf(to);
    }

    @Override
    public String kind() {
      return "email";
    }
  }

  /** PagerDuty Events API v2. */
  public record PagerDuty(String routingKey, String url, String severity, boolean sendResolved)
      implements Integration {
    @Override
    public String kind() {
      return "pagerduty";
    }
  }

  /** A Microsoft Teams incoming webhook. */
  public record Teams(String webhookUrl, boolean sendResolved) implements Integration {
    @Override
    public String kind() {
      return "msteams";
    }
  }
}
