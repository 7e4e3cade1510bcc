package dev.pilothouse.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.Receiver;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Alert notifications to real HTTP receivers and a real SMTP server (GreenMail) with auth. */
class AlertSendersTest {
  @RegisterExtension
  static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

  final List<JsonNode> bodies = new CopyOnWriteArrayList<>();
  final AtomicInteger failuresLeft = new AtomicInteger();
  final AtomicInteger calls = new AtomicInteger();
  final ObjectMapper json = new ObjectMapper();
  HttpServer server;

  String receiver() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(
        "/",
        ex -> {
          calls.incrementAndGet();
          byte[] body = ex.getRequestBody().readAllBytes();
          int code = failuresLeft.getAndDecrement() > 0 ? 503 : 202;
          if (code == 202) {
            bodies.add(json.readTree(new String(body, StandardCharsets.UTF_8)));
          }
          ex.sendResponseHeaders(code, -1);
          ex.close();
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/secret-token";
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  static final AlertSenders.Policy FAST =
      new AlertSenders.Policy(3, Duration.ofMillis(10), Duration.ofMillis(500));

  static Notification notification(String status) {
    Instant t = Instant.parse("2026-11-29T12:00:00Z");
    return new Notification(
        "team",
        "{}:{alertname=\"Backlog\"}",
        status,
        Map.of("alertname", "Backlog"),
        Map.of("alertname", "Backlog", "job", "worker"),
        Map.of(),
        "http://127.0.0.1:9460",
        List.of(
            new Notification.Alert(
                status,
                Map.of("alertname", "Backlog", "job", "worker", "queue", "orders"),
                Map.of("summary", "orders holds 500 jobs", "runbook_url", "https://rb/queue"),
                t,
                status.equals("firing") ? null : t.plusSeconds(60),
                "http://127.0.0.1:9460/api/v1/alerts",
                "0123456789abcdef")),
        0);
  }

  @Test
  void webhook_sendsAlertmanagersVersion4Message() throws Exception {
    String url = receiver();
    new AlertSenders(FAST).send(new Receiver.Webhook(url, true, 0), notification("firing"));
    JsonNode m = bodies.get(0);
    assertThat(m.path("version").asText()).isEqualTo("4");
    assertThat(m.path("status").asText()).isEqualTo("firing");
    assertThat(m.path("receiver").asText()).isEqualTo("team");
    assertThat(m.path("groupKey").asText()).isEqualTo("{}:{alertname=\"Backlog\"}");
    assertThat(m.path("truncatedAlerts").asInt()).isZero();
    assertThat(m.path("externalURL").asText()).isEqualTo("http://127.0.0.1:9460");
    JsonNode a = m.path("alerts").get(0);
    assertThat(a.path("endsAt").asText()).isEqualTo("0001-01-01T00:00:00Z");
    assertThat(a.path("fingerprint").asText()).isEqualTo("0123456789abcdef");
    assertThat(a.path("labels").path("queue").asText()).isEqualTo("orders");
  }

  @Test
  void slackTeamsAndPagerDuty_getTheirOwnShapes() throws Exception {
    String url = receiver();
    AlertSenders s = new AlertSenders(FAST);
    s.send(new Receiver.Slack(url, "#ops", false), notification("firing"));
    s.send(new Receiver.Teams(url, true), notification("firing"));
    s.send(new Receiver.PagerDuty("rk-1", url, "critical", true), notification("firing"));
    s.send(new Receiver.PagerDuty("rk-1", url, "critical", true), notification("resolved"));
    assertThat(bodies.get(0).path("channel").asText()).isEqualTo("#ops");
    assertThat(bodies.get(0).path("text").asText())
        .startsWith("*[FIRING:1] alertname=Backlog*")
        .contains("orders holds 500 jobs")
        .contains("runbook: https://rb/queue");
    assertThat(bodies.get(1).path("@type").asText()).isEqualTo("MessageCard");
    JsonNode trigger = bodies.get(2);
    assertThat(trigger.path("event_action").asText()).isEqualTo("trigger");
    assertThat(trigger.path("routing_key").asText()).isEqualTo("rk-1");
    assertThat(trigger.path("payload").path("severity").asText()).isEqualTo("critical");
    JsonNode resolve = bodies.get(3);
    assertThat(resolve.path("event_action").asText()).isEqualTo("resolve");
    assertThat(resolve.path("dedup_key").asText())
        .as("one PagerDuty incident per group")
        .isEqualTo(trigger.path("dedup_key").asText())
        .hasSize(64);
  }

  @Test
  void aFailingReceiver_isRetriedWithBackoff_thenTheCircuitOpens() throws Exception {
    String url = receiver();
    AlertSenders s = new AlertSenders(FAST);
    failuresLeft.set(2);
    s.send(new Receiver.Webhook(url, true, 0), notification("firing"));
    assertThat(calls.get()).as("two failures, then success on the third attempt").isEqualTo(3);
    failuresLeft.set(1000);
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> s.send(new Receiver.Webhook(url, true, 0), notification("firing")))
          .hasMessageNotContaining("secret-token");
    }
    int before = calls.get();
    assertThatThrownBy(() -> s.send(new Receiver.Webhook(url, true, 0), notification("firing")))
        .hasMessageContaining("CircuitBreaker");
    assertThat(calls.get()).as("an open circuit does not call the receiver").isEqualTo(before);
  }

  @Test
  void email_authenticatesAndSendsTheGroupAsText() throws Exception {
    SMTP.setUser("alerts@example.com", "alerts", "s3cret");
    String host = "127.0.0.1:" + SMTP.getSmtp().getPort();
    new AlertSenders(FAST)
        .send(
            new Receiver.Email(
                List.of("oncall@example.com"),
                "alerts@example.com",
                host,
                "alerts",
                "s3cret",
                false,
                false),
            notification("firing"));
    MimeMessage[] got = SMTP.getReceivedMessages();
    assertThat(got).hasSize(1);
    assertThat(got[0].getSubject()).isEqualTo("[FIRING:1] alertname=Backlog");
    assertThat(got[0].getContent().toString()).contains("orders holds 500 jobs");
  }

  @Test
  void email_withRequireTls_refusesAServerWithoutStarttls_ratherThanSendInPlainText() {
    String host = "127.0.0.1:" + SMTP.getSmtp().getPort();
    assertThatThrownBy(
            () ->
                new AlertSenders(FAST)
                    .send(
                        new Receiver.Email(
                            List.of("oncall@example.com"),
                            "a@example.com",
                            host,
                            "",
                            "",
                            true,
                            false),
                        notification("firing")))
        .hasMessageContaining("STARTTLS");
    assertThat(SMTP.getReceivedMessages()).isEmpty();
  }
}
