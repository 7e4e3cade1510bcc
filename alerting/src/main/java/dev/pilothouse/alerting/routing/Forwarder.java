package dev.pilothouse.alerting.routing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.routing.Fingerprints;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the rules' alerts to existing Alertmanagers as Prometheus does (POST /api/v2/alerts): a
 * firing alert when it starts firing and then every minute with endsAt four minutes ahead (so the
 * Alertmanager resolves it by itself if Pilothouse goes away), a resolved one with its end.
 */
public final class Forwarder {
  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

  /** Prometheus's resend delay. */
  public static final Duration RESEND = Duration.ofMinutes(1);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Supplier<List<String>> targets;
  private final Supplier<List<AlertState>> source;
  private final InstantSource clock;
  private final Executor deliveries;
  private final Supplier<String> generatorUrl;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** When each alert (by fingerprint and state) was last sent. */
  private final Map<String, Instant> sent = new HashMap<>();

  public Forwarder(
      Supplier<List<String>> targets,
      Supplier<List<AlertState>> source,
      InstantSource clock,
      Executor deliveries,
      Supplier<String> generatorUrl) {
    this.targets = requireNonNull(targets, "targets");
    this.source = requireNonNull(source, "source");
    this.clock = requireNonNull(clock, "clock");
    this.deliveries = requireNonNull(deliveries, "deliveries");
    this.generatorUrl = requireNonNull(generatorUrl, "generatorUrl");
  }

  /** Sends what is due; called every second. */
  public synchronized void tick() {
    List<String> urls = targets.get();
    if (urls.isEmpty()) {
      sent.clear();
      return;
    }
    Instant now = clock.instant();
    ArrayNode batch = JSON.createArrayNode();
    Map<String, Instant> next = new HashMap<>();
    for (AlertState a : source.get()) {
      if (a.state() == AlertState.State.PENDING) {
        continue;
      }
      String key = Fingerprints.of(a.labels()) + "/" + a.state();
      Instant last = sent.get(key);
      boolean due = last == null || !last.plus(RESEND).isAfter(now);
      if (a.state() == AlertState.State.INACTIVE && last != null) {
        due = false; // a resolved alert is sent once
      }
      next.put(key, due ? now : last);
      if (!due) {
        continue;
      }
      ObjectNode o = batch.addObject();
      o.set("labels", JSON.valueToTree(a.labels()));
      o.set("annotations", JSON.valueToTree(a.annotations()));
      o.put("startsAt", (a.firedAt() != null ? a.firedAt() : a.activeAt()).toString());
      o.put(
          "endsAt",
          (a.state() == AlertState.State.INACTIVE
                  ? a.resolvedAt()
                  : now.plus(RESEND.multipliedBy(4)))
              .toString());
      o.put("generatorURL", generatorUrl.get());
    }
    sent.clear();
    sent.putAll(next);
    if (batch.isEmpty()) {
      return;
    }
    String body = batch.toString();
    for (String url : urls) {
      deliveries.execute(() -> post(url, body));
    }
  }

  private void post(String base, String body) {
    try {
      HttpResponse<Void> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base.replaceAll("/+$", "") + "/api/v2/alerts"))
                  .timeout(Duration.ofSeconds(10))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() / 100 != 2) {
        log.warn("Alertmanager {} answered {} to the alerts", base, r.statusCode());
      }
    } catch (java.io.IOException e) {
      log.warn("sending alerts to Alertmanager {} failed: {}", base, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
