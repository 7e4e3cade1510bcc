package dev.pilothouse.security;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server (Debian's package) for one test class: its own data directory under
 * /tmp, password (SCRAM) logins over TCP on a free loopback port, stopped and removed at close.
 */
final class RealPostgres implements AutoCloseable {
  static final String ADMIN_PASSWORD = "admin-pw-" + Long.toHexString(System.nanoTime());

  final Path dir;
  final int port;
  private final Process server;

  private RealPostgres(Path dir, int port, Process server) {
    this.dir = dir;
    this.port = port;
    this.server = server;
  }

  static RealPostgres start() throws Exception {
    Path bin = bin();
    Path dir =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "pilothouse-rotation-pg-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path pw = dir.resolve("pwfile");
    Files.writeString(pw, ADMIN_PASSWORD + "\n");
    if (root()) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()), dir.resolve("chown.log"));
    }
    run(
        asPostgres(
            List.of(
                bin.resolve("initdb").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-U",
                "postgres",
                "--pwfile=" + pw,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync")),
        dir.resolve("initdb.log"));
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Process server =
        new ProcessBuilder(
                asPostgres(
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
    RealPostgres pg = new RealPostgres(dir, port, server);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Connection c = pg.admin()) {
        return pg;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline || !server.isAlive()) {
          pg.close();
          throw new AssertionError(
              "PostgreSQL did not start: " + Files.readString(dir.resolve("server.log")), e);
        }
        Thread.sleep(100);
      }
    }
  }

  Connection admin() throws SQLException {
    return login("postgres", ADMIN_PASSWORD);
  }

  Connection login(String user, String password) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/postgres?connectTimeout=5", user, password);
  }

  boolean canLogin(String user, String password) {
    try (Connection c = login(user, password)) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  void sql(String statement) throws SQLException {
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  @Override
  public void close() throws Exception {
    server.destroy(); // SIGTERM: a smart shutdown
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void run(List<String> command, Path log) throws Exception {
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError(command.get(0) + " failed: " + Files.readString(log));
    }
  }

  static Path bin() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/usr/lib/postgresql"))) {
      return s.map(p -> p.resolve("bin"))
          .filter(p -> Files.isExecutable(p.resolve("postgres")))
          .max(Comparator.naturalOrder())
          .orElseThrow(
              () -> new AssertionError("no PostgreSQL under /usr/lib/postgresql: install it"));
    }
  }

  static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  static List<String> asPostgres(List<String> command) {
    List<String> out = new ArrayList<>();
    if (root()) {
      out.addAll(
          List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
    }
    out.addAll(command);
    return out;
  }
}
