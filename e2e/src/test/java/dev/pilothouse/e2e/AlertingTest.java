package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.client.Wire;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerting rules with a real daemon: a rule file named by the spec is evaluated on its interval, an
 * alert goes pending then firing, shows in Prometheus's API, the ALERTS series and {@code
 * pilothouse alerts}, survives {@code kill -9} of the daemon without firing again, and resolves
 * when its condition ends. The condition is a gauge remote-written by the test.
 */
class AlertingTest {
  @TempDir Path tmp;

  static final String RULES =
      """
      groups:
      - name: queue
        interval: 1s
        rules:
        - record: queue:depth:max
          expr: max by (queue) (queue_depth)
        - alert: QueueBacklog
          expr: queue:depth:max > 100
          for: 2s
          labels: {severity: page}
          annotations:
            summary: "{{ $labels.queue }} holds {{ $value | humanize }} jobs"
            runbook_url: https://example.com/runbooks/queue
      """;

  static final String SPEC =
      """
      proxy: {port: 0}
      metrics: {hostMetrics: false}
      services:
        idle: {command: sleep, args: ['600'], replicas: 0}
      alerting:
        ruleFiles: [rules/*.yml]
        alertmanagerConfig: alertmanager.yml
      oncall:
        users:
          alice: {webhook: 'http://127.0.0.1:PORT/alice'}
          bob: {webhook: 'http://127.0.0.1:PORT/bob'}
        schedules:
          - {name: primary, users: [alice], turn: 1w, start: 2026-01-05T09:00:00Z}
        escalations:
          - name: everything
            levels:
              - {notify: [schedule:primary]}
              - {after: 3s, notify: [user:bob]}
      """;

  /** Alertmanager's format: every alert to a webhook on loopback, grouped by alertname. */
  static final String ROUTING =
      """
      route:
        receiver: oncall
        group_by: [alertname]
        group_wait: 1s
        group_interval: 2s
        repeat_interval: 1h
      receivers:
        - name: oncall
          webhook_configs: [{url: 'http://127.0.0.1:PORT/hook'}]
      """;

