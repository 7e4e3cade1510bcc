package dev.pilothouse.alerting.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import dev.pilothouse.spec.AlertmanagerConfig;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds the same alerts to a real Alertmanager (Debian's prometheus-alertmanager, installed by
 * ./test) and to our router under the same configuration, and compares what each notifies: which
 * receiver gets which group (its key and labels), the common labels, and each alert with its
 * fingerprint and status — routing with continue, group_by, a regex route and inhibition.
 */
class AlertmanagerComplianceTest {
  static final Path ALERTMANAGER = Path.of("/usr/bin/prometheus-alertmanager");

  static final String CONFIG =
      """
      route:
        receiver: team
        group_by: [alertname]
        group_wait: 1s
        group_interval: 1h
        repeat_interval: 4h
        routes:
          - matchers: ['severity="page"']
            receiver: pager
            continue: true
            group_by: [alertname, cluster]
          - matchers: ['service=~"api|web"']
            receiver: web
            group_by: ['...']
      receivers:
        - name: team
          webhook_configs: [{url: 'http://127.0.0.1:PORT/team'}]
        - name: pager
          webhook_configs: [{url: 'http://127.0.0.1:PORT/pager'}]
        - name: web
          webhook_configs: [{url: 'http://127.0.0.1:PORT/web'}]
      inhibit_rules:
        - source_matchers: ['severity="critical"']
          target_matchers: ['severity="warning"']
          equal: [cluster]
      """;

  /** The alerts both get: labels as alternating name, value. */
  static final List<String[]> ALERTS =
      List.of(
          new String[] {
            "alertname", "Down", "severity", "page", "cluster", "a", "instance", "h1:9100"
          },
          new String[] {
            "alertname", "Down", "severity", "page", "cluster", "b", "instance", "h2:9100"
          },
          new String[] {"alertname", "Slow", "service", "api", "instance", "h3:80"},
          new String[] {"alertname", "Slow", "service", "web", "instance", "h4:80", "job", "web"},
          new String[] {"alertname", "DiskFull", "severity", "critical", "cluster", "a"},
          new String[] {"alertname", "DiskFilling", "severity", "warning", "cluster", "a"},
          new String[] {"alertname", "DiskFilling", "severity", "warning", "cluster", "c"},
          new String[] {"alertname", "Backlog", "queue", "orders", "job", "worker"});

  static Map<String, String> labels(String[] kv) {
    Map<String, String> m = new TreeMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts Debian's Alertmanager with DIR/am.yml on a loopback port, ready to take alerts. */
  static Process alertmanager(Path dir, int port) throws Exception {
    Process am =
        new ProcessBuilder(
                ALERTMANAGER.toString(),
                "--config.file=" + dir.resolve("am.yml"),
                "--storage.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--cluster.listen-address=",
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("am.log").toFile())
            .start();
    HttpClient http = HttpClient.newHttpClient();
    URI ready = URI.create("http://127.0.0.1:" + port + "/-/ready");
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () ->
                http.send(
                            HttpRequest.newBuilder(ready).build(),
                            HttpResponse.BodyHandlers.discarding())
                        .statusCode()
                    == 200);
    return am;
  }

  static void stop(Process am) throws InterruptedException {
    am.destroy();
    if (!am.waitFor(10, TimeUnit.SECONDS)) {
      am.destroyForcibly();
    }
  }

  /** A notification reduced to what both must agree on, as one comparable line. */
  static String line(
      String receiver, String groupKey, Object groupLabels, Object common, List<String> alerts) {
    return receiver + " | " + groupKey + " | " + groupLabels + " | " + common + " | " + alerts;
  }

