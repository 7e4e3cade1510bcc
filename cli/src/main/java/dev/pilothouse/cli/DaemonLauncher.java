package dev.pilothouse.cli;

import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.client.PilotClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Starts the daemon of a state directory as a detached process and waits for its API. */
final class DaemonLauncher {
  static final String DAEMON_MAIN = "dev.pilothouse.server.Main";
  private static final long START_TIMEOUT_MS = 60_000;

  private DaemonLauncher() {}

  /** A client of the running daemon, if one answers. */
  static Optional<PilotClient> running(Path stateDir) {
    Optional<PilotClient> c = PilotClient.forStateDir(stateDir);
    if (c.isEmpty()) {
      return Optional.empty();
    }
    try {
      c.get().status();
      return c;
    } catch (ApiException e) {
      return Optional.empty();
    }
  }

  /** Starts a daemon and returns its client once its API answers. */
  static PilotClient start(Path stateDir, Integer apiPort) {
    return start(stateDir, apiPort, List.of());
  }

  /**
   * Starts a daemon with extra daemon options (--api-host, --tls, --tls-cert, --tls-key) and
   * returns its client once its API answers.
   */
  static PilotClient start(Path stateDir, Integer apiPort, List<String> daemonArgs) {
    Path log = stateDir.resolve("daemon.log");
    return await(launch(stateDir, apiPort, daemonArgs, log), log, () -> running(stateDir));
  }

  /**
   * Starts another daemon on the same PostgreSQL store and state directory, which follows the
   * leader (and takes over when it fails); returns its client once it answers who leads.
   */
  static PilotClient startStandby(Path stateDir, Integer apiPort, List<String> daemonArgs) {
    Path log = stateDir.resolve("daemon-standby.log");
    Process p = launch(stateDir, apiPort, daemonArgs, log);
    Path file = DaemonInfo.followersDir(stateDir).resolve(p.pid() + ".json");
    return await(
        p,
        log,
        () -> {
          try {
            if (Files.exists(file)) {
              DaemonInfo info = PilotClient.JSON.readValue(file.toFile(), DaemonInfo.class);
              PilotClient c = PilotClient.of(info.api(), DaemonInfo.readToken(stateDir), null);
              c.leader();
              return Optional.of(c);
            }
          } catch (IOException | ApiException e) {
            // not answering yet
          }
          return Optional.empty();
        });
  }

  /** Polls answering until it gives a client, failing when the process exits or 60 s pass. */
  private static PilotClient await(
      Process p, Path log, java.util.function.Supplier<Optional<PilotClient>> answering) {
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < START_TIMEOUT_MS * 1_000_000) {
      Optional<PilotClient> c = answering.get();
      if (c.isPresent()) {
        return c.get();
      }
      if (!p.isAlive()) {
        throw new CliException(
            ExitCodes.FAILURE, "the daemon exited during start: " + lastLine(log), "see " + log);
      }
      sleep(50);
    }
    throw new CliException(ExitCodes.TIMEOUT, "the daemon did not answer within 60s", "see " + log);
  }

  /** The daemons following the leader of stateDir (processes still alive). */
  static List<DaemonInfo> followers(Path stateDir) {
    List<DaemonInfo> out = new ArrayList<>();
    try (var files = Files.list(DaemonInfo.followersDir(stateDir))) {
      for (Path f : files.filter(f -> f.toString().endsWith(".json")).toList()) {
        try {
          DaemonInfo info = PilotClient.JSON.readValue(f.toFile(), DaemonInfo.class);
          if (ProcessHandle.of(info.pid()).map(ProcessHandle::isAlive).orElse(false)
              && !exited(info.pid())) {
            out.add(info);
          }
        } catch (IOException e) {
          // being written or removed
        }
      }
    } catch (IOException e) {
      return out; // no followers directory
    }
    return out;
  }

  /**
   * The daemon's JVM options: its defaults, then the user's (PILOTHOUSE_DAEMON_OPTS, split on
   * spaces), which come later and so win (-Xmx2g raises the heap and keeps the rest). A collector
   * the user names replaces the default one (two would stop the JVM from starting).
   */
  static List<String> jvmOptions(String userOptions) {
    List<String> user =
        userOptions == null || userOptions.isBlank()
            ? List.of()
            : List.of(userOptions.trim().split("\\s+"));
    boolean ownCollector =
        user.stream().anyMatch(o -> o.startsWith("-XX:+Use") && o.endsWith("GC"));
    List<String> out = new ArrayList<>();
    if (!ownCollector) {
      out.add("-XX:+UseSerialGC");
    }
    out.addAll(
        List.of(
            // A young generation of at least 32 MiB: remote-write and scrape bursts allocate
            // fast, and a 5 MiB one (from -Xms16m) spent a quarter of ingestion in GC pauses.
            "-Xms64m",
            "-XX:NewSize=32m",
            "-Xmx512m",
            "-XX:+ExitOnOutOfMemoryError",
            "--enable-native-access=ALL-UNNAMED",
            "-Dio.netty.leakDetection.level=disabled",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED"));
    if (Runtime.version().feature() >= 23) {
      // Without this, JDK 23+ warns about sun.misc.Unsafe and Netty avoids its fast paths.
      out.add("--sun-misc-unsafe-memory-access=allow");
    }
    out.addAll(
        dev.pilothouse.client.JvmOptions.classDataArchive(
            System.getProperty("java.class.path"), "daemon"));
    out.addAll(user);
    return out;
  }

  private static Process launch(Path stateDir, Integer apiPort, List<String> daemonArgs, Path log) {
    try {
      Files.createDirectories(
          stateDir,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
      if (!Files.exists(log)) {
        Files.createFile(
            log,
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      }
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.FAILURE,
          "cannot create state directory " + stateDir + ": " + e.getMessage(),
          "check permissions or pass another --state-dir");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add("setsid");
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(jvmOptions(System.getenv("PILOTHOUSE_DAEMON_OPTS")));
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            DAEMON_MAIN,
            "--state-dir",
            stateDir.toString()));
    if (apiPort != null) {
      cmd.addAll(List.of("--api-port", apiPort.toString()));
    }
    cmd.addAll(daemonArgs);
    try {
      return new ProcessBuilder(cmd)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.FAILURE,
          "cannot start the daemon: " + e.getMessage(),
          "check that java and setsid are installed");
    }
  }

  static String lastLine(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (!lines.get(i).isBlank()) {
          return lines.get(i).replaceFirst("^pilothouse daemon: ", "");
        }
      }
    } catch (IOException e) {
      return "(no log)";
    }
    return "(no log)";
  }

  /** Waits for a process to exit; false on timeout. */
  static boolean awaitExit(long pid, long timeoutMs) {
    long t0 = System.nanoTime();
    while (System.nanoTime() - t0 < timeoutMs * 1_000_000) {
      if (ProcessHandle.of(pid).map(ph -> !ph.isAlive()).orElse(true) || exited(pid)) {
        return true;
      }
      sleep(50);
    }
    return false;
  }

  /**
   * Whether the process has exited and only waits to be reaped (a zombie): the daemon is not our
   * child, and some init processes reap their adopted children only now and then.
   */
  static boolean exited(long pid) {
    try {
      String stat =
          java.nio.file.Files.readString(
              java.nio.file.Path.of("/proc", Long.toString(pid), "stat"),
              java.nio.charset.StandardCharsets.ISO_8859_1);
      int close = stat.lastIndexOf(')');
      char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
      return state == 'Z' || state == 'X';
    } catch (java.io.IOException e) {
      return true; // no /proc entry: gone
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.FAILURE, "interrupted", "");
    }
  }
}