  final List<JsonNode> hooks = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Pages people got: "alice:incident/1". */
  final List<String> pages = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A webhook receiver on loopback; its port. */
  int receiver() throws Exception {
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/hook",
        x -> {
          hooks.add(json.readTree(x.getRequestBody().readAllBytes()));
          x.sendResponseHeaders(200, -1);
          x.close();
        });
    for (String person : List.of("alice", "bob")) {
      server.createContext(
          "/" + person,
          x -> {
            JsonNode page = json.readTree(x.getRequestBody().readAllBytes());
            pages.add(person + ":" + page.path("groupKey").asText());
            x.sendResponseHeaders(200, -1);
            x.close();
          });
    }
    server.start();
    closeAfter = server;
    return server.getAddress().getPort();
  }

  com.sun.net.httpserver.HttpServer closeAfter;
  int receiverPort;

  @org.junit.jupiter.api.AfterEach
  void stopReceiver() {
    if (closeAfter != null) {
      closeAfter.stop(0);
    }
  }

  /** The statuses of the notifications about the test's alert, in order. */
  List<String> notified() {
    return hooks.stream()
        .filter(h -> h.path("groupKey").asText().contains("QueueBacklog"))
        .map(h -> h.path("status").asText())
        .toList();
  }

  final HttpClient http = HttpClient.newHttpClient();
  final ObjectMapper json = new ObjectMapper();

  void push(Harness h, double depth) throws Exception {
    byte[] body =
        org.xerial.snappy.Snappy.compress(
            WriteRequest.encode(
                List.of(
                    new WriteRequest.TimeSeries(
                        Labels.of("__name__", "queue_depth", "queue", "orders", "job", "worker"),
                        new long[] {System.currentTimeMillis()},
                        new double[] {depth}))));
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(h.client().base() + "/api/v1/write"))
                .header(
                    "Authorization",
                    "Bearer " + Files.readString(h.stateDir.resolve("api-token")).trim())
                .header("Content-Type", "application/x-protobuf")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
  }

  /** The test rule's alerts (the built-in rules about Pilothouse itself run too). */
  JsonNode alerts(Harness h) throws Exception {
    com.fasterxml.jackson.databind.node.ArrayNode out = json.createArrayNode();
    // Through the API the CLI uses (a JVM per poll would slow the test; 'alerts' and
    // 'alerts -o json' are run as commands below).
    for (JsonNode a : h.client().alerts().path("alerts")) {
      if (a.path("labels").path("alertname").asText().equals("QueueBacklog")) {
        out.add(a);
      }
    }
    return out;
  }

  JsonNode group(Harness h, String name) {
    for (JsonNode g : h.client().rules().path("groups")) {
      if (g.path("name").asText().equals(name)) {
        return g;
      }
    }
    throw new AssertionError("no rule group " + name);
  }

  long firingEvents(Harness h) {
    return h.client().events(0, 1000).stream().filter(e -> e.type().equals("AlertFiring")).count();
  }

  @Test
  void alert_isNotifiedOnce_silenced_survivesKill9_resolves_andABrokenRuleFileIsRefused()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      Files.createDirectories(h.work.resolve("rules"));
      Files.writeString(h.work.resolve("rules/queue.yml"), RULES);
      Files.writeString(
          h.work.resolve("alertmanager.yml"),
          ROUTING.replace("PORT", Integer.toString(receiverPort = receiver())));
      int port = receiverPort;
      Path spec = h.writeSpec("spec.yaml", SPEC.replace("PORT", Integer.toString(port)));
      h.up(spec);
      push(h, 500);
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> alerts(h).path(0).path("state").asText().equals("firing"));
      JsonNode firing = alerts(h).get(0);
      assertThat(json.readTree(h.ok("alerts", "-o", "json").out()).path("alerts").toString())
          .contains("QueueBacklog");
      assertThat(firing.path("labels").path("alertname").asText()).isEqualTo("QueueBacklog");
      assertThat(firing.path("labels").path("severity").asText()).isEqualTo("page");
      assertThat(firing.path("annotations").path("summary").asText())
          .isEqualTo("orders holds 500 jobs");
      assertThat(firing.path("value").asText()).isEqualTo("5e+02");
      String activeAt = firing.path("activeAt").asText();

      // The recording rule's series and ALERTS are in the store, as Prometheus writes them.
      assertThat(h.ok("query", "queue:depth:max").out())
          .contains("queue=\"orders\"")
          .contains("500");
      assertThat(h.ok("query", "ALERTS{alertstate=\"firing\"}").out())
          .contains("alertname=\"QueueBacklog\"");
      JsonNode rules = group(h, "queue");
      assertThat(group(h, "pilothouse").path("file").asText())
          .as("the built-in rules run beside the spec's")
          .isEqualTo("builtin");
      for (JsonNode r : group(h, "pilothouse").path("rules")) {
        assertThat(r.path("health").asText()).as(r.path("name").asText()).isEqualTo("ok");
      }
      assertThat(rules.path("file").asText()).isEqualTo("rules/queue.yml");
      assertThat(rules.path("rules").get(1).path("state").asText()).isEqualTo("firing");
      assertThat(rules.path("rules").get(1).path("health").asText()).isEqualTo("ok");
      assertThat(h.ok("alerts").out())
          .contains("QueueBacklog")
          .contains("firing")
          .contains("runbook: https://example.com/runbooks/queue");
      assertThat(firingEvents(h)).isEqualTo(1);

      // The route's receiver hears of it once, in Alertmanager's webhook format.
      await().atMost(Duration.ofSeconds(10)).until(() -> !notified().isEmpty());
      JsonNode hook =
          hooks.stream()
              .filter(x -> x.path("groupKey").asText().contains("QueueBacklog"))
              .findFirst()
              .orElseThrow();
      assertThat(hook.path("version").asText()).isEqualTo("4");
      assertThat(hook.path("status").asText()).isEqualTo("firing");
      assertThat(hook.path("groupKey").asText()).isEqualTo("{}:{alertname=\"QueueBacklog\"}");
      assertThat(hook.path("alerts").get(0).path("labels").path("queue").asText())
          .isEqualTo("orders");

      // The firing alert opened an incident; the person on call was paged at once.
      await().atMost(Duration.ofSeconds(10)).until(() -> pages.contains("alice:incident/1"));
      JsonNode incident =
          json.readTree(h.ok("incidents", "-o", "json").out()).path("incidents").get(0);
      assertThat(incident.path("id").asInt()).isEqualTo(1);
      assertThat(incident.path("state").asText()).isEqualTo("triggered");
      assertThat(incident.path("alerts").get(0).path("name").asText()).isEqualTo("QueueBacklog");
      assertThat(h.ok("oncall").out()).contains("primary").contains("alice");
      // A silence mutes it (shown by 'alerts'); expiring it ends that.
      String silence =
          h.ok("silence", "add", "alertname=QueueBacklog", "--duration", "1h", "--comment", "drill")
              .out()
              .trim();
      assertThat(h.ok("silence", "list").out()).contains(silence).contains("active");
      assertThat(alerts(h).get(0).path("silencedBy").get(0).asText()).isEqualTo(silence);
      // Let the group flush (every 2 s) at least once while the alert is silenced: a silence
      // that starts and ends between two flushes changes nothing the receiver was sent, so
      // nothing is sent again. (The CLI calls above took longer than a flush until the CLI's
      // start-up was halved.)
      Thread.sleep(3_000);
      h.ok("silence", "expire", silence);
      assertThat(alerts(h).get(0).path("silencedBy")).isEmpty();
      // As in Alertmanager: a silence that ends on a still-firing alert brings it back to the
      // receiver at the group's next flush.
      await().atMost(Duration.ofSeconds(10)).until(() -> notified().size() == 2);

      // Nobody acknowledged within 3 s: the next level, bob; his acknowledgement stops it.
      await().atMost(Duration.ofSeconds(10)).until(() -> pages.contains("bob:incident/1"));
      assertThat(h.ok("incident", "ack", "1", "--by", "bob").out())
          .contains("incident 1 acknowledged by bob");
      assertThat(h.ok("incident", "show", "1").out())
          .contains("paged alice (on call for primary), level 1")
          .contains("paged bob, level 2")
          .contains("acknowledged by bob");

      // kill -9 and up again: still firing since the same moment, and no second notification.
      Harness.signal(h.daemonPid(), "KILL");
      await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(h.daemonPid()));
      h.up(spec);
      Thread.sleep(2500); // evaluations of the group in the new daemon
      JsonNode again = alerts(h).get(0);
      assertThat(again.path("state").asText()).isEqualTo("firing");
      assertThat(again.path("activeAt").asText()).isEqualTo(activeAt);
      assertThat(firingEvents(h)).isEqualTo(1);
      assertThat(notified())
          .as("the notification log survived: nothing sent again")
          .containsExactly("firing", "firing");
      assertThat(pages)
          .as("nobody paged again")
          .containsExactly("alice:incident/1", "bob:incident/1");
      assertThat(h.client().incident(1).path("state").asText()).isEqualTo("acknowledged");

      // The condition ends: resolved once.
      push(h, 3);
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(300))
          .until(() -> alerts(h).isEmpty());
      List<Wire.Event> resolved =
          h.client().events(0, 1000).stream()
              .filter(e -> e.type().equals("AlertResolved"))
              .toList();
      assertThat(resolved).hasSize(1);
      assertThat(resolved.get(0).message()).contains("QueueBacklog").contains("queue=\"orders\"");
      assertThat(h.ok("alerts").out()).doesNotContain("QueueBacklog");
      await().atMost(Duration.ofSeconds(10)).until(() -> notified().size() == 3);
      assertThat(notified()).containsExactly("firing", "firing", "resolved");
      // Its only alert resolved: so did the incident; the postmortem draft has the story.
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> h.client().incident(1).path("state").asText().equals("resolved"));
      assertThat(h.ok("incident", "postmortem", "1").out())
          .startsWith("# Postmortem: orders holds 500 jobs")
          .contains("| Acknowledged |")
          .contains("paged bob, level 2")
          .contains("all its alerts resolved")
          .contains("## Action items");
      Harness.Result resolveAgain = h.cli("incident", "resolve", "1");
      assertThat(resolveAgain.exit()).isNotZero();
      assertThat(resolveAgain.err()).contains("incident 1 is already resolved");

      // A broken rule file is refused at apply with its line; the running rules stay.
      Files.writeString(
          h.work.resolve("rules/queue.yml"),
          RULES.replace("queue:depth:max > 100", "queue:depth:max >"));
      Harness.Result r = h.cli("apply", "-f", spec.toString());
      assertThat(r.exit()).isNotZero();
      assertThat(r.err()).contains("rules/queue.yml:8:").contains("could not parse expression");
      assertThat(group(h, "queue").path("rules")).hasSize(2);
      Harness.Result check = h.cli("rules", "check", h.work.resolve("rules/queue.yml").toString());
      assertThat(check.exit()).isEqualTo(1);
      assertThat(check.err()).contains("queue.yml:8:").contains("could not parse expression");
    }
  }

  /** The share of the shop's requests answered without a 5xx, from the raw counters. */
  static double goodShare(Harness h) {
    return scalar(
        h,
        "sum(pilothouse_proxy_requests_total{service=\"shop\",class=\"2xx\"})"
            + " / sum(pilothouse_proxy_requests_total{service=\"shop\"})");
  }

  /** An expression's single value now; NaN when it has none. */
  static double scalar(Harness h, String expr) {
    @SuppressWarnings("unchecked")
    var result = (List<java.util.Map<String, Object>>) h.client().query(expr, null).get("result");
    return result.isEmpty()
        ? Double.NaN
        : Double.parseDouble(((List<?>) result.get(0).get("value")).get(1).toString());
  }

  @Test
  void slos_showTheirSli_budgetAndBurnRates_andJoinDora() throws Exception {
    try (Harness h = new Harness(tmp)) {
      // A fifth of the requests fail: far below a 99 % objective; latency stays well within 1 s.
      Path spec =
          h.writeSpec(
              "spec.yaml",
              Harness.routedShop("v1", 1, ", DEMO_ERROR_RATE: '0.2'")
                  + "    slos:\n"
                  + "      - {objective: 99%, labels: {team: shop}}\n"
                  + "      - {name: fast, sli: latency, threshold: 1s, objective: 99.9%}\n"
                  + "metrics: {scrapeInterval: 1s, hostMetrics: false}\n"
                  + "alerting:\n"
                  + "  anomalies:\n"
                  + "    - {name: traffic, interval: 1s,\n"
                  + "       expr: 'sum by (service) (rate(pilothouse_proxy_requests_total[10s]))'}\n");
      h.up(spec);
      int port = LoadBalancerTest.proxyPort(h);
      HttpClient c = HttpClient.newHttpClient();
      for (int i = 0; i < 200; i++) {
        c.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
            HttpResponse.BodyHandlers.discarding());
        if (i == 0) {
          // The counter's series is born with the first request: scraped once before the rest,
          // so that rate() sees the increase (a burst inside one scrape interval would leave
          // every sample at 200, as in Prometheus).
          await()
              .atMost(Duration.ofSeconds(10))
              .pollInterval(Duration.ofMillis(200))
              .until(
                  () -> scalar(h, "sum(pilothouse_proxy_requests_total{service=\"shop\"})") >= 1);
        }
      }
      // Every request scraped, twice (rate() needs two samples after the last increase).
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> scalar(h, "sum(pilothouse_proxy_requests_total{service=\"shop\"})") == 200);
      Thread.sleep(1500);
      Harness.Result r = h.cli("slo", "shop", "-o", "json");
      assertThat(r.exit()).as("an SLO is missed: exit 1\n" + r.out() + r.err()).isEqualTo(1);
      JsonNode slos = json.readTree(r.out());
      JsonNode availability = slos.get(0);
      assertThat(availability.path("name").asText()).isEqualTo("availability");
      assertThat(availability.path("objective").asDouble()).isEqualTo(0.99);
      assertThat(availability.path("window").asText()).isEqualTo("30d");
      // The share of good requests the load balancer counted (rate()'s extrapolation at the
      // window's edges may move the SLI a little off it, as in Prometheus).
      double counted = goodShare(h);
      assertThat(counted).as("DEMO_ERROR_RATE 0.2").isBetween(0.6, 0.95);
      assertThat(availability.path("sli_value").asDouble()).isCloseTo(counted, within(0.05));
      assertThat(availability.path("error_budget_remaining").asDouble()).isNegative();
      assertThat(availability.path("met").asBoolean()).isFalse();
      assertThat(availability.path("burn_rates").path("5m").asDouble()).isBetween(10.0, 30.0);
      JsonNode fast = slos.get(1);
      assertThat(fast.path("sli_value").asDouble()).isEqualTo(1.0);
      assertThat(fast.path("met").asBoolean()).isTrue();
      assertThat(fast.path("threshold_seconds").asDouble()).isEqualTo(1.0);
      // The compiled rules run beside the others, healthy.
      JsonNode group = group(h, "slo:shop:availability");
      assertThat(group.path("file").asText()).isEqualTo("slo");
      for (JsonNode rule : group.path("rules")) {
        assertThat(rule.path("health").asText()).as(rule.path("name").asText()).isEqualTo("ok");
      }
      assertThat(h.cli("slo").out())
          .contains("availability")
          .contains("99% / 30d")
          .contains("fast (latency <1000ms)");
      Harness.Result unknown = h.cli("slo", "nope");
      assertThat(unknown.exit()).isNotZero();
      assertThat(unknown.err()).contains("service nope has no SLOs").contains("shop");
      // DORA reports availability and attainment beside the four keys.
      JsonNode dora = json.readTree(h.ok("dora", "-o", "json").out());
      assertThat(dora.path("availability").asDouble()).isCloseTo(counted, within(0.05));
      assertThat(dora.path("services").path("shop").path("availability").asDouble())
          .isCloseTo(counted, within(0.05));
      assertThat(dora.path("slos").get(0).path("met").asBoolean()).isFalse();
      assertThat(h.ok("dora").out()).contains("AVAILABILITY").contains("shop/availability");
      // The anomaly detector scores the traffic series and writes the score back.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  h.client()
                      .query("anomaly:score{detector=\"traffic\",service=\"shop\"}", null)
                      .toString()
                      .contains("traffic"));
      assertThat(h.ok("query", "anomaly:score").out()).contains("detector=\"traffic\"");
    }
  }
}
