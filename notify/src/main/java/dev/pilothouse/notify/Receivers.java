package dev.pilothouse.notify;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.Notifier;
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
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/** Notifiers for webhooks (JSON), Slack-compatible incoming webhooks and email (SMTP). */
public final class Receivers {
  private static final ObjectMapper JSON = JsonMapper.builder().build();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Receivers() {}

  /** POSTs each event as JSON: type, at, service, message, fields, seq, hash. */
  public static Notifier webhook(URI url) {
    return new Http(
        "webhook " + redacted(url),
        url,
        e -> {
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("type", e.type());
          body.put("at", e.at().toString());
          body.put("service", e.service());
          body.put("message", e.message());
          body.put("fields", e.fields());
          body.put("seq", e.seq());
          body.put("hash", e.hash());
          return body;
        });
  }

  /** POSTs {"text": "…"} as Slack's (and Mattermost's, Teams' …) incoming webhooks expect. */
  public static Notifier slack(URI url) {
    return new Http("slack " + redacted(url), url, e -> Map.of("text", text(e)));
  }

  /**
   * A receiver URL as logs may show it: scheme, host and port only. Webhook paths and queries carry
   * the credential (Slack's /services/T…/B…/token), and so may user info.
   */
  static String redacted(URI url) {
    String host = url.getHost() == null ? "?" : url.getHost();
    return url.getScheme() + "://" + host + (url.getPort() < 0 ? "" : ":" + url.getPort()) + "/…";
  }

  /** Sends each event as a plain-text email through an SMTP server. */
  public static Notifier email(String host, int port, String from, List<String> to) {
    return new Email(host, port, from, List.copyOf(to));
  }

  static String text(Event e) {
    return "[pilothouse] " + (e.service().isEmpty() ? "" : e.service() + ": ") + e.message();
  }

  private record Http(String name, URI url, java.util.function.Function<Event, Object> body)
      implements Notifier {
    @Override
    public void send(Event e) throws IOException, InterruptedException {
      String json;
      try {
        json = JSON.writeValueAsString(body.apply(e));
      } catch (JsonProcessingException ex) {
        throw new IOException("serializing the event", ex);
      }
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(url)
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/json")
                  .header("User-Agent", "pilothouse")
                  .POST(HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() >= 300) {
        throw new IOException(name + " answered " + r.statusCode());
      }
    }
  }

  private record Email(String host, int port, String from, List<String> to) implements Notifier {
    @Override
    public String name() {
      return "email via " + host + ":" + port;
    }

    @Override
    public void send(Event e) throws Exception {
      Properties p = new Properties();
      p.put("mail.smtp.host", host);
      p.put("mail.smtp.port", Integer.toString(port));
      p.put("mail.smtp.connectiontimeout", "10000");
      p.put("mail.smtp.timeout", "10000");
      MimeMessage m = new MimeMessage(Session.getInstance(p));
      m.setFrom(new InternetAddress(from));
      for (String t : to) {
        m.addRecipient(Message.RecipientType.TO, new InternetAddress(t));
      }
      m.setSubject(text(e));
      StringBuilder body = new StringBuilder(e.message()).append("\n\n");
      e.fields().forEach((k, v) -> body.append(k).append(": ").append(v).append('\n'));
      body.append("at: ").append(e.at()).append('\n');
      m.setText(body.toString());
      Transport.send(m);
    }
  }
}
