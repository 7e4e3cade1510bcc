package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets through the CLI and a running daemon: set from stdin and a file, refused apply while one
 * is missing, given to a real process as env and as an owner-only file, never in events, logs,
 * history or the database in clear, a generated secret rotated with a rolling restart, kept across
 * a daemon restart, admin-only.
 */
class SecretsTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();

  static final String PLAIN = "services:\n  idle:\n    command: /bin/sleep\n    args: ['100000']\n";

  static final String WITH_SECRETS =
      "services:\n"
          + "  app:\n"
          + "    command: /bin/sh\n"
          + "    args: ['-c', 'printf %s \"$DB_PASSWORD\" > seen-password.tmp &&"
          + " mv seen-password.tmp seen-password; cat \"$TLS_KEY_FILE\" > seen-key;"
          + " stat -c %a \"$TLS_KEY_FILE\" > seen-mode; printf %s \"$TLS_KEY_FILE\" > seen-path;"
          + " printf %s \"$SESSION_KEY\" > seen-session.tmp && mv seen-session.tmp seen-session;"
          + " exec sleep 100000']\n"
          + "    env:\n"
          + "      DB_PASSWORD: {secret: db-password}\n"
          + "      TLS_KEY_FILE: {secret: tls-key, file: true}\n"
          + "      SESSION_KEY: {secret: session-key}\n"
          + "secrets:\n"
          + "  session-key: {rotate: {every: 30d}}\n";

  static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime()) + "-correct-horse";
  static final String KEY =
      "-----BEGIN KEY-----\nk3y-" + Long.toHexString(System.nanoTime()) + "\n";

  String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void secretsReachInstancesOnly_areRotatedWithARestart_andNeverShowInClear() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("idle.yaml", PLAIN));
      Path spec = h.writeSpec("app.yaml", WITH_SECRETS);

      // a spec naming a secret that is not set is refused, and nothing changes
      Harness.Result refused = h.cli("apply", "-f", spec.toString());
      assertThat(refused.exit()).isNotZero();
      assertThat(refused.err())
          .contains("the spec names secrets that are not set: db-password (services.app)")
          .contains("tls-key (services.app)")
          .contains("pilothouse secrets set NAME");
      assertThat(h.status().services()).extracting(s -> s.name()).containsExactly("idle");

      // set from stdin (one trailing newline dropped) and from a file
      Harness.Result set = h.cliWithInput(PASSWORD + "\n", "secrets", "set", "db-password");
      assertThat(set.exit()).as(set.err()).isZero();
      assertThat(set.out()).contains("secret db-password set (version 1)");
      Path keyFile = tmp.resolve("tls.key");
      Files.writeString(keyFile, KEY);
      h.ok("secrets", "set", "tls-key", "--from-file", keyFile.toString());
      // a name the daemon refuses is quoted as it was given (a space was sent as '+')
      Harness.Result badName = h.cliWithInput("x", "secrets", "set", "bad name");
      assertThat(badName.exit()).isEqualTo(1);
      assertThat(badName.err()).contains("'bad name' is not a secret name");
      Harness.Result unknown = h.cli("secrets", "rotate", "no-such-secret");
      assertThat(unknown.exit()).isEqualTo(1);
      assertThat(unknown.err()).contains("no secret named 'no-such-secret'");

      // the generated secret gets its first value from its declared rotation at apply
      h.ok("apply", "-f", spec.toString());
      h.awaitReady("app", 1, Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(20)).until(() -> read(tmp.resolve("seen-key")).equals(KEY));
      assertThat(read(tmp.resolve("seen-password"))).isEqualTo(PASSWORD);
      assertThat(read(tmp.resolve("seen-mode")).strip()).isEqualTo("600");
      Path secretFile = Path.of(read(tmp.resolve("seen-path")));
      assertThat(secretFile).startsWith(h.stateDir);
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(secretFile.getParent())))
          .isEqualTo("rwx------");
      String session = h.ok("secrets", "get", "session-key").out().strip();
      assertThat(session).hasSize(43);
      assertThat(read(tmp.resolve("seen-session"))).isEqualTo(session);
      assertThat(h.ok("secrets", "get", "db-password").out()).isEqualTo(PASSWORD + "\n");

      JsonNode list = JSON.readTree(h.ok("secrets", "list", "-o", "json").out());
      assertThat(list)
          .extracting(n -> n.path("name").asText())
          .containsExactly("db-password", "session-key", "tls-key");
      assertThat(list.toString())
          .doesNotContain(PASSWORD)
          .doesNotContain("k3y-")
          .doesNotContain(session);
      assertThat(list.get(1).path("rotation").asText()).isEqualTo("generate");
      assertThat(list.get(1).path("every").asText()).isEqualTo("30d");
      assertThat(list.get(0).path("usedBy").get(0).asText()).isEqualTo("app");
      assertThat(h.ok("secrets", "list").out()).contains("generate every 30d");

      // rotation: a new value, a rolling restart, the new instance sees it, the old one's file is
      // gone
      Harness.Result rotated = h.ok("secrets", "rotate", "session-key");
      assertThat(rotated.out())
          .contains("rotated session-key to version 2 (generate); rolling restart of app");
      String fresh = h.ok("secrets", "get", "session-key").out().strip();
      assertThat(fresh).isNotEqualTo(session);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> read(tmp.resolve("seen-session")).equals(fresh));
      await().atMost(Duration.ofSeconds(20)).until(() -> !Files.exists(secretFile));

      // in use: not deleted; a viewer token reads no secret
      Harness.Result del = h.cli("secrets", "delete", "db-password");
      assertThat(del.exit()).isNotZero();
      assertThat(del.err()).contains("secret 'db-password' is used by app");
      String viewer = h.ok("token", "create", "look", "--role", "viewer").out().strip();
      HttpClient http = HttpClient.newHttpClient();
      String api = h.client().base();
      assertThat(SecurityTest.send(http, api, viewer, "GET", "/api/v1/secrets", null).statusCode())
          .isEqualTo(403);
      assertThat(
              SecurityTest.send(http, api, viewer, "GET", "/api/v1/secrets/db-password/value", null)
                  .statusCode())
          .isEqualTo(403);

      // never in clear: events, history, the daemon's log, the database
      String events = h.ok("events", "-o", "json").out();
      assertThat(events).contains("SecretSet").contains("SecretRotated");
      for (String value : new String[] {PASSWORD, "k3y-", session, fresh}) {
        assertThat(events).doesNotContain(value);
        assertThat(h.ok("history", "app").out()).doesNotContain(value);
        assertThat(Files.readString(h.stateDir.resolve("daemon.log"))).doesNotContain(value);
        assertThat(stateFiles(h.stateDir, "pilothouse.db")).doesNotContain(value);
      }

      // an incident capture of the service: its processes' state, never their secrets
      Path bundle = tmp.resolve("app.bundle");
      Harness.Result cap = h.ok("incident", "capture", "app", "-o", bundle.toString());
      String key =
          cap.out()
              .lines()
              .filter(l -> l.startsWith("key "))
              .findFirst()
              .orElseThrow()
              .replaceFirst(".*: ", "");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(bundle)))
          .isEqualTo("rw-------");
      Path opened = tmp.resolve("opened");
      assertThat(
              h.ok("incident", "open", bundle.toString(), "--key", key, "-o", opened.toString())
                  .out())
          .contains("opened");
      assertThat(Files.readString(opened.resolve("summary.txt"))).contains("service: app");
      Path instance;
      try (Stream<Path> dirs = Files.list(opened.resolve("instances"))) {
        instance = dirs.findFirst().orElseThrow();
      }
      assertThat(Files.readString(instance.resolve("cmdline.txt"))).contains("sleep 100000");
      assertThat(Files.readString(instance.resolve("status.txt"))).contains("State:");
      assertThat(Files.readString(opened.resolve("events.jsonl"))).contains("InstanceStarted");
      StringBuilder all = new StringBuilder();
      try (Stream<Path> files = Files.walk(opened)) {
        for (Path f : files.filter(Files::isRegularFile).toList()) {
          all.append(Files.readString(f));
        }
      }
      for (String value : new String[] {PASSWORD, "k3y-", fresh}) {
        assertThat(all.toString()).doesNotContain(value);
      }
      Harness.Result wrong =
          h.cli(
              "incident",
              "open",
              bundle.toString(),
              "--key",
              "A".repeat(43),
              "-o",
              tmp.resolve("nope").toString());
      assertThat(wrong.exit()).isNotZero();
      assertThat(wrong.err()).contains("does not open with this key");
      assertThat(h.ok("events", "-o", "json").out()).contains("IncidentCaptured");

      // the master key is owner-only; a restarted daemon opens what the last one sealed
      assertThat(
              PosixFilePermissions.toString(
                  Files.getPosixFilePermissions(h.stateDir.resolve("secrets/master.key"))))
          .isEqualTo("rw-------");
      h.ok("down");
      h.up(spec);
      assertThat(h.ok("secrets", "get", "db-password").out().strip()).isEqualTo(PASSWORD);
      h.awaitReady("app", 1, Duration.ofSeconds(30));

      // validate flags a plain password and accepts the file
      Path plain =
          h.writeSpec(
              "plain.yaml",
              "services:\n  db:\n    command: /bin/sleep\n    args: ['1000']\n"
                  + "    env: {POSTGRES_PASSWORD: hunter2}\n");
      Harness.Result v = h.ok("validate", "-f", plain.toString());
      assertThat(v.err())
          .contains(
              "warning: plain.yaml:5:30: services.db.env.POSTGRES_PASSWORD: looks like a secret");
      assertThat(v.out()).contains("is valid");
    }
  }

  /** The bytes of the database and its write-ahead log, as text. */
  static String stateFiles(Path dir, String prefix) throws IOException {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()) {
        b.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
      }
    }
    return b.toString();
  }
}
