package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * API tokens with roles over real HTTP against the running daemon: what each role may call, scope
 * to services, expiry, revocation, denied calls recorded as events, failed authentications limited
 * per client address.
 */
class SecurityTest {
  @TempDir Path tmp;
  final HttpClient http = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  static final String SPEC =
      "services:\n"
          + "  web:\n    command: /bin/sleep\n    args: ['100000']\n"
          + "  jobs:\n    command: /bin/sleep\n    args: ['100000']\n";

  int call(String api, String token, String method, String path, String body) throws Exception {
    return send(http, api, token, method, path, body).statusCode();
  }

  static HttpResponse<String> send(
      HttpClient client, String api, String token, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json");
    b =
        body == null
            ? b.method(method, HttpRequest.BodyPublishers.noBody())
            : b.method(method, HttpRequest.BodyPublishers.ofString(body));
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void tokensWithRoles_scopes_expiry_revocation_deniedCallsAsEvents_andFailedLoginsLimited()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("spec.yaml", SPEC));
      String api = h.client().base();

      Harness.Result viewer = h.ok("token", "create", "grafana", "--role", "viewer");
      String v = viewer.out().strip();
      assertThat(v).startsWith("pht_");
      assertThat(viewer.err()).contains("shown this once");
      String op =
          h.ok("token", "create", "ci", "--role", "operator", "--service", "web").out().strip();
      String shortLived =
          h.ok("token", "create", "brief", "--role", "viewer", "--expires", "2s").out().strip();

      JsonNode list = JSON.readTree(h.ok("token", "list", "-o", "json").out());
      assertThat(list).hasSize(3);
      assertThat(list.toString()).doesNotContain(v).doesNotContain(op).doesNotContain("sha256");
      assertThat(list.get(1).path("role").asText()).isEqualTo("operator");
      assertThat(list.get(1).path("services").get(0).asText()).isEqualTo("web");

      // viewer: reads and queries, no changes, no tokens
      assertThat(call(api, v, "GET", "/api/v1/status", null)).isEqualTo(200);
      assertThat(call(api, v, "GET", "/api/v1/query?query=up", null)).isEqualTo(200);
      assertThat(call(api, v, "POST", "/api/v1/services/web/scale", "{\"replicas\": 2}"))
          .isEqualTo(403);
      HttpResponse<String> apply =
          send(http, api, v, "POST", "/api/v1/apply", "{\"spec\": \"services: {}\"}");
      assertThat(apply.statusCode()).isEqualTo(403);
      assertThat(apply.body()).contains("has the role viewer").contains("needs admin");
      assertThat(call(api, v, "GET", "/api/v1/tokens", null)).isEqualTo(403);
      assertThat(call(api, v, "POST", "/api/v1/write", "")).isEqualTo(403);

      // operator limited to web: scales web, not jobs; cannot apply specs or make tokens
      assertThat(call(api, op, "POST", "/api/v1/services/web/scale", "{\"replicas\": 2}"))
          .isEqualTo(200);
      assertThat(call(api, op, "POST", "/api/v1/services/jobs/scale", "{\"replicas\": 2}"))
          .isEqualTo(403);
      assertThat(call(api, op, "POST", "/api/v1/apply", "{\"spec\": \"services: {}\"}"))
          .isEqualTo(403);
      assertThat(
              call(api, op, "POST", "/api/v1/tokens", "{\"name\": \"mine\", \"role\": \"admin\"}"))
          .isEqualTo(403);
      assertThat(h.service("web").desiredReplicas()).isEqualTo(2);
      assertThat(h.service("jobs").desiredReplicas()).isEqualTo(1);

