package dev.pilothouse.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.Receiver;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Sends alert notifications to their integrations: Alertmanager's webhook (version 4 JSON),
 * Slack-compatible webhooks, email (SMTP, optionally authenticated, STARTTLS required unless
 * require_tls is false), PagerDuty Events API v2 and Microsoft Teams. Each call is retried with
 * exponential backoff (4 attempts: 0.5, 1, 2 s apart) behind one circuit breaker per endpoint,
 * which fails calls fast for 30 s once half of the last 10 failed.
 */
public final class AlertSenders implements Notification.Sender {
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final Instant ZERO = Instant.parse("0001-01-01T00:00:00Z");

  /** How the calls are retried and broken; tests shorten the waits. */
  public record Policy(int attempts, Duration firstBackoff, Duration openFor) {
    public static Policy defaults() {
      return new Policy(4, Duration.ofMillis(500), Duration.ofSeconds(30));
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Retry retry;
  private final CircuitBreakerRegistry breakers;

  public AlertSenders(Policy policy) {
    this.retry =
        Retry.of(
            "alert-notifications",
            RetryConfig.custom()
                .maxAttempts(policy.attempts())
                .intervalFunction(IntervalFunction.ofExponentialBackoff(policy.firstBackoff(), 2))
                .ignoreExceptions(
                    io.github.resilience4j.circuitbreaker.CallNotPermittedException.class)
                .build());
    this.breakers =
        CircuitBreakerRegistry.of(
            CircuitBreakerConfig.custom()
                .slidingWindowSize(10)
                .minimumNumberOfCalls(4)
                .failureRateThreshold(50)
                .waitDurationInOpenState(policy.openFor())
                .build());
  }

  @Override
  public void send(Receiver.Integration in, Notification n) throws Exception {
    CircuitBreaker breaker = breakers.circuitBreaker(endpoint(in));
    try {
      Retry.decorateCheckedRunnable(retry, () -> breaker.executeCheckedRunnable(() -> once(in, n)))
          .run();
    } catch (Exception | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** One breaker per endpoint, named without its credential. */
  private static String endpoint(Receiver.Integration in) {
    String where =
        switch (in) {
          case Receiver.Webhook w -> w.url();
          case Receiver.Slack s -> s.apiUrl();
          case Receiver.Email e -> e.smarthost();
          case Receiver.PagerDuty p -> p.url() + "#" + sha256(p.routingKey());
          case Receiver.Teams t -> t.webhookUrl();
        };
    return in.kind() + " " + sha256(where);
  }

  private void once(Receiver.Integration in, Notification n) throws Exception {
    switch (in) {
      case Receiver.Webhook w -> post(w.url(), "webhook", webhook(n));
      case Receiver.Slack s -> post(s.apiUrl(), "slack", slack(n, s.channel()));
      case Receiver.PagerDuty p -> post(p.url(), "pagerduty", pagerDuty(n, p));
      case Receiver.Teams t -> post(t.webhookUrl(), "msteams", teams(n));
      case Receiver.Email e -> email(n, e);
    }
  }

  private void post(String url, String kind, ObjectNode body)
      throws IOException, InterruptedException {
    String json;
    try {
      json = JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IOException("serializing the notification", e);
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header("User-Agent", "pilothouse")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IOException(
          kind + " " + Receivers.redacted(URI.create(url)) + " answered " + r.statusCode());
    }
  }

  /** Alertmanager's webhook message, version 4. */
  public static ObjectNode webhook(Notification n) {
    ObjectNode o = JSON.createObjectNode();
    o.put("receiver", n.receiver());
    o.put("status", n.status());
    ArrayNode alerts = o.putArray("alerts");
    for (Notification.Alert a : n.alerts()) {
      ObjectNode x = alerts.addObject();
      x.put("status", a.status());
      x.set("labels", map(a.labels()));
      x.set("annotations", map(a.annotations()));
      x.put("startsAt", a.startsAt().toString());
      x.put("endsAt", (a.endsAt() == null ? ZERO : a.endsAt()).toString());
      x.put("generatorURL", a.generatorUrl());
      x.put("fingerprint", a.fingerprint());
    }
    o.set("groupLabels", map(n.groupLabels()));
    o.set("commonLabels", map(n.commonLabels()));
    o.set("commonAnnotations", map(n.commonAnnotations()));
    o.put("externalURL", n.externalUrl());
    o.put("version", "4");
    o.put("groupKey", n.groupKey());
    o.put("truncatedAlerts", n.truncatedAlerts());
    return o;
  }

  /** The first line of every notification: {@code [FIRING:2] alertname=X service=shop}. */
  static String title(Notification n) {
    long firing = n.alerts().stream().filter(a -> a.status().equals("firing")).count();
    String labels =
        n.groupLabels().entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(" "));
    return "["
        + n.status().toUpperCase(java.util.Locale.ROOT)
        + (n.status().equals("firing") ? ":" + firing : "")
        + "] "
        + (labels.isEmpty() ? n.receiver() : labels);
  }

  /** One line per alert: its summary (or description), its labels and its runbook. */
  static String body(Notification n) {
    StringBuilder sb = new StringBuilder();
    for (Notification.Alert a : n.alerts()) {
      String summary =
          a.annotations().getOrDefault("summary", a.annotations().getOrDefault("description", ""));
      sb.append(a.status().equals("firing") ? "• " : "✓ ")
          .append(a.labels().getOrDefault("alertname", ""))
          .append(summary.isEmpty() ? "" : ": " + summary)
          .append(" (")
          .append(
              a.labels().entrySet().stream()
                  .filter(e -> !e.getKey().equals("alertname"))
                  .map(e -> e.getKey() + "=" + e.getValue())
                  .collect(Collectors.joining(", ")))
          .append(')');
      String runbook = a.annotations().getOrDefault("runbook_url", "");
      if (!runbook.isEmpty()) {
        sb.append(" runbook: ").append(runbook);
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static ObjectNode slack(Notification n, String channel) {
    ObjectNode o = JSON.createObjectNode();
    if (!channel.isEmpty()) {
      o.put("channel", channel);
    }
    o.put("text", "*" + title(n) + "*\n" + body(n));
    return o;
  }

  private static ObjectNode teams(Notification n) {
    ObjectNode o = JSON.createObjectNode();
    o.put("@type", "MessageCard");
    o.put("@context", "http://schema.org/extensions");
    o.put("themeColor", n.status().equals("firing") ? "8C1A1A" : "2DC72D");
    o.put("summary", title(n));
    o.put("title", title(n));
    o.put("text", body(n).replace("\n", "\n\n"));
    return o;
  }

  /** PagerDuty Events v2: trigger while anything fires, resolve after; one incident per group. */
  private static ObjectNode pagerDuty(Notification n, Receiver.PagerDuty p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("routing_key", p.routingKey());
    o.put("event_action", n.status().equals("firing") ? "trigger" : "resolve");
    o.put("dedup_key", sha256(n.groupKey()));
    o.put("client", "Pilothouse");
    o.put("client_url", n.externalUrl());
    if (n.status().equals("firing")) {
      ObjectNode payload = o.putObject("payload");
      String summary = title(n) + " " + body(n).lines().findFirst().orElse("");
      payload.put(
          "summary", summary.length() > 1024 ? summary.substring(0, 1021) + "..." : summary);
      payload.put("source", n.commonLabels().getOrDefault("instance", "pilothouse"));
      payload.put("severity", p.severity());
      ObjectNode details = payload.putObject("custom_details");
      details.put("firing", body(n));
      details.put(
          "num_firing", n.alerts().stream().filter(a -> a.status().equals("firing")).count());
    }
    return o;
  }

  private static void email(Notification n, Receiver.Email e) throws Exception {
    String[] hp = e.smarthost().split(":");
    Properties p = new Properties();
    p.put("mail.smtp.host", hp[0]);
    p.put("mail.smtp.port", hp[1]);
    p.put("mail.smtp.connectiontimeout", "10000");
    p.put("mail.smtp.timeout", "10000");
    p.put("mail.smtp.writetimeout", "10000");
    if (e.requireTls()) {
      p.put("mail.smtp.starttls.enable", "true");
      p.put("mail.smtp.starttls.required", "true");
    }
    boolean auth = !e.authUsername().isEmpty();
    p.put("mail.smtp.auth", Boolean.toString(auth));
    Session session = Session.getInstance(p);
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress(e.from()));
    for (String t : e.to()) {
      m.addRecipient(Message.RecipientType.TO, new InternetAddress(t));
    }
    m.setSubject(title(n), "UTF-8");
    m.setText(body(n) + "\n" + n.externalUrl() + "\n", "UTF-8");
    try (Transport t = session.getTransport("smtp")) {
      if (auth) {
        t.connect(hp[0], Integer.parseInt(hp[1]), e.authUsername(), e.authPassword());
      } else {
        t.connect();
      }
      t.sendMessage(m, m.getAllRecipients());
    }
  }

  private static ObjectNode map(Map<String, String> m) {
    ObjectNode o = JSON.createObjectNode();
    m.forEach(o::put);
    return o;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
