package dev.pilothouse.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.core.event.Event;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Notifications to real HTTP receivers and a real SMTP server (GreenMail). */
class ReceiversTest {
  @RegisterExtension
  static final GreenMailExtension SMTP = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort());

  final List<String> bodies = new CopyOnWriteArrayList<>();
  final AtomicInteger failuresLeft = new AtomicInteger();
  HttpServer server;

  static Event rolledBack() {
    return new Event(
        7,
        Instant.parse("2026-01-01T00:00:00Z"),
        "RolloutRolledBack",
        "shop",
        "",
        "rolled back: error rate higher: canary 30.00% (30/100) vs baseline 0.20% (1/500), p=1e-20",
        Map.of("phase", "RolledBack", "error-rate_p", "1.0E-20"),
        "prev",
        "hash7");
  }

  URI receiver() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    server.createContext(
        "/",
        ex -> {
          String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          int code = failuresLeft.getAndDecrement() > 0 ? 503 : 200;
          if (code == 200) {
            bodies.add(body);
          }
          ex.sendResponseHeaders(code, -1);
          ex.close();
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook");
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void webhook_getsTheEventAsJson_afterRetries() throws Exception {
    failuresLeft.set(2);
    try (Dispatcher d = new Dispatcher(Duration.ofMillis(50))) {
      d.configure(List.of(Receivers.webhook(receiver())), Set.of("RolloutRolledBack"));
      d.accept(rolledBack());
      await().atMost(Duration.ofSeconds(10)).until(() -> bodies.size() == 1);
    }
    assertThat(bodies.get(0))
        .contains("\"type\":\"RolloutRolledBack\"")
        .contains("\"service\":\"shop\"")
        .contains("\"error-rate_p\":\"1.0E-20\"")
        .contains("\"seq\":7");
  }

  @Test
  void receiverNames_neverShowTheSecretPartOfTheirUrl() {
    java.net.URI slack =
        java.net.URI.create("https://hooks.slack.com/services/T000/B000/s3cr3tT0ken?x=1");
    assertThat(Receivers.slack(slack).name())
        .isEqualTo("slack https://hooks.slack.com/…")
        .doesNotContain("s3cr3t");
    assertThat(Receivers.webhook(java.net.URI.create("http://u:pw@127.0.0.1:9/hook/abc")).name())
        .isEqualTo("webhook http://127.0.0.1:9/…");
  }

  @Test
  void slack_getsText() throws Exception {
    try (Dispatcher d = new Dispatcher(Duration.ofMillis(50))) {
      d.configure(List.of(Receivers.slack(receiver())), Set.of("RolloutRolledBack"));
      d.accept(rolledBack());
      await().atMost(Duration.ofSeconds(10)).until(() -> bodies.size() == 1);
    }
    assertThat(bodies.get(0))
        .startsWith("{\"text\":\"[pilothouse] shop: rolled back: error rate higher");
  }

  @Test
  void otherEventTypes_areNotSent() throws Exception {
    try (Dispatcher d = new Dispatcher(Duration.ofMillis(50))) {
      d.configure(List.of(Receivers.webhook(receiver())), Set.of("RolloutPromoted"));
      d.accept(rolledBack());
      d.accept(
          new Event(
              8,
              Instant.EPOCH,
              "RolloutPromoted",
              "shop",
              "",
              "promoted",
              Map.of(),
              "hash7",
              "hash8"));
      await().atMost(Duration.ofSeconds(10)).until(() -> bodies.size() == 1);
      assertThat(bodies.get(0)).contains("RolloutPromoted");
    }
  }

  @Test
  void email_arrivesThroughSmtp() throws Exception {
    try (Dispatcher d = new Dispatcher(Duration.ofMillis(50))) {
      d.configure(
          List.of(
              Receivers.email(
                  "127.0.0.1",
                  SMTP.getSmtp().getPort(),
                  "pilothouse@example.com",
                  List.of("oncall@example.com"))),
          Set.of("RolloutRolledBack"));
      d.accept(rolledBack());
      assertThat(SMTP.waitForIncomingEmail(10_000, 1)).isTrue();
    }
    MimeMessage m = SMTP.getReceivedMessages()[0];
    assertThat(m.getSubject()).startsWith("[pilothouse] shop: rolled back: error rate higher");
    assertThat(m.getAllRecipients()[0].toString()).isEqualTo("oncall@example.com");
    assertThat(((String) m.getContent())).contains("phase: RolledBack");
  }
}
