package dev.pilothouse.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a running daemon publishes in its state directory: {@code daemon.json} (pid, API address,
 * and the SHA-256 fingerprint of its TLS certificate when it speaks HTTPS) and {@code api-token}.
 */
public record DaemonInfo(long pid, String api, String startedAt, String tlsFingerprint) {
  /** A daemon whose API speaks plain HTTP (on loopback). */
  public DaemonInfo(long pid, String api, String startedAt) {
    this(pid, api, startedAt, null);
  }

  /** The file a daemon writes once its API listens. */
  public static Path file(Path stateDir) {
    return stateDir.resolve("daemon.json");
  }

  /**
   * Where the daemons that follow (sharing this state directory and a PostgreSQL store) publish
   * themselves: one file per process, {@code followers/PID.json}, gone once it leads or stops.
   */
  public static Path followersDir(Path stateDir) {
    return stateDir.resolve("followers");
  }

  /** The file holding the API token (mode 0600). */
  public static Path tokenFile(Path stateDir) {
    return stateDir.resolve("api-token");
  }

  /**
   * The file holding the flags token (mode 0600): it reads feature flags over OFREP and nothing
   * else, for services to hold instead of the API token.
   */
  public static Path flagsTokenFile(Path stateDir) {
    return stateDir.resolve("flags-token");
  }

  /** Reads the token of the daemon of stateDir. */
  public static String readToken(Path stateDir) throws IOException {
    return Files.readString(tokenFile(stateDir)).trim();
  }
}
