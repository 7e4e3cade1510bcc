package dev.pilothouse.store;

import java.io.IOException;
import java.net.InetAddress;
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
 * A real PostgreSQL server from Debian's package (./test installs it), in a directory of its own
 * under /tmp, run as the unprivileged user postgres when the tests run as root; stopped and removed
 * by {@link #close()}.
 */
final class TestPostgres implements AutoCloseable {
  final int port;
  private final Path dir;
  private final Process server;
  private int databases;

  private TestPostgres(Path dir, int port, Process server) {
    this.dir = dir;
    this.port = port;
    this.server = server;
  }

  static TestPostgres start() throws Exception {
    Path bin;
    try (Stream<Path> s = Files.list(Path.of("/usr/lib/postgresql"))) {
      bin =
          s.map(p -> p.resolve("bin"))
              .filter(p -> Files.isExecutable(p.resolve("postgres")))
              .max(Comparator.naturalOrder())
              .orElseThrow(
                  () -> new IllegalStateException("no PostgreSQL: apt-get install postgresql"));
    }
    Path dir =
        Files.createTempDirectory(
            Path.of("/tmp"),
            "pilothouse-store-pg-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    if (root()) {
      run(List.of("chown", "postgres:postgres", dir.toString()), dir.resolve("chown.log"));
    }
    run(
        asPostgres(
            List.of(
                bin.resolve("initdb").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync")),
        dir.resolve("initdb.log"));
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
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
            .redirectOutput(dir.resolve("postgres.log").toFile())
            .start();
    TestPostgres pg = new TestPostgres(dir, port, server);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Connection c = DriverManager.getConnection(pg.url("postgres"), "postgres", "")) {
        return pg;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline || !server.isAlive()) {
          pg.close();
          throw new IllegalStateException(
              "PostgreSQL did not start: " + Files.readString(dir.resolve("postgres.log")), e);
        }
        Thread.sleep(100);
      }
    }
  }

  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
  }

  /** A new, empty database; its URL. */
  synchronized String newDatabase() throws SQLException {
    String name = "store_" + ++databases;
    try (Connection c = DriverManager.getConnection(url("postgres"), "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    return url(name);
  }

  @Override
  public void close() throws Exception {
    server.destroy(); // SIGTERM: PostgreSQL's smart shutdown
    if (!server.waitFor(20, TimeUnit.SECONDS)) {
      server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
  }

  private static boolean root() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static List<String> asPostgres(List<String> command) {
    List<String> out = new ArrayList<>();
    if (root()) {
      out.addAll(
          List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
    }
    out.addAll(command);
    return out;
  }

  private static void run(List<String> command, Path log) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(command.get(0) + " failed: " + Files.readString(log));
    }
  }
}
