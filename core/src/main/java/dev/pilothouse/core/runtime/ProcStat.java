package dev.pilothouse.core.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Reads process facts from Linux's /proc. */
public final class ProcStat {
  private ProcStat() {}

  /** Fields of /proc/PID/stat after the command name (which may itself hold spaces). */
  private static Optional<String[]> fields(long pid) {
    return fields(Path.of("/proc", Long.toString(pid), "stat"));
  }

  /**
   * Fields of a stat file after the command name (which may itself hold spaces or parentheses):
   * state first, then ppid, process group, session; empty when unreadable.
   */
  public static Optional<String[]> fields(Path statFile) {
    try {
      String s = Files.readString(statFile, StandardCharsets.ISO_8859_1);
      int close = s.lastIndexOf(')');
      if (close < 0) {
        return Optional.empty();
      }
      return Optional.of(s.substring(close + 2).trim().split(" "));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Start time in clock ticks after boot (field 22). */
  static Optional<Long> startTicks(long pid) {
    return fields(pid).map(f -> Long.parseLong(f[19]));
  }

  /** Process group id (field 5). */
  static Optional<Long> processGroup(long pid) {
    return fields(pid).map(f -> Long.parseLong(f[2]));
  }

  /** Whether the process is a zombie (state Z) or dead (X). */
  static boolean isZombie(long pid) {
    return fields(pid).map(f -> f[0].equals("Z") || f[0].equals("X")).orElse(true);
  }

  /** The environment a process was started with; empty when unreadable. */
  static Map<String, String> environ(long pid) {
    Map<String, String> env = new HashMap<>();
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
      for (String kv : new String(raw, StandardCharsets.UTF_8).split("\0")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          env.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
    } catch (IOException | SecurityException e) {
      return Map.of();
    }
    return env;
  }
}