  @Test
  void notifications_equalAlertmanagers(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(ALERTMANAGER), "prometheus-alertmanager is installed by ./test");
    ObjectMapper json = new ObjectMapper();
    List<String> theirs = new CopyOnWriteArrayList<>();
    HttpServer hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hooks.createContext(
        "/",
        x -> {
          JsonNode n = json.readTree(x.getRequestBody().readAllBytes());
          List<String> alerts = new ArrayList<>();
          for (JsonNode a : n.path("alerts")) {
            alerts.add(
                a.path("fingerprint").asText()
                    + " "
                    + a.path("status").asText()
                    + " "
                    + new TreeMap<>(json.convertValue(a.path("labels"), Map.class)));
          }
          theirs.add(
              line(
                  n.path("receiver").asText(),
                  n.path("groupKey").asText(),
                  new TreeMap<>(json.convertValue(n.path("groupLabels"), Map.class)),
                  new TreeMap<>(json.convertValue(n.path("commonLabels"), Map.class)),
                  alerts));
          x.sendResponseHeaders(200, -1);
          x.close();
        });
    hooks.start();
    String config = CONFIG.replace("PORT", Integer.toString(hooks.getAddress().getPort()));
    Files.writeString(dir.resolve("am.yml"), config);
    int port = freePort();
    Process am = alertmanager(dir, port);
    try {
      HttpClient http = HttpClient.newHttpClient();
      Instant start = Instant.parse("2026-11-29T12:00:00Z");
      // Alertmanager's inhibitor learns of alerts asynchronously: an inhibiting alert posted in
      // the same batch as its target may not be known yet when the target's group flushes (a
      // race of Alertmanager's, seen on a busy machine). So the inhibiting alerts go first, and
      // the rest once Alertmanager lists them; ours gets them all at once.
      for (boolean sources : new boolean[] {true, false}) {
        ArrayNode body = json.createArrayNode();
        for (String[] kv : ALERTS) {
          if (labels(kv).getOrDefault("severity", "").equals("critical") == sources) {
            ObjectNode a = body.addObject();
            a.set("labels", json.valueToTree(labels(kv)));
            a.put("startsAt", start.toString());
          }
        }
        URI alerts = URI.create("http://127.0.0.1:" + port + "/api/v2/alerts");
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(alerts)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(body)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        if (sources) {
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () ->
                      http.send(
                              HttpRequest.newBuilder(alerts).build(),
                              HttpResponse.BodyHandlers.ofString())
                          .body()
                          .contains("DiskFull"));
          Thread.sleep(300);
        }
      }
      // Every group Alertmanager makes flushes after group_wait; wait for it to settle.
      await().atMost(Duration.ofSeconds(20)).until(() -> theirs.size() >= 6);
      Thread.sleep(2000); // nothing more may come within group_interval (1 h)

      // Ours, under the same configuration (read by the spec module's reader).
      AlertmanagerConfig.Parsed parsed = AlertmanagerConfig.read("am.yml", config);
      assertThat(parsed.errors()).isEmpty();
      RoutingConfig rc = parsed.config().orElseThrow();
      List<String> ours = new ArrayList<>();
      List<AlertState> states = new ArrayList<>();
      for (String[] kv : ALERTS) {
        states.add(
            new AlertState(
                kv[1], labels(kv), Map.of(), AlertState.State.FIRING, start, start, null, null, 1));
      }
      Instant[] now = {start};
      Router router =
          new Router(
              () -> Optional.of(rc),
              () -> states,
              (in, n) -> ours.add(line(n, json)),
              new RouterTest.Repo(),
              () -> now[0],
              new Router.Options(() -> "", Runnable::run));
      for (int i = 0; i < 5; i++) {
        now[0] = now[0].plusSeconds(1);
        router.tick();
      }
      assertThat(new TreeSet<>(ours)).isEqualTo(new TreeSet<>(theirs));
      assertThat(ours).hasSameSizeAs(theirs);
    } finally {
      stop(am);
      hooks.stop(0);
    }
  }

  @Test
  void forwardedAlerts_reachARealAlertmanager_firingThenResolved(@TempDir Path dir)
      throws Exception {
    assumeTrue(Files.isExecutable(ALERTMANAGER), "prometheus-alertmanager is installed by ./test");
    Files.writeString(
        dir.resolve("am.yml"), "route: {receiver: none}\nreceivers: [{name: none}]\n");
    int port = freePort();
    Process am = alertmanager(dir, port);
    try {
      HttpClient http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + port;
      Instant now = Instant.now();
      List<AlertState> states = new CopyOnWriteArrayList<>();
      Map<String, String> l = Map.of("alertname", "Backlog", "queue", "orders");
      states.add(
          new AlertState(
              "Backlog",
              l,
              Map.of("summary", "500 jobs"),
              AlertState.State.FIRING,
              now,
              now,
              null,
              null,
              500));
      Forwarder f =
          new Forwarder(
              () -> List.of(base), () -> states, Instant::now, Runnable::run, () -> "http://x");
      f.tick();
      ObjectMapper json = new ObjectMapper();
      JsonNode got =
          json.readTree(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/api/v2/alerts")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      assertThat(got).hasSize(1);
      assertThat(got.get(0).path("labels").path("queue").asText()).isEqualTo("orders");
      assertThat(got.get(0).path("annotations").path("summary").asText()).isEqualTo("500 jobs");
      assertThat(got.get(0).path("status").path("state").asText()).isEqualTo("active");
      states.set(
          0,
          new AlertState(
              "Backlog", l, Map.of(), AlertState.State.INACTIVE, now, now, Instant.now(), null, 3));
      f.tick();
      JsonNode after =
          json.readTree(
              http.send(
                      HttpRequest.newBuilder(URI.create(base + "/api/v2/alerts?active=true"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      assertThat(after).as("resolved: no longer active in the Alertmanager").isEmpty();
    } finally {
      stop(am);
    }
  }

  private static String line(Notification n, ObjectMapper json) {
    List<String> alerts = new ArrayList<>();
    for (Notification.Alert a : n.alerts()) {
      alerts.add(a.fingerprint() + " " + a.status() + " " + new TreeMap<>(a.labels()));
    }
    return line(
        n.receiver(),
        n.groupKey(),
        new TreeMap<>(n.groupLabels()),
        new TreeMap<>(n.commonLabels()),
        alerts);
  }
}
