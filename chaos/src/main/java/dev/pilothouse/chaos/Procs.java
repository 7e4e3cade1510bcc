package dev.pilothouse.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/** Processes by pid, read from /proc, and signals sent to them (never to a recycled pid). */
final class Procs {
  private Procs() {}

  private static String[] stat(long pid) {
    try {
      String s =
          Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.ISO_8859_1).trim();
      return s.substring(s.lastIndexOf(')') + 2).split(" ");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The process's start time in clock ticks since boot; empty when it is gone. */
  static OptionalLong startTicks(long pid) {
    String[] f = stat(pid);
    return f == null || f.length < 20
        ? OptionalLong.empty()
        : OptionalLong.of(Long.parseLong(f[19]));
  }

  /** Whether the process that had these start ticks still runs (not a zombie). */
  static boolean alive(long pid, long ticks) {
    String[] f = stat(pid);
    return f != null && f.length >= 20 && !f[0].equals("Z") && Long.parseLong(f[19]) == ticks;
  }

  /** Whether the process is stopped (SIGSTOP). */
  static boolean stopped(long pid) {
    String[] f = stat(pid);
    return f != null && (f[0].equals("T") || f[0].equals("t"));
  }

  /**
   * Sends a signal to the process, or to its whole process group when it leads one (an instance's
   * shell and its children stop and go on together); false when it is gone or was recycled.
   */
  static boolean signal(long pid, long ticks, String signal) {
    String[] f = stat(pid);
    if (f == null || f.length < 20 || Long.parseLong(f[19]) != ticks) {
      return false;
    }
    String who = Long.parseLong(f[2]) == pid ? "-" + pid : Long.toString(pid);
    try {
      Process p =
          new ProcessBuilder("kill", "-" + signal, "--", who)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
