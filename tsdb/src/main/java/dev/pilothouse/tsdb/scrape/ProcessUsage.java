package dev.pilothouse.tsdb.scrape;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process's CPU time (user + system) and resident memory, read from {@code /proc/PID/stat}.
 *
 * @param cpuSeconds CPU time used so far by all its threads
 * @param residentBytes resident set size
 */
public record ProcessUsage(double cpuSeconds, long residentBytes) {
  /** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux build in use). */
  static final long CLK_TCK = 100;

  static final long PAGE = 4096;

  /** Reads pid's usage under proc (normally /proc); empty when the process is gone. */
  public static Optional<ProcessUsage> read(Path proc, long pid) {
    try {
      String s = Files.readString(proc.resolve(pid + "/stat"), StandardCharsets.ISO_8859_1).trim();
      // After the command name (which may hold spaces and parentheses): state is field 3; utime
      // 14, stime 15, rss 24 (1-based in proc(5)).
      String[] f = s.substring(s.lastIndexOf(')') + 2).split("\\s+");
      double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) CLK_TCK;
      return Optional.of(new ProcessUsage(cpu, Long.parseLong(f[21]) * PAGE));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
