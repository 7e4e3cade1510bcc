package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This host's name, as leases and snapshots record it. */
final class Hosts {
  private static final String NAME = read();

  private Hosts() {}

  static String name() {
    return NAME;
  }

  private static String read() {
    String env = System.getenv("HOSTNAME");
    if (env != null && !env.isBlank()) {
      return env;
    }
    try {
      return Files.readString(Path.of("/etc/hostname")).strip();
    } catch (IOException e) {
      return "localhost";
    }
  }
}