      // incident response: an instance taken out of traffic but kept running for analysis
      h.awaitReady("web", 2, Duration.ofSeconds(30));
      var suspect = h.service("web").instances().get(0);
      Harness.Result q =
          h.ok(
              "quarantine",
              "web",
              suspect.id(),
              "--reason",
              "suspected compromise",
              "--keep",
              "10m");
      assertThat(q.out()).contains("out of traffic").contains("kept running for 10m");
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  h.service("web").instances().stream()
                          .filter(i -> i.state().equals("running"))
                          .count()
                      == 2);
      assertThat(h.service("web").instances())
          .anySatisfy(
              i -> {
                assertThat(i.id()).isEqualTo(suspect.id());
                assertThat(i.state()).isEqualTo("quarantined");
              });
      assertThat(Harness.alive(suspect.pid())).as("kept running").isTrue();
      assertThat(h.cli("quarantine", "web", "nope").err())
          .contains("service web has no instance nope");
      String jobsInstance = h.service("jobs").instances().get(0).id();
      assertThat(
              call(
                  api,
                  op,
                  "POST",
                  "/api/v1/services/jobs/instances/" + jobsInstance + "/quarantine",
                  "{}"))
          .as("the ci token is limited to web")
          .isEqualTo(403);

      // every denied call is an event naming the token, never its secret
      String events = h.ok("events", "-o", "json").out();
      assertThat(events).contains("ApiCallDenied").contains("grafana").contains("ci");
      assertThat(events).doesNotContain(v).doesNotContain(op);

      // expiry and revocation take effect at once
      Thread.sleep(2_500);
      assertThat(call(api, shortLived, "GET", "/api/v1/status", null)).isEqualTo(401);
      assertThat(
              JSON.readTree(h.ok("token", "list", "-o", "json").out())
                  .get(0)
                  .path("state")
                  .asText())
          .isEqualTo("expired");
      h.ok("token", "revoke", "grafana");
      assertThat(call(api, v, "GET", "/api/v1/status", null)).isEqualTo(401);
      Harness.Result unknown = h.cli("token", "revoke", "nobody");
      assertThat(unknown.exit()).isNotZero();
      assertThat(unknown.err()).contains("no token named 'nobody'");
      Harness.Result badRole = h.cli("token", "create", "x", "--role", "root");
      assertThat(badRole.exit()).isNotZero();
      assertThat(badRole.err()).contains("role: unknown role 'root'");

      // failed authentications: an address that keeps failing is refused for a while, even with
      // a right token; other addresses are not (this client sends from 127.0.0.2)
      HttpClient other =
          HttpClient.newBuilder().localAddress(InetAddress.getByName("127.0.0.2")).build();
      int refused = 0;
      for (int i = 0; i < 20; i++) {
        refused +=
            send(other, api, "pht_wrong" + i, "GET", "/api/v1/status", null).statusCode() == 401
                ? 1
                : 0;
      }
      assertThat(refused).isEqualTo(20);
      HttpResponse<String> locked = send(other, api, op, "GET", "/api/v1/status", null);
      assertThat(locked.statusCode()).isEqualTo(429);
      assertThat(locked.headers().firstValue("Retry-After")).isPresent();
      assertThat(locked.body()).contains("too many failed authentications from 127.0.0.2");
      assertThat(call(api, op, "GET", "/api/v1/status", null)).isEqualTo(200);
    }
  }

  @Test
  void theAuditLog_recordsChangesWithTheirToken_provesEvents_andFindsAnEditedEvent()
      throws Exception {
    try (Harness h = new Harness(tmp)) {
      Path spec = h.writeSpec("spec.yaml", SPEC);
      h.up(spec);
      String api = h.client().base();
      String op = h.ok("token", "create", "ci", "--role", "operator").out().strip();
      assertThat(call(api, op, "POST", "/api/v1/services/web/scale", "{\"replicas\": 2}"))
          .isEqualTo(200);
      JsonNode signed = h.client().auditCheckpoint().path("last");
      assertThat(signed.path("size").asLong()).isPositive();

      JsonNode ok = JSON.readTree(h.ok("audit", "log", "verify", "-o", "json").out());
      assertThat(ok.path("ok").asBoolean()).isTrue();
      assertThat(ok.path("problems")).isEmpty();
      assertThat(h.ok("audit", "log", "verify").out()).startsWith("intact: ");

      String export = h.ok("audit", "log", "export").out();
      JsonNode change = null;
      for (String line : export.split("\n")) {
        JsonNode e = JSON.readTree(line);
        if (e.path("type").asText().equals("ApiCall")
            && e.path("fields").path("path").asText().equals("/api/v1/services/web/scale")) {
          change = e;
        }
      }
      assertThat(change).as("the scale call, recorded").isNotNull();
      assertThat(change.path("fields").path("token").asText()).isEqualTo("ci");
      assertThat(change.path("fields").path("role").asText()).isEqualTo("operator");
      assertThat(export).doesNotContain(op);

      Harness.Result proof = h.ok("audit", "log", "prove", "2");
      assertThat(proof.out()).contains("audit path:").endsWith("verified\n");
      JsonNode p = JSON.readTree(h.ok("audit", "log", "prove", "2", "-o", "json").out());
      // the newest checkpoint covering it: this one, or a later one the daemon signed since
      assertThat(p.path("treeSize").asLong()).isGreaterThanOrEqualTo(signed.path("size").asLong());
      assertThat(p.path("verified").asBoolean()).isTrue();
      assertThat(p.path("path")).isNotEmpty();
      assertThat(h.cli("audit", "log", "prove", "100000").err())
          .contains("no checkpoint covers event 100000");

      h.ok("down");
      try (java.sql.Connection c =
              java.sql.DriverManager.getConnection(
                  "jdbc:sqlite:" + h.stateDir.resolve("pilothouse.db"));
          java.sql.Statement st = c.createStatement()) {
        st.executeUpdate("UPDATE events SET message = 'nothing happened' WHERE seq = 2");
      }
      h.up(spec);
      Harness.Result broken = h.cli("audit", "log", "verify");
      assertThat(broken.exit()).isEqualTo(1);
      assertThat(broken.err())
          .contains("problem: event 2 breaks the hash chain")
          .contains("error: the audit log does not verify");
    }
  }

  /** Names that try to leave their directory or smuggle a path, as a client could send them. */
  static final String[] TRAVERSALS = {
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%5C..%5Cwindows",
    "a%00b",
    "%2e%2e"
  };

  /** Every endpoint that takes a name, with the method that changes or reads by it. */
  static final String[][] NAMED = {
    {"POST", "/api/v1/services/NAME/scale", "{\"replicas\": 1}"},
    {"POST", "/api/v1/services/NAME/restart", "{}"},
    {"POST", "/api/v1/services/NAME/deploy", "{\"version\": \"v2\"}"},
    {"POST", "/api/v1/services/NAME/undo", "{}"},
    {"POST", "/api/v1/services/NAME/restore", "{}"},
    {"POST", "/api/v1/services/NAME/drill", "{}"},
    {"GET", "/api/v1/services/NAME/logs", null},
    {"GET", "/api/v1/services/NAME/history", null},
    {"GET", "/api/v1/services/NAME/autoscale", null},
    {"GET", "/api/v1/services/NAME/advice", null},
    {"GET", "/api/v1/rollouts/NAME", null},
    {"POST", "/api/v1/rollouts/NAME/abort", "{}"},
    {"POST", "/api/v1/backups/NAME", "{}"},
    {"GET", "/api/v1/backups/NAME/wal", null},
    {"POST", "/api/v1/backups/NAME/wal/push", "{\"path\": \"/etc/passwd\", \"name\": \"x\"}"},
    {"POST", "/api/v1/backups/NAME/wal/fetch", "{\"path\": \"/tmp/x\", \"name\": \"x\"}"},
    {"GET", "/api/v1/flags/NAME", null},
    {"PUT", "/api/v1/flags/NAME", "{}"},
    {"DELETE", "/api/v1/flags/NAME", null},
    {"GET", "/api/v1/experiments/NAME", null},
    {"GET", "/api/v1/incidents/NAME", null},
    {"GET", "/api/v2/silence/NAME", null},
    {"DELETE", "/api/v1/tokens/NAME", null},
    {"GET", "/api/v1/audit/proof/NAME", null},
    {"PUT", "/api/v1/secrets/NAME", "{\"value\": \"x\"}"},
    {"GET", "/api/v1/secrets/NAME/value", null},
    {"DELETE", "/api/v1/secrets/NAME", null},
    {"POST", "/api/v1/secrets/NAME/rotate", "{}"},
    {"GET", "/api/v1/chaos/runs/NAME", null},
    {"POST", "/api/v1/chaos/runs/NAME/abort", "{}"},
    {
      "POST",
      "/api/v1/services/NAME/capture",
      "{\"key\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"
    },
  };

  @Test
  void penetration_everyHostileCallIsRefusedWithTheRightStatus_andRecorded() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("spec.yaml", SPEC));
      String api = h.client().base();
      String admin = java.nio.file.Files.readString(h.stateDir.resolve("api-token")).strip();
      String viewer = h.ok("token", "create", "look", "--role", "viewer").out().strip();
      String expired =
          h.ok("token", "create", "old", "--role", "admin", "--expires", "1s").out().strip();
      Thread.sleep(1_200);

      // no token, a wrong one, an expired one: 401 and a JSON error, never the data
      for (String t : new String[] {"", "pht_nope", expired, admin + "x"}) {
        HttpResponse<String> r = send(http, api, t, "GET", "/api/v1/status", null);
        assertThat(r.statusCode()).as("token '" + t + "'").isEqualTo(401);
        assertThat(r.body()).contains("\"error\"").doesNotContain("services");
      }
      // a viewer on operator and admin calls: 403, each an ApiCallDenied event
      for (String[] c : NAMED) {
        if (c[0].equals("GET")) {
          continue;
        }
        String path = c[1].replace("NAME", "web");
        assertThat(call(api, viewer, c[0], path, c[2])).as(c[0] + " " + path).isEqualTo(403);
      }
      long denied =
          h.client().events(0, 1000).stream().filter(e -> e.type().equals("ApiCallDenied")).count();
      assertThat(denied)
          .isEqualTo(java.util.Arrays.stream(NAMED).filter(c -> !c[0].equals("GET")).count());

      // hostile names on every endpoint that takes one: refused (400 or 404), never served,
      // never a server error, and no file outside the state directory touched
      long passwd = java.nio.file.Files.getLastModifiedTime(Path.of("/etc/passwd")).toMillis();
      for (String[] c : NAMED) {
        for (String bad : TRAVERSALS) {
          String path = c[1].replace("NAME", bad);
          // a client of its own per call: the HTTP server closes a connection after a request it
          // could not parse (a NUL in the path), and a pooled connection would be reused closed
          HttpResponse<String> r;
          try (HttpClient once = HttpClient.newHttpClient()) {
            r = send(once, api, admin, c[0], path, c[2]);
          } catch (java.io.IOException refusedAtTheHttpLayer) {
            // The HTTP server may refuse a request it cannot parse (a NUL in the path) before
            // reading its body, and the unread body then garbles the answer the client reads:
            // not served either. That the daemon still answers is checked after the loop.
            continue;
          }
          assertThat(r.statusCode()).as(c[0] + " " + path + ": " + r.body()).isIn(400, 404);
          assertThat(r.body()).as(path).doesNotContain("Exception").doesNotContain("root:x:");
        }
      }
      assertThat(java.nio.file.Files.getLastModifiedTime(Path.of("/etc/passwd")).toMillis())
          .isEqualTo(passwd);
      assertThat(call(api, admin, "GET", "/api/v1/status", null)).isEqualTo(200);

      // cost: a viewer may not ingest; an admin asking to ingest files that are not bills (the
      // daemon runs as root) is refused without a word of their content; hostile parameters 400
      assertThat(call(api, viewer, "POST", "/api/v1/cost/ingest", "{\"paths\": [\"/etc/passwd\"]}"))
          .isEqualTo(403);
      for (String file :
          new String[] {"/etc/passwd", "/etc/shadow", "relative/bill.csv", "/nope"}) {
        HttpResponse<String> r =
            send(
                http, api, admin, "POST", "/api/v1/cost/ingest", "{\"paths\": [\"" + file + "\"]}");
        assertThat(r.statusCode()).as(file + ": " + r.body()).isEqualTo(400);
        assertThat(r.body()).as(file).doesNotContain("root:").doesNotContain("Exception");
      }
      for (String q :
          new String[] {
            "report?by=../../etc", "report?period=2024-13", "report?perRequest=true&window=-1h",
            "recommendations?days=0", "recommendations?prices=/etc/passwd", "budgets?month=x",
            "anomalies?period=2024-09..2024-01"
          }) {
        HttpResponse<String> r = send(http, api, admin, "GET", "/api/v1/cost/" + q, null);
        assertThat(r.statusCode()).as(q + ": " + r.body()).isEqualTo(400);
        assertThat(r.body()).as(q).doesNotContain("root:").doesNotContain("Exception");
      }

      // chaos: a viewer may neither run, nor disable; an experiment that leaves the service's
      // directory or names no declared service is refused, nothing injected; hostile limits 400
      String fill =
          "{\"file\": \"x.yaml\", \"yaml\": \"name: x\\ntarget: {service: web}\\nfaults: [{disk:"
              + " {size: 1Mi, path: ../../etc}}]\\n\"}";
      assertThat(call(api, viewer, "POST", "/api/v1/chaos/runs", fill)).isEqualTo(403);
      assertThat(call(api, viewer, "POST", "/api/v1/chaos/disable", "{}")).isEqualTo(403);
      HttpResponse<String> refused = send(http, api, admin, "POST", "/api/v1/chaos/runs", fill);
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
      assertThat(refused.body())
          .contains("x.yaml")
          .contains("leaves the service's working directory");
      HttpResponse<String> nobody =
          send(
              http,
              api,
              admin,
              "POST",
              "/api/v1/chaos/runs",
              "{\"file\": \"x.yaml\", \"yaml\": \"name: x\\ntarget: {service: nobody}\\nfaults: [{kill:"
                  + " {}}]\\n\"}");
      assertThat(nobody.statusCode()).as(nobody.body()).isEqualTo(400);
      assertThat(nobody.body()).contains("no service 'nobody'");
      assertThat(call(api, admin, "GET", "/api/v1/chaos/runs?limit=0", null)).isEqualTo(400);
      // a list's limit out of its bounds is refused, not clamped in silence
      assertThat(call(api, admin, "GET", "/api/v1/events?limit=0", null)).isEqualTo(400);
      assertThat(call(api, admin, "GET", "/api/v1/events?limit=10001", null)).isEqualTo(400);
      assertThat(call(api, admin, "GET", "/api/v1/events?limit=10000", null)).isEqualTo(200);
      Harness.Result negative = h.cli("events", "--limit", "-5");
      assertThat(negative.exit()).isEqualTo(1);
      assertThat(negative.err()).contains("limit must be 1-10000, but was '-5'");
      assertThat(h.ok("chaos", "list", "-o", "json").out()).contains("\"runs\" : [ ]");

      // an oversized body: 413 before it is read, the daemon still answers
      String big = "{\"pad\": \"" + "x".repeat(2_000_000) + "\"}";
      assertThat(call(api, admin, "POST", "/api/v1/apply", big)).isEqualTo(413);
      assertThat(call(api, admin, "GET", "/api/v1/status", null)).isEqualTo(200);

      // failed authentications are recorded as events, never with the token sent
      String events = h.ok("events", "-o", "json").out();
      assertThat(events).contains("AuthenticationFailed").doesNotContain("pht_nope");
    }
  }
}
