package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hardening issue's table, tried on the assembled daemon as an adversarial user would: every
 * row once took the daemon or the front door down, or leaked a secret.
 */
class HardeningTest {
  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  static String spec() {
    return "proxy: {port: 0}\n"
        + "metrics: {scrapeInterval: 1s, scrapeTimeout: 1s, queryTimeout: 2s}\n"
        + "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    version: v1\n"
        + "    replicas: 2\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    route: /\n";
  }

  HttpResponse<String> api(Harness h, String path, String method, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(h.client().base() + path))
            .timeout(Duration.ofSeconds(60))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String q(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void abusiveRequestsAndFiles_neverTakeTheDaemonOrTheFrontDoorDown() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.put("SOME_SECRET", "s3cr3t-from-the-shell");
      h.up(h.writeSpec("shop.yaml", spec()));
      h.awaitReady("shop", 2, Duration.ofSeconds(30));
      long daemon = h.daemonPid();
      String token = "Bearer " + DaemonInfo.readToken(h.stateDir);
      String front = "http://127.0.0.1:" + h.status().proxy().port() + "/";

      // Instances do not inherit the shell's environment.
      for (var i : h.service("shop").instances()) {
        assertThat(Harness.environ(i.pid()))
            .doesNotContainKey("SOME_SECRET")
            .containsKey("PORT")
            .containsKey("PATH");
      }

      // Files with secrets are the owner's only.
      assertThat(
              http.send(
                      HttpRequest.newBuilder(URI.create(front)).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
      assertThat(mode(h.stateDir)).isEqualTo("rwx------");
      assertThat(mode(h.stateDir.resolve("pilothouse.db"))).isEqualTo("rw-------");
      assertThat(mode(h.stateDir.resolve("daemon.log"))).isEqualTo("rw-------");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.exists(h.stateDir.resolve("logs/access.log")));
      assertThat(mode(h.stateDir.resolve("logs/access.log"))).isEqualTo("rw-------");

      // The load balancer keeps serving while abusive queries are refused.
      AtomicInteger served = new AtomicInteger();
      AtomicInteger failed = new AtomicInteger();
      CompletableFuture<Void> traffic =
          CompletableFuture.runAsync(
              () -> {
                long end = System.nanoTime() + Duration.ofSeconds(8).toNanos();
                while (System.nanoTime() < end) {
                  try {
                    int c =
                        http.send(
                                HttpRequest.newBuilder(URI.create(front))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                                HttpResponse.BodyHandlers.discarding())
                            .statusCode();
                    (c == 200 ? served : failed).incrementAndGet();
                  } catch (Exception e) {
                    failed.incrementAndGet();
                  }
                }
              });
      HttpResponse<String> range =
          api(
              h,
              "/api/v1/query_range?query=1&start=-4700000000000000&end=4700000000000000&step=1",
              "GET",
              null,
              "Authorization",
              token);
      assertThat(range.statusCode()).isEqualTo(400);
      assertThat(range.body()).contains("\"status\":\"error\"").contains("out of range");
      HttpResponse<String> sub =
          api(
              h,
              "/api/v1/query",
              "POST",
              "query=" + q("max_over_time(vector(1)[1d:1ms])"),
              "Authorization",
              token,
              "Content-Type",
              "application/x-www-form-urlencoded");
      assertThat(sub.statusCode()).isEqualTo(400);
      assertThat(sub.body()).contains("11,000 points per timeseries");
      HttpResponse<String> slow =
          api(
              h,
              "/api/v1/query?query="
                  + q("max_over_time(max_over_time(vector(1)[10000s:1s])[10000s:1s])"),
              "GET",
              null,
              "Authorization",
              token);
      assertThat(slow.statusCode()).isEqualTo(422);
      assertThat(slow.body()).contains("\"errorType\":\"timeout\"");
      traffic.join();
      assertThat(failed.get()).isZero();
      assertThat(served.get()).isPositive();
      assertThat(Harness.alive(daemon)).isTrue();

      // A sample stamped in 2100 is refused; current samples keep coming.
      long y2100 = Instant.parse("2100-01-01T00:00:00Z").toEpochMilli();
      byte[] req =
          org.xerial.snappy.Snappy.compress(
              WriteRequest.encode(
                  List.of(
                      new WriteRequest.TimeSeries(
                          Labels.of("__name__", "from_the_future", "job", "x"),
                          new long[] {y2100},
                          new double[] {1}))));
      HttpResponse<String> future =
          http.send(
              HttpRequest.newBuilder(URI.create(h.client().base() + "/api/v1/write"))
                  .header("Authorization", token)
                  .header("Content-Type", "application/x-protobuf")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(req))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(future.statusCode()).isEqualTo(400);
      assertThat(future.body()).contains("too far in the future");
      await()
          .atMost(Duration.ofSeconds(20))
          .until(
              () ->
                  !h.ok(
                          "query",
                          "pilothouse_tsdb_samples_refused_total{reason=\"too_far_in_future\"}"
                              + " == 1")
                      .out()
                      .contains("(no data)"));
      assertThat(h.ok("query", "count(up == 1)").out()).doesNotContain("no data");

      // Random and mutated remote-write bodies: always answered 2xx or 4xx, the daemon lives.
      java.util.SplittableRandom rnd = new java.util.SplittableRandom(10);
      byte[] valid =
          WriteRequest.encode(
              List.of(
                  new WriteRequest.TimeSeries(
                      Labels.of("__name__", "fuzzed", "job", "x"),
                      new long[] {System.currentTimeMillis()},
                      new double[] {1})));
      for (int i = 0; i < 300; i++) {
        byte[] body;
        switch (i % 3) {
          case 0 -> {
            body = new byte[rnd.nextInt(200)];
            rnd.nextBytes(body);
          }
          case 1 -> {
            byte[] raw = new byte[rnd.nextInt(200)];
            rnd.nextBytes(raw);
            body = org.xerial.snappy.Snappy.compress(raw);
          }
          default -> {
            byte[] m = valid.clone();
            m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
            body = org.xerial.snappy.Snappy.compress(m);
          }
        }
        int code =
            http.send(
                    HttpRequest.newBuilder(URI.create(h.client().base() + "/api/v1/write"))
                        .header("Authorization", token)
                        .header("Content-Type", "application/x-protobuf")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                        .build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode();
        assertThat(code).as("body %d", i).isIn(204, 400, 413);
      }
      assertThat(Harness.alive(daemon)).isTrue();

      // Cross-site state changes are refused; the CLI's bearer-token calls are not.
      String basic =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString(
                      ("x:" + DaemonInfo.readToken(h.stateDir)).getBytes(StandardCharsets.UTF_8));
      HttpResponse<String> form =
          api(
              h,
              "/api/v1/services/shop/scale",
              "POST",
              "{\"replicas\":5}",
              "Authorization",
              basic,
              "Content-Type",
              "text/plain");
      assertThat(form.statusCode()).isEqualTo(415);
      HttpResponse<String> origin =
          api(
              h,
              "/api/v1/services/shop/scale",
              "POST",
              "{\"replicas\":5}",
              "Authorization",
              token,
              "Content-Type",
              "application/json",
              "Origin",
              "http://evil.example");
      assertThat(origin.statusCode()).isEqualTo(403);
      assertThat(h.service("shop").desiredReplicas()).isEqualTo(2);

      // The audit chain verifies.
      Harness.Result ok = h.ok("events", "verify");
      assertThat(ok.out()).contains("events, chain intact");
      h.ok("down");
    }
  }

  @Test
  void damagedFilesAndAnEditedEvent_areFoundAtStart_andNeverStopIt() throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("shop.yaml", spec().replace("replicas: 2", "replicas: 1"));
      h.up(spec);
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      h.ok("down");
      // A stray file and a damaged block directory, and an edited event.
      Path blocks = h.stateDir.resolve("tsdb/blocks");
      Files.createDirectories(blocks.resolve("0000000000000000-0000000000000fff-1"));
      Files.writeString(
          blocks.resolve("0000000000000000-0000000000000fff-1/index"), "not an index");
      Files.writeString(blocks.resolve("notes.txt"), "left here by someone\n");
      try (Connection c =
              DriverManager.getConnection("jdbc:sqlite:" + h.stateDir.resolve("pilothouse.db"));
          Statement st = c.createStatement()) {
        st.executeUpdate("UPDATE events SET message = 'nothing happened' WHERE seq = 2");
      }
      Files.setPosixFilePermissions(
          h.stateDir.resolve("pilothouse.db"), PosixFilePermissions.fromString("rw-r--r--"));

      h.up(spec);
      h.awaitReady("shop", 1, Duration.ofSeconds(30));
      assertThat(Files.exists(h.stateDir.resolve("tsdb/corrupted/notes.txt"))).isTrue();
      assertThat(
              Files.exists(
                  h.stateDir.resolve("tsdb/corrupted/0000000000000000-0000000000000fff-1")))
          .isTrue();
      assertThat(mode(h.stateDir.resolve("pilothouse.db"))).isEqualTo("rw-------");
      List<String> types = new ArrayList<>();
      h.client().events(-1, 200).forEach(e -> types.add(e.type()));
      assertThat(types).contains("TsdbBlockQuarantined", "AuditChainBroken");
      Harness.Result broken = h.cli("events", "verify");
      assertThat(broken.exit()).isEqualTo(1);
      assertThat(broken.out()).contains("chain broken at event 2").contains("edited");
      Harness.Result json = h.cli("events", "verify", "-o", "json");
      assertThat(json.out()).contains("\"intact\" : false").contains("\"firstBroken\" : 2");
      assertThat(Files.readString(h.stateDir.resolve("daemon.log")))
          .contains("moved to")
          .contains("took group and other permissions off");
    }
  }
}
