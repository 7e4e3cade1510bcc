package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery of a real PostgreSQL (Debian's package) run as a service of the daemon:
 * base backup through the CLI, WAL archived by the archive_command the daemon sets (Pilothouse's
 * CLI, run by PostgreSQL as its own unprivileged user), restores to a time, an LSN and a named
 * restore point, a target it cannot reach rolled back, and a gap in the archive refused.
 */
class PostgresPitrTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;
  private Path pg;

  /** The PostgreSQL server binaries of Debian's package (./test installs it). */
  static Path bin() throws Exception {
    try (Stream<Path> s = Files.list(Path.of("/usr/lib/postgresql"))) {
      return s.map(p -> p.resolve("bin"))
          .filter(p -> Files.isExecutable(p.resolve("postgres")))
          .max(Comparator.naturalOrder())
          .orElseThrow(
              () ->
                  new AssertionError(
                      "no PostgreSQL under /usr/lib/postgresql: apt-get install postgresql"));
    }
  }

  static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** A command run as the unprivileged user PostgreSQL runs as (postgres when we are root). */
  static List<String> asPostgres(List<String> command) {
    List<String> out = new ArrayList<>();
    if (root()) {
      out.addAll(
          List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
    }
    out.addAll(command);
    return out;
  }

  @AfterEach
  void removePg() throws Exception {
    if (pg != null) {
      new ProcessBuilder("rm", "-rf", pg.toString()).start().waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static List<Integer> rows(String url) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "postgres", "");
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT x FROM t ORDER BY x")) {
      List<Integer> out = new ArrayList<>();
      while (r.next()) {
        out.add(r.getInt(1));
      }
      return out;
    }
  }

  private static String one(Connection c, String sql) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    }
  }

  @Test
  void restores_a_real_postgresql_to_a_time_an_lsn_and_a_restore_point() throws Exception {
    Path bin = bin();
    // PostgreSQL's own user must reach its directory: not under the test's private temp dir
    pg =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "pilothouse-pg-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path data = pg.resolve("data");
    if (root()) {
      assertThat(new ProcessBuilder("chown", "postgres:postgres", pg.toString()).start().waitFor())
          .isZero();
    }
    Process initdb =
        new ProcessBuilder(
                asPostgres(
                    List.of(
                        bin.resolve("initdb").toString(),
                        "-D",
                        data.toString(),
                        "-A",
                        "trust",
                        "-U",
                        "postgres",
                        "--no-sync")))
            .redirectErrorStream(true)
            .redirectOutput(pg.resolve("initdb.log").toFile())
            .start();
    assertThat(initdb.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(initdb.exitValue()).as(Files.readString(pg.resolve("initdb.log"))).isZero();
    int port = RemoteWriteTest.freePort();
    List<String> run =
        asPostgres(
            List.of(
                bin.resolve("postgres").toString(),
                "-D",
                data.toString(),
                "-p",
                Integer.toString(port),
                "-k",
                pg.toString(),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "archive_mode=on",
                "-c",
                "fsync=off"));
    String spec =
        "repositories:\n"
            + "  local: {path: "
            + tmp.resolve("repo")
            + ", passwordEnv: DB_BACKUP_PASSWORD}\n"
            + "services:\n"
            + "  db:\n"
            + "    command: "
            + run.get(0)
            + "\n    args: "
            + JSON.writeValueAsString(run.subList(1, run.size()))
            + "\n    readiness: {tcp: true, port: "
            + port
            + ", interval: 200ms}\n"
            + "    stop: {signal: INT, timeout: 30s}\n"
            + "    backup:\n"
            + "      postgres: {dataDir: "
            + data
            + ", port: "
            + port
            + ", maxArchiveLag: 1m}\n"
            + "      repository: local\n";
    String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    try (Harness h = new Harness(tmp)) {
      h.cliEnv.put("DB_BACKUP_PASSWORD", "correct horse battery staple");
      h.up(h.writeSpec("db.yaml", spec));
      h.awaitReady("db", 1, Duration.ofSeconds(30));
      String lsn;
      String time;
      try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
        // the daemon sets archive_command to its CLI (PostgreSQL had none)
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> one(c, "SHOW archive_command").contains("wal push --config"));
        try (Statement s = c.createStatement()) {
          s.execute("CREATE TABLE t (x int)");
          s.execute("INSERT INTO t VALUES (1)");
        }
        JsonNode base = JSON.readTree(h.ok("backup", "run", "db", "-o", "json").out());
        assertThat(base.path("tags").toString()).contains("postgres");
        assertThat(base.path("postgres").path("stopLsn").asText()).contains("/");
        try (Statement s = c.createStatement()) {
          s.execute("INSERT INTO t VALUES (2)");
          s.execute("SELECT pg_create_restore_point('after-2')");
          time =
              one(
                  c,
                  "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC',"
                      + " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
          Thread.sleep(20);
          s.execute("INSERT INTO t VALUES (3)");
          lsn = one(c, "SELECT pg_current_wal_lsn()::text");
          s.execute("INSERT INTO t VALUES (4)");
          String last = one(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
          s.execute("SELECT pg_switch_wal()");
          await()
              .atMost(Duration.ofSeconds(30))
              .until(
                  () ->
                      last.compareTo(
                              String.valueOf(
                                  one(c, "SELECT last_archived_wal FROM pg_stat_archiver")))
                          <= 0);
        }
      }
      JsonNode wal = JSON.readTree(h.ok("wal", "status", "db", "-o", "json").out());
      assertThat(wal.path("firstGap").isNull()).as(wal.toString()).isTrue();
      assertThat(wal.path("files").asInt()).isGreaterThanOrEqualTo(3);

      // to a time: rows committed by then are back, later ones are not
      var r = h.ok("restore", "db", "--time", time);
      assertThat(r.out()).contains("what was there before is in snapshot");
      assertThat(rows(url)).containsExactly(1, 2);
      // the recovery settings are gone once it is over, archiving goes on
      assertThat(Files.readString(data.resolve("postgresql.auto.conf")))
          .contains("archive_command")
          .doesNotContain("recovery_target");

      // to an LSN on the original timeline (the restore above branched off timeline 2 before it)
      h.ok("restore", "db", "--lsn", lsn, "--timeline", "1");
      assertThat(rows(url)).containsExactly(1, 2, 3);

      // to a named restore point, along the newest timeline (which passes through it)
      h.ok("restore", "db", "--name", "after-2");
      assertThat(rows(url)).containsExactly(1, 2);

      // a target PostgreSQL cannot reach: the restore fails and what was there is back
      try (Connection c = DriverManager.getConnection(url, "postgres", "");
          Statement s = c.createStatement()) {
        s.execute("INSERT INTO t VALUES (5)");
      }
      var unreachable = h.cli("restore", "db", "--name", "no-such-point");
      assertThat(unreachable.exit()).isNotZero();
      assertThat(unreachable.err())
          .contains("stopped while recovering")
          .contains("what was there before is back");
      h.awaitReady("db", 1, Duration.ofSeconds(30));
      assertThat(rows(url)).containsExactly(1, 2, 5);

      // a gap in the archive: refused before anything is touched, naming the missing segment
      String segment = lsnSegment(lsn);
      Files.delete(tmp.resolve("repo").resolve("wal").resolve("db." + segment));
      var gap = h.cli("restore", "db", "--lsn", lsn, "--timeline", "1");
      assertThat(gap.exit()).isNotZero();
      assertThat(gap.err()).contains(segment).contains("missing");
      assertThat(rows(url)).containsExactly(1, 2, 5);
      // the newest timeline has its own copy of that segment: along it, nothing is missing
      assertThat(h.cli("wal", "status", "db").exit()).isZero();

      // a drill: the newest base backup and all the WAL after it recovered in a sandbox beside
      // the data directory, on a port of its own; the service is not touched
      JsonNode drill = JSON.readTree(h.ok("drill", "db", "-o", "json").out());
      assertThat(drill.path("ok").asBoolean()).as(drill.toString()).isTrue();
      assertThat(drill.path("rtoMs").asLong()).isPositive();
      assertThat(rows(url)).containsExactly(1, 2, 5);
      try (Stream<Path> s = Files.list(pg)) {
        assertThat(s.map(p -> p.getFileName().toString()))
            .as("the drill's sandbox is removed")
            .noneMatch(n -> n.startsWith(".pilothouse-drill-"));
      }
    }
  }

  /** The timeline-1 segment holding an LSN "X/Y" (16 MiB segments). */
  private static String lsnSegment(String lsn) {
    String[] p = lsn.split("/");
    long v = (Long.parseLong(p[0], 16) << 32) | Long.parseLong(p[1], 16);
    long seg = v / (16L << 20);
    return String.format("%08X%08X%08X", 1, seg / 256, seg % 256);
  }
}
