package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon whose state lives in a real PostgreSQL (Debian's, started here) instead of its state
 * directory's SQLite file: revisions, instances and the event chain are there, survive a kill -9,
 * and a second daemon on the same database is refused.
 */
class PostgresStateTest {
  @TempDir Path tmp;

  @Test
  void stateInPostgres_survivesKill9_andASecondDaemonIsRefused() throws Exception {
    Path bin = PostgresPitrTest.bin();
    Path pg =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "pilothouse-state-pg-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Process server = null;
    try {
      if (PostgresPitrTest.root()) {
        assertThat(
                new ProcessBuilder("chown", "postgres:postgres", pg.toString()).start().waitFor())
            .isZero();
      }
      Path pwfile = pg.resolve("admin-password");
      Files.writeString(pwfile, "admin-pw\n");
      Process initdb =
          new ProcessBuilder(
                  PostgresPitrTest.asPostgres(
                      List.of(
                          bin.resolve("initdb").toString(),
                          "-D",
                          pg.resolve("data").toString(),
                          "-A",
                          "md5",
                          "-U",
                          "postgres",
                          "--pwfile=" + pwfile,
                          "--no-sync")))
              .redirectErrorStream(true)
              .redirectOutput(pg.resolve("initdb.log").toFile())
              .start();
      assertThat(initdb.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(initdb.exitValue()).as(Files.readString(pg.resolve("initdb.log"))).isZero();
      int port = RemoteWriteTest.freePort();
      server =
          new ProcessBuilder(
                  PostgresPitrTest.asPostgres(
                      List.of(
                          bin.resolve("postgres").toString(),
                          "-D",
                          pg.resolve("data").toString(),
                          "-p",
                          Integer.toString(port),
                          "-k",
                          pg.toString(),
                          "-c",
                          "listen_addresses=127.0.0.1",
                          "-c",
                          "fsync=off")))
              .redirectErrorStream(true)
              .redirectOutput(pg.resolve("postgres.log").toFile())
              .start();
      String admin = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(
              () -> {
                try (Connection c = DriverManager.getConnection(admin, "postgres", "admin-pw")) {
                  return true;
                }
              });
      try (Connection c = DriverManager.getConnection(admin, "postgres", "admin-pw");
          Statement s = c.createStatement()) {
        s.execute("CREATE ROLE pilothouse LOGIN PASSWORD 'state-pw'");
        s.execute("CREATE DATABASE pilothouse OWNER pilothouse");
      }
      String url = "jdbc:postgresql://127.0.0.1:" + port + "/pilothouse";
      Path pw = tmp.resolve("store-password");
      Files.writeString(pw, "state-pw\n");

      Files.createDirectories(tmp.resolve("one"));
      Files.createDirectories(tmp.resolve("two"));
      try (Harness h = new Harness(tmp.resolve("one"))) {
        h.cliEnv.put("PILOTHOUSE_STORE_URL", url);
        h.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
        h.up(h.writeSpec("shop.yaml", Harness.routedShop("v1", 2, "")));
        h.awaitReady("shop", 2, Duration.ofSeconds(30));
        assertThat(Files.exists(h.stateDir.resolve("pilothouse.db")))
            .as("no SQLite file: the state is in PostgreSQL")
            .isFalse();
        assertThat(count(url, "SELECT count(*) FROM revisions")).isEqualTo(1);
        assertThat(count(url, "SELECT count(*) FROM instances WHERE service = 'shop'"))
            .isEqualTo(2);
        long events = count(url, "SELECT count(*) FROM events");
        assertThat(events).isGreaterThan(3);
        List<Long> pids = h.service("shop").instances().stream().map(i -> i.pid()).toList();

        // kill -9: the next daemon finds its revision, adopts the same instances, and the event
        // chain goes on unbroken.
        long daemon = h.daemonPid();
        Harness.signal(daemon, "KILL");
        await().atMost(Duration.ofSeconds(10)).until(() -> !Harness.alive(daemon));
        h.up(h.stateDir.getParent().resolve("shop.yaml"));
        h.awaitReady("shop", 2, Duration.ofSeconds(30));
        assertThat(h.service("shop").instances().stream().map(i -> i.pid()).toList())
            .containsExactlyInAnyOrderElementsOf(pids);
        assertThat(h.ok("events", "verify").out()).contains("events, chain intact");
        assertThat(count(url, "SELECT count(*) FROM events")).isGreaterThan(events);

        // A second daemon (another state directory) on the same database is refused.
        try (Harness other = new Harness(tmp.resolve("two"))) {
          other.cliEnv.put("PILOTHOUSE_STORE_URL", url);
          other.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
          Harness.Result r = other.cli("up", "-d", "--api-port", "0");
          assertThat(r.exit()).isNotZero();
          assertThat(r.out() + r.err()).contains("another Pilothouse daemon uses the database");
        }
        assertThat(h.status().services()).hasSize(1);
      }
    } finally {
      if (server != null) {
        server.destroy();
        if (!server.waitFor(20, TimeUnit.SECONDS)) {
          server.destroyForcibly();
        }
      }
      new ProcessBuilder("rm", "-rf", pg.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static long count(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "pilothouse", "state-pw");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }
}
