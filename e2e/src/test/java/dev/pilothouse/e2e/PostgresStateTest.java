package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon whose state lives in a real PostgreSQL (Debian's, started here) instead of its state
 * directory's SQLite file: revisions, instances and the event chain are there, survive a kill -9,
 * and a daemon of another state directory on the same database is refused.
 */
class PostgresStateTest {
  @TempDir Path tmp;

  @Test
  void stateInPostgres_survivesKill9_andADaemonOfAnotherDirectoryIsRefused() throws Exception {
    try (RealPostgres pg = RealPostgres.start("admin-pw")) {
      String url = pg.stateDatabase();
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
        assertThat(RealPostgres.count(url, "SELECT count(*) FROM revisions")).isEqualTo(1);
        assertThat(RealPostgres.count(url, "SELECT count(*) FROM instances WHERE service = 'shop'"))
            .isEqualTo(2);
        long events = RealPostgres.count(url, "SELECT count(*) FROM events");
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
        assertThat(RealPostgres.count(url, "SELECT count(*) FROM events")).isGreaterThan(events);

        // A daemon of another state directory on the same database is refused: instances are
        // local processes, so the daemons of one database share the leader's directory.
        try (Harness other = new Harness(tmp.resolve("two"))) {
          other.cliEnv.put("PILOTHOUSE_STORE_URL", url);
          other.cliEnv.put("PILOTHOUSE_STORE_PASSWORD_FILE", pw.toString());
          Harness.Result r = other.cli("up", "-d", "--api-port", "0");
          assertThat(r.exit()).isNotZero();
          assertThat(r.out() + r.err())
              .contains("the daemon leading on this database runs at ")
              .contains(":" + h.stateDir.toAbsolutePath().normalize() + ";");
        }
        assertThat(h.status().services()).hasSize(1);
      }
    }
  }

  @Test
  void aSqliteDaemonsState_movesToPostgres_andItsChainAndAuditLogVerifyThere() throws Exception {
    try (RealPostgres pg = RealPostgres.start("admin-pw")) {
      String url = pg.stateDatabase();
      Path pw = tmp.resolve("store-password");
      Files.writeString(pw, "state-pw\n");
      try (Harness h = new Harness(tmp)) {
        Path spec = h.writeSpec("shop.yaml", Harness.routedShop("v1", 2, ""));
        h.up(spec);
        h.awaitReady("shop", 2, Duration.ofSeconds(30));
        h.ok("apply", "-f", h.writeSpec("shop.yaml", Harness.routedShop("v1", 3, "")).toString());
        h.awaitReady("shop", 3, Duration.ofSeconds(30));

        Harness.Result refused =
            h.cli("store", "migrate", "--to", url, "--password-file", pw.toString());
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("a daemon is running with state directory");
        assertThat(
                RealPostgres.count(
                    url, "SELECT count(*) FROM pg_tables WHERE tablename = 'events'"))
            .as("nothing was written: not even the schema")
            .isZero();

        h.ok("down"); // signs an audit checkpoint over every event so far
        String before = h.stateDir.resolve("pilothouse.db").toString();
        Harness.Result moved =
            h.ok("store", "migrate", "--to", url, "--password-file", pw.toString(), "-o", "json");
        com.fasterxml.jackson.databind.JsonNode r =
            new com.fasterxml.jackson.databind.ObjectMapper().readTree(moved.out());
        assertThat(r.path("chainIntact").asBoolean()).isTrue();
        long events = r.path("events").asLong();
        assertThat(events)
            .isGreaterThan(5)
            .isEqualTo(RealPostgres.count(url, "SELECT count(*) FROM events"));
        assertThat(r.path("rows").path("revisions").asLong()).isEqualTo(2);
        assertThat(Files.exists(Path.of(before))).as("the SQLite file is left").isTrue();

        // Moving twice is refused: the target holds state now.
        Harness.Result twice =
            h.cli("store", "migrate", "--to", url, "--password-file", pw.toString());
        assertThat(twice.exit()).isEqualTo(1);
        assertThat(twice.err()).contains("already holds state");

        // the store given by flags this time (the first test gives it by the environment)
        h.ok(
            "up",
            "-d",
            "--api-port",
            "0",
            "--store",
            url,
            "--store-user",
            "pilothouse",
            "--store-password-file",
            pw.toString());
        h.awaitReady("shop", 3, Duration.ofSeconds(30));
        assertThat(h.ok("history", "shop").out().lines().count()).as("both revisions").isEqualTo(3);
        assertThat(h.ok("events", "verify").out()).contains("events, chain intact");
        assertThat(h.ok("audit", "log", "verify").out()).doesNotContain("NOT");
        assertThat(RealPostgres.count(url, "SELECT count(*) FROM events")).isGreaterThan(events);
      }
    }
  }
}
