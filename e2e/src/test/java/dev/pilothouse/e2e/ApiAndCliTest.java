package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.client.Wire;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The API's security and the CLI's verbs, exit codes and output against one running daemon. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiAndCliTest {
  @TempDir static Path tmp;
  Harness h;
  Path spec;
  final HttpClient http = HttpClient.newHttpClient();
  final ObjectMapper json = new ObjectMapper();

  static final String SPEC =
      "services:\n  shop:\n    "
          + Harness.demoCommand()
          + "    replicas: 2\n"
          + "    env: {DEMO_VERSION: v1, DB_PASSWORD: hunter2}\n"
          + "    readiness: {http: /readyz, interval: 1s}\n";

  @BeforeAll
  void start() throws Exception {
    h = new Harness(tmp);
    spec = h.writeSpec("shop.yaml", SPEC);
    h.up(spec);
    h.awaitReady("shop", 2, Duration.ofSeconds(30));
  }

  @AfterAll
  void stop() {
    h.close();
  }

  HttpResponse<String> get(String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(h.client().base() + path));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  String token() throws Exception {
    return DaemonInfo.readToken(h.stateDir);
  }

  @Test
  void api_requiresTheToken_asBearerOrBasicPassword() throws Exception {
    HttpResponse<String> none = get("/api/v1/status", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(json.readTree(none.body()).get("error").asText()).isEqualTo("missing API token");
    assertThat(json.readTree(none.body()).get("hint").asText()).contains("api-token");
    assertThat(get("/api/v1/status", "Bearer wrong").statusCode()).isEqualTo(401);
    assertThat(get("/api/v1/status", "Bearer " + token()).statusCode()).isEqualTo(200);
    String basic =
        Base64.getEncoder().encodeToString(("grafana:" + token()).getBytes(StandardCharsets.UTF_8));
    assertThat(get("/api/v1/status", "Basic " + basic).statusCode()).isEqualTo(200);
    String badBasic =
        Base64.getEncoder().encodeToString("grafana:nope".getBytes(StandardCharsets.UTF_8));
    assertThat(get("/api/v1/status", "Basic " + badBasic).statusCode()).isEqualTo(401);
  }

  @Test
  void tokenFileIsPrivate_andApiListensOnLoopbackOnly() throws Exception {
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(DaemonInfo.tokenFile(h.stateDir))))
        .isEqualTo("rw-------");
    assertThat(h.client().base()).startsWith("http://127.0.0.1:");
  }

  @Test
  void statusJson_holdsDaemonPidAndInstanceFields() throws Exception {
    Harness.Result r = h.ok("status", "-o", "json");
    JsonNode root = json.readTree(r.out());
    assertThat(root.get("pid").asLong()).isEqualTo(h.daemonPid());
    JsonNode shop = root.get("services").get(0);
    assertThat(shop.get("name").asText()).isEqualTo("shop");
    assertThat(shop.get("instances")).hasSize(2);
    for (JsonNode i : shop.get("instances")) {
      assertThat(i.get("id").asText()).startsWith("shop-");
      assertThat(i.get("pid").asLong()).isPositive();
      assertThat(i.get("port").asInt()).isPositive();
      assertThat(i.get("state").asText()).isEqualTo("running");
      assertThat(i.get("ready").isBoolean()).isTrue();
      assertThat(Harness.alive(i.get("pid").asLong())).isTrue();
    }
  }

  @Test
  void instancesAnswerOnTheirInjectedPort() throws Exception {
    for (Wire.Instance i : h.service("shop").instances()) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + i.port() + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.body()).isEqualTo("hello from v1 (" + i.id() + ")\n");
    }
  }

  @Test
  void invalidSpec_isRejectedWithLocations_andNothingIsApplied() throws Exception {
    long revision = h.status().revision();
    Path bad =
        h.writeSpec(
            "bad.yaml", "services:\n  shop:\n    command: x\n    replicas: -1\n    livenes: {}\n");
    Harness.Result r = h.cli("apply", "-f", bad.toString());
    assertThat(r.exit()).isEqualTo(4);
    assertThat(r.err())
        .contains("bad.yaml:4:15: services.shop.replicas: must be between 0 and 1000, but is -1")
        .contains(
            "bad.yaml:5:5: services.shop.livenes: unknown field 'livenes' (did you mean 'liveness'?)")
        .contains("nothing was applied")
        .doesNotContain("Exception");
    Harness.Result v = h.cli("validate", "-f", bad.toString());
    assertThat(v.exit()).isEqualTo(4);
    assertThat(h.status().revision()).isEqualTo(revision);
    assertThat(h.service("shop").instances()).hasSize(2);
  }

  @Test
  void apiRejectsInvalidSpecToo_withProblemsInTheBody() throws Exception {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create(h.client().base() + "/api/v1/apply"))
            .header("Authorization", "Bearer " + token())
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"file\":\"x.yaml\",\"yaml\":\"services: 3\",\"baseDir\":\"/tmp\"}"))
            .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(422);
    JsonNode p = json.readTree(r.body()).get("problems").get(0);
    assertThat(p.get("line").asInt()).isEqualTo(1);
    assertThat(p.get("column").asInt()).isEqualTo(11);
    HttpRequest garbage =
        HttpRequest.newBuilder(URI.create(h.client().base() + "/api/v1/apply"))
            .header("Authorization", "Bearer " + token())
            .POST(HttpRequest.BodyPublishers.ofString("{not json"))
            .build();
    HttpResponse<String> g = http.send(garbage, HttpResponse.BodyHandlers.ofString());
    assertThat(g.statusCode()).isEqualTo(400);
    assertThat(json.readTree(g.body()).get("error").asText()).contains("not valid JSON");
  }

  @Test
  void applySameSpecAgain_changesNothing() {
    assertThat(h.ok("apply", "-f", spec.toString()).out()).contains("no changes");
  }

  @Test
  void scaleAndRestart_throughTheCli() throws Exception {
    assertThat(h.ok("scale", "shop", "3").out()).contains("~ services.shop.replicas: 2 -> 3");
    h.awaitReady("shop", 3, Duration.ofSeconds(30));
    List<Long> before = h.service("shop").instances().stream().map(Wire.Instance::pid).toList();
    assertThat(h.ok("restart", "shop").out()).contains("rolling restart of shop started");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Wire.Service s = h.service("shop");
              return s.readyReplicas() == 3
                  && s.instances().size() == 3
                  && s.instances().stream().noneMatch(i -> before.contains(i.pid()));
            });
    assertThat(h.ok("scale", "shop", "2").out()).contains("3 -> 2");
    h.awaitReady("shop", 2, Duration.ofSeconds(30));
    Harness.Result unknown = h.cli("scale", "nope", "1");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("no service named 'nope'").contains("known services: shop");
  }

  @Test
  void deployHistoryAndUndo_throughTheCli() throws Exception {
    long before = h.status().revision();
    Harness.Result d = h.ok("deploy", "shop", "--version", "v9", "--env", "FEATURE=on");
    assertThat(d.out())
        .contains("~ services.shop.version: \"\" -> v9") // an empty value shows as YAML's ""
        .contains("+ services.shop.env.FEATURE");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> {
              Wire.Service s = h.service("shop");
              return s.instances().size() == s.desiredReplicas()
                  && s.readyReplicas() == s.desiredReplicas()
                  && s.instances().stream().allMatch(i -> i.version().equals("v9"));
            });
    Harness.Result hist = h.ok("history", "shop");
    assertThat(hist.out()).contains("deploy shop v9").contains("REVISION");
    Harness.Result undo = h.ok("rollout", "undo", "shop", "--to-revision", Long.toString(before));
    assertThat(undo.out())
        .contains("~ services.shop.version: v9 -> \"\"")
        .contains("- services.shop.env.FEATURE");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                h.service("shop").instances().stream()
                    .allMatch(i -> i.version().isEmpty() && i.ready()));
    Harness.Result bad = h.cli("deploy", "shop", "--version", "v2", "--env", "NOEQUALS");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--env needs KEY=VALUE");
  }

  @Test
  void logs_showInstanceOutput_withInstancePrefix() {
    Wire.Instance i = h.service("shop").instances().get(0);
    Harness.Result all = h.ok("logs", "shop");
    assertThat(all.out())
        .contains("[" + i.id() + "] demo v1 (" + i.id() + ") listening on 127.0.0.1:" + i.port());
    Harness.Result one = h.ok("logs", "shop", "--instance", i.id(), "--since", "10m");
    assertThat(one.out()).contains("listening on 127.0.0.1:" + i.port());
    assertThat(one.out().lines()).allMatch(l -> l.startsWith("[" + i.id() + "]"));
    Harness.Result bad = h.cli("logs", "shop", "--since", "yesterday");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("invalid --since value 'yesterday'");
    Harness.Result none = h.cli("logs", "shop", "--instance", "shop-nosuch");
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.err()).contains("no instance 'shop-nosuch' of shop has logs");
  }

  @Test
  void logsFollow_streamsNewLinesAsTheyAreWritten() throws Exception {
    Wire.Instance i = h.service("shop").instances().get(0);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    java.io.OutputStream sync =
        new java.io.OutputStream() {
          @Override
          public synchronized void write(int b) {
            out.write(b);
          }

          @Override
          public synchronized void write(byte[] b, int off, int len) {
            out.write(b, off, len);
          }
        };
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    h.client().logs("shop", i.id(), null, true, sync);
                  } catch (RuntimeException e) {
                    // ends when the test interrupts it or the daemon stops
                  }
                });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              synchronized (sync) {
                return out.toString().contains("listening on");
              }
            });
    http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + i.port() + "/admin/faults"))
            .POST(HttpRequest.BodyPublishers.ofString("latency_ms=0"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              synchronized (sync) {
                return out.toString().contains("[" + i.id() + "] demo: faults now");
              }
            });
    t.interrupt();
  }

  @Test
  void events_asJson_andFollowedOverSse_neverShowSecrets() throws Exception {
    Harness.Result r = h.ok("events", "-o", "json", "--limit", "500");
    JsonNode events = json.readTree(r.out());
    assertThat(events.isArray()).isTrue();
    assertThat(r.out()).contains("SpecApplied").contains("InstanceReady").doesNotContain("hunter2");
    List<Wire.Event> streamed = new CopyOnWriteArrayList<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    h.client()
                        .followEvents(
                            events.get(events.size() - 1).get("seq").asLong(), streamed::add);
                  } catch (RuntimeException e) {
                    // ends when the daemon stops
                  }
                });
    h.ok("restart", "shop");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> streamed.stream().anyMatch(e -> e.type().equals("RestartRequested")));
    t.interrupt();
    h.awaitReady("shop", h.service("shop").desiredReplicas(), Duration.ofSeconds(60));
    String log = Files.readString(h.stateDir.resolve("daemon.log"));
    assertThat(log).doesNotContain("hunter2").doesNotContain(token());
  }

  @Test
  void commandsWithoutADaemon_sayHowToStartOne() throws Exception {
    Path other = tmp.resolve("empty-state");
    Harness.Result r = h.cli("status", "--state-dir", other.toString());
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("no daemon is running").contains("pilothouse up");
    assertThat(r.err()).doesNotContain("Exception");
  }

  @Test
  void secondDaemonOnSameStateDir_isRefused() throws Exception {
    Process p =
        new ProcessBuilder(
                Harness.JAVA,
                "-cp",
                Harness.LIB + "/*",
                "dev.pilothouse.server.Main",
                "--state-dir",
                h.stateDir.toString(),
                "--api-port",
                "0")
            .redirectErrorStream(true)
            .start();
    assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(3);
    assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .contains("another daemon is already running")
        .contains("pid " + h.daemonPid());
    assertThat(h.status().pid()).isEqualTo(h.daemonPid());
  }
}
