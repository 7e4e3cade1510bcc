package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PostgreSQL password rotation interrupted by {@code kill -9} of the daemon between two steps:
 * the next daemon finishes it — the role's password changed once, the secret promoted, the service
 * restarted with the new value.
 */
class RotationCrashTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ADMIN = "admin-" + Long.toHexString(System.nanoTime());
  RealPostgres pg;

  @AfterEach
  void stop() throws Exception {
    if (pg != null) {
      pg.close();
    }
  }

  int startPostgres() throws Exception {
    pg = RealPostgres.start(ADMIN);
    return pg.port;
  }

  static boolean login(int port, String user, String password) {
    return RealPostgres.login(port, user, password);
  }

  @Test
  void aRotationKilledBetweenSteps_isFinishedByTheNextDaemon() throws Exception {
    int port = startPostgres();
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "postgres", ADMIN);
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE app LOGIN PASSWORD 'old-password'");
    }
    String spec =
        "services:\n"
            + "  app:\n"
            + "    command: /bin/sh\n"
            + "    args: ['-c', 'printf %s \"$DB_PASSWORD\" > seen.tmp && mv seen.tmp seen; exec sleep 100000']\n"
            + "    env: {DB_PASSWORD: {secret: db-password}}\n"
            + "secrets:\n"
            + "  db-password:\n"
            + "    rotate: {postgres: {port: "
            + port
            + ", role: app, adminSecret: pg-admin}}\n";
    try (Harness h = new Harness(tmp)) {
      h.up(
          h.writeSpec(
              "idle.yaml", "services:\n  idle:\n    command: /bin/sleep\n    args: ['100000']\n"));
      h.cliWithInput(ADMIN, "secrets", "set", "pg-admin");
      h.cliWithInput("old-password", "secrets", "set", "db-password");
      h.ok("apply", "-f", h.writeSpec("app.yaml", spec).toString());
      h.awaitReady("app", 1, Duration.ofSeconds(30));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> read(tmp.resolve("seen")).equals("old-password"));

      // PostgreSQL stops answering: the rotation stores its new value, then waits in its set step
      assertThat(
              new ProcessBuilder("kill", "-STOP", Long.toString(pg.server.pid())).start().waitFor())
          .isZero();
      Process rotate = null;
      try {
        rotate =
            new ProcessBuilder(
                    Harness.JAVA,
                    "-cp",
                    Harness.LIB + "/*",
                    "dev.pilothouse.cli.Main",
                    "secrets",
                    "rotate",
                    "db-password",
                    "--state-dir",
                    h.stateDir.toString())
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("rotate.log").toFile())
                .start();
        await()
            .atMost(Duration.ofSeconds(8))
            .until(() -> "created".equals(secret(h).path("rotating").asText(null)));
        long daemon = h.daemonPid();
        assertThat(new ProcessBuilder("kill", "-9", Long.toString(daemon)).start().waitFor())
            .isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(daemon).isEmpty());
      } finally {
        new ProcessBuilder("kill", "-CONT", Long.toString(pg.server.pid())).start().waitFor();
        if (rotate != null) {
          rotate.waitFor(30, TimeUnit.SECONDS);
        }
      }
      assertThat(login(port, "app", "old-password")).as("nothing was set before the kill").isTrue();

      // the next daemon finds the rotation under way and finishes it
      h.ok("up", "--detach", "--api-port", "0", "--timeout", "60");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> secret(h).path("version").asInt() == 2 && secret(h).path("rotating").isNull());
      String fresh = h.ok("secrets", "get", "db-password").out().strip();
      assertThat(fresh).isNotEqualTo("old-password");
      assertThat(login(port, "app", fresh)).isTrue();
      assertThat(login(port, "app", "old-password")).isFalse();
      await().atMost(Duration.ofSeconds(30)).until(() -> read(tmp.resolve("seen")).equals(fresh));
      assertThat(h.ok("events", "-o", "json").out())
          .contains("SecretRotated")
          .doesNotContain(fresh);
    }
  }

  static JsonNode secret(Harness h) throws Exception {
    for (JsonNode n : JSON.readTree(h.ok("secrets", "list", "-o", "json").out())) {
      if (n.path("name").asText().equals("db-password")) {
        return n;
      }
    }
    throw new AssertionError("no db-password");
  }

  static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
