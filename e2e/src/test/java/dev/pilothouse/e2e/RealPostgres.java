package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real PostgreSQL server (Debian's package, ./test installs it) for one test: its own data
 * directory under /tmp, run as the unprivileged user postgres when the tests run as root, the admin
 * user {@code postgres} logging in with a password (SCRAM) over TCP on a free loopback port;
 * stopped (also when paused) and removed by {@link #close()}.
 */
final class RealPostgres implements AutoCloseable {
  final Path dir;
  final int port;
  final String adminPassword;
  final Process server;

  private RealPostgres(Path dir, int port, String adminPassword, Process server) {
    this.dir = dir;
    this.port = port;
    this.adminPassword = adminPassword;
    this.server = server;
  }

  static RealPostgres start(String adminPassword) throws Exception {
    Path bin = PostgresPitrTest.bin();
    Path dir =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "pilothouse-pg-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Files.writeString(dir.resolve("pw"), adminPassword + "\n");
    if (PostgresPitrTest.root()) {
      assertThat(
              new ProcessBuilder("chown", "-R", "postgres:postgres", dir.toString())
                  .start()
                  .waitFor())
          .isZero();
    }
    Process init =
        new ProcessBuilder(
                PostgresPitrTest.asPostgres(
                    List.of(
                        bin.resolve("initdb").toString(),
                        "-D",
                        dir.resolve("data").toString(),
                        "-U",
                        "postgres",
                        "--pwfile=" + dir.resolve("pw"),
                        "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--no-sync")))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("initdb.log").toFile())
            .start();
    assertThat(init.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(init.exitValue()).as(Files.readString(dir.resolve("initdb.log"))).isZero();
    int port = RemoteWriteTest.freePort();
    Process server =
        new ProcessBuilder(
                PostgresPitrTest.asPostgres(
                    List.of(
                        bin.resolve("postgres").toString(),
                        "-D",
                        dir.resolve("data").toString(),
                        "-p",
                        Integer.toString(port),
                        "-k",
                        dir.toString(),
                        "-c",
                        "listen_addresses=127.0.0.1",
                        "-c",
                        "fsync=off")))
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("server.log").toFile())
            .start();
    RealPostgres pg = new RealPostgres(dir, port, adminPassword, server);
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> login(port, "postgres", adminPassword));
    return pg;
  }

  /** A JDBC URL of a database on this server. */
  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /**
   * Creates role pilothouse (password state-pw) and its database pilothouse, the state store of the
   * tests that run daemons on PostgreSQL; its URL.
   */
  String stateDatabase() throws SQLException {
    try (Connection c = admin();
        java.sql.Statement s = c.createStatement()) {
      s.execute("CREATE ROLE pilothouse LOGIN PASSWORD '" + STATE_PASSWORD + "'");
      s.execute("CREATE DATABASE pilothouse OWNER pilothouse");
    }
    return url("pilothouse");
  }

  static final String STATE_PASSWORD = "state-pw";

  /** The one number a query in the state database answers. */
  static long count(String url, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url, "pilothouse", STATE_PASSWORD);
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  Connection admin() throws SQLException {
    return DriverManager.getConnection(url("postgres"), "postgres", adminPassword);
  }

  static boolean login(int port, String user, String password) {
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + port + "/postgres?connectTimeout=5", user, password)) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() throws Exception {
    new ProcessBuilder("kill", "-CONT", Long.toString(server.pid())).start().waitFor();
    server.destroy();
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      server.destroyForcibly();
    }
    new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
  }
}
