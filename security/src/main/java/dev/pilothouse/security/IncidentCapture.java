package dev.pilothouse.security;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * {@code pilothouse incident capture SERVICE}: what an investigation needs of a service, gathered
 * in one go before anything is restarted — per instance its {@code /proc} status, command line,
 * limits, open files, TCP connections and threads (a JVM's thread dump through jcmd), the tail of
 * its log; the service's last events and metrics — as a zip encrypted with AES-256-GCM under a key
 * the caller chose and the daemon does not keep. Environments are left out: they hold secrets.
 */
public final class IncidentCapture {
  /** What the daemon knows of a service, wired by the server. */
  public interface Sources {
    /** The service's instances (quarantined ones included). */
    List<Target> instances(String service);

    /** The last maxBytes of an instance's log. */
    String logTail(String service, String instanceId, int maxBytes);

    /** The service's last events as JSON lines, oldest first. */
    List<String> events(String service, int max);

    /** The service's metrics over the last 30 minutes, as text. */
    String metrics(String service);
  }

  /** One instance to look at. */
  public record Target(String id, long pid, int port, String state) {}

  /** A capture: the zip of text files (the server seals it), and what went into it. */
  public record Bundle(byte[] zip, int instances, List<String> files, long plainBytes) {}

  public static final int MAX_INSTANCES = 50;
  public static final int LOG_BYTES = 1 << 20;
  public static final int MAX_EVENTS = 500;
  static final int MAX_FDS = 10_000;
  static final int MAX_PROC_FILE = 1 << 20;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Sources sources;
  private final InstantSource clock;
  private final Path proc;

  public IncidentCapture(Sources sources, InstantSource clock) {
    this(sources, clock, Path.of("/proc"));
  }

  IncidentCapture(Sources sources, InstantSource clock, Path proc) {
    this.sources = sources;
    this.clock = clock;
    this.proc = proc;
  }

  /** Captures a service: a zip of text files, to be sealed before it leaves the daemon. */
  public Bundle capture(String service) {
    Instant now = clock.instant();
    List<String> files = new ArrayList<>();
    ByteArrayOutputStream zipped = new ByteArrayOutputStream();
    long plain = 0;
    List<Target> targets = sources.instances(service);
    try (ZipOutputStream zip = new ZipOutputStream(zipped)) {
      StringBuilder summary = new StringBuilder();
      summary
          .append("service: ")
          .append(service)
          .append("\ncaptured: ")
          .append(now)
          .append("\ninstances: ")
          .append(targets.size())
          .append('\n');
      for (Target t : targets.subList(0, Math.min(targets.size(), MAX_INSTANCES))) {
        summary
            .append("  ")
            .append(t.id())
            .append(" pid ")
            .append(t.pid())
            .append(" port ")
            .append(t.port())
            .append(' ')
            .append(t.state())
            .append('\n');
        String dir = "instances/" + t.id() + "/";
        plain += put(zip, files, dir + "status.txt", procFile(t.pid(), "status"));
        plain +=
            put(zip, files, dir + "cmdline.txt", procFile(t.pid(), "cmdline").replace('\0', ' '));
        plain += put(zip, files, dir + "limits.txt", procFile(t.pid(), "limits"));
        plain += put(zip, files, dir + "open-files.txt", openFiles(t.pid()));
        plain += put(zip, files, dir + "connections.txt", connections(t.pid()));
        plain += put(zip, files, dir + "threads.txt", threads(t.pid()));
        plain += put(zip, files, dir + "log-tail.txt", sources.logTail(service, t.id(), LOG_BYTES));
      }
      if (targets.size() > MAX_INSTANCES) {
        summary.append("(only the first ").append(MAX_INSTANCES).append(" are captured)\n");
      }
      plain +=
          put(zip, files, "events.jsonl", String.join("\n", sources.events(service, MAX_EVENTS)));
      plain += put(zip, files, "metrics.txt", sources.metrics(service));
      plain += put(zip, files, "summary.txt", summary.toString());
    } catch (IOException e) {
      throw new IllegalStateException("zipping in memory failed", e);
    }
    return new Bundle(
        zipped.toByteArray(), Math.min(targets.size(), MAX_INSTANCES), List.copyOf(files), plain);
  }

  private static long put(ZipOutputStream zip, List<String> files, String name, String text)
      throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    zip.putNextEntry(new ZipEntry(name));
    zip.write(b);
    zip.closeEntry();
    files.add(name);
    return b.length;
  }

  private String procFile(long pid, String name) {
    Path f = proc.resolve(Long.toString(pid)).resolve(name);
    try (InputStream in = Files.newInputStream(f)) {
      return new String(in.readNBytes(MAX_PROC_FILE), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(not readable: " + e.getMessage() + ")\n";
    }
  }

  /** Each open file descriptor and what it points to. */
  private String openFiles(long pid) {
    StringBuilder b = new StringBuilder();
    Path fd = proc.resolve(Long.toString(pid)).resolve("fd");
    try (Stream<Path> s = Files.list(fd)) {
      List<Path> fds = s.limit(MAX_FDS).sorted((x, y) -> fdNumber(x) - fdNumber(y)).toList();
      b.append(fds.size()).append(" open file descriptors\n");
      for (Path f : fds) {
        String target;
        try {
          target = Files.readSymbolicLink(f).toString();
        } catch (IOException e) {
          target = "?";
        }
        b.append(f.getFileName()).append(" -> ").append(target).append('\n');
      }
    } catch (IOException e) {
      b.append("(not readable: ").append(e.getMessage()).append(")\n");
    }
    return b.toString();
  }

  private static int fdNumber(Path p) {
    try {
      return Integer.parseInt(p.getFileName().toString());
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  /** The process's TCP sockets (from /proc/PID/net/tcp and tcp6, matched by socket inode). */
  String connections(long pid) {
    Set<String> inodes = new HashSet<>();
    Path fd = proc.resolve(Long.toString(pid)).resolve("fd");
    try (Stream<Path> s = Files.list(fd)) {
      s.limit(MAX_FDS)
          .forEach(
              f -> {
                try {
                  String t = Files.readSymbolicLink(f).toString();
                  if (t.startsWith("socket:[")) {
                    inodes.add(t.substring(8, t.length() - 1));
                  }
                } catch (IOException e) {
                  // closed meanwhile
                }
              });
    } catch (IOException e) {
      return "(not readable: " + e.getMessage() + ")\n";
    }
    StringBuilder b = new StringBuilder("proto local remote state\n");
    for (String table : List.of("tcp", "tcp6")) {
      String text = procFile(pid, "net/" + table);
      for (String line : text.split("\n")) {
        String[] c = line.trim().split("\\s+");
        if (c.length < 10 || !inodes.contains(c[9])) {
          continue;
        }
        b.append(table)
            .append(' ')
            .append(address(c[1]))
            .append(' ')
            .append(address(c[2]))
            .append(' ')
            .append(TCP_STATES.getOrDefault(c[3], c[3]))
            .append('\n');
      }
    }
    return b.toString();
  }

  private static final java.util.Map<String, String> TCP_STATES =
      java.util.Map.ofEntries(
          java.util.Map.entry("01", "ESTABLISHED"),
          java.util.Map.entry("02", "SYN_SENT"),
          java.util.Map.entry("03", "SYN_RECV"),
          java.util.Map.entry("04", "FIN_WAIT1"),
          java.util.Map.entry("05", "FIN_WAIT2"),
          java.util.Map.entry("06", "TIME_WAIT"),
          java.util.Map.entry("07", "CLOSE"),
          java.util.Map.entry("08", "CLOSE_WAIT"),
          java.util.Map.entry("09", "LAST_ACK"),
          java.util.Map.entry("0A", "LISTEN"),
          java.util.Map.entry("0B", "CLOSING"));

  /** /proc/net/tcp's "0100007F:1F90" (little-endian words) as 127.0.0.1:8080. */
  static String address(String hex) {
    String[] p = hex.split(":");
    if (p.length != 2) {
      return hex;
    }
    int port = Integer.parseInt(p[1], 16);
    String h = p[0];
    byte[] ip = new byte[h.length() / 2];
    for (int word = 0; word < ip.length / 4; word++) {
      for (int i = 0; i < 4; i++) {
        ip[word * 4 + i] =
            (byte)
                Integer.parseInt(
                    h.substring(word * 8 + (3 - i) * 2, word * 8 + (3 - i) * 2 + 2), 16);
      }
    }
    try {
      java.net.InetAddress a = java.net.InetAddress.getByAddress(ip); // ::ffff:a.b.c.d as IPv4
      return (a instanceof java.net.Inet6Address
              ? "[" + a.getHostAddress() + "]"
              : a.getHostAddress())
          + ":"
          + port;
    } catch (java.net.UnknownHostException e) {
      return hex;
    }
  }

  /** A JVM's thread dump (jcmd), else each thread's name, state and wait channel. */
  private String threads(long pid) {
    String cmd = procFile(pid, "cmdline");
    String exe = cmd.contains("\0") ? cmd.substring(0, cmd.indexOf('\0')) : cmd;
    if (exe.endsWith("/java") || exe.equals("java")) {
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
      if (Files.isExecutable(jcmd)) {
        String dump = run(List.of(jcmd.toString(), Long.toString(pid), "Thread.print"));
        if (dump != null) {
          return dump;
        }
      }
    }
    StringBuilder b = new StringBuilder("tid name state wchan\n");
    Path tasks = proc.resolve(Long.toString(pid)).resolve("task");
    try (Stream<Path> s = Files.list(tasks)) {
      for (Path t : s.limit(MAX_FDS).toList()) {
        String stat = read(t.resolve("stat"));
        int close = stat.lastIndexOf(')');
        String state =
            close > 0 && close + 2 < stat.length() ? stat.substring(close + 2, close + 3) : "?";
        b.append(t.getFileName())
            .append(' ')
            .append(read(t.resolve("comm")).strip())
            .append(' ')
            .append(state)
            .append(' ')
            .append(read(t.resolve("wchan")).strip())
            .append('\n');
      }
    } catch (IOException e) {
      b.append("(not readable: ").append(e.getMessage()).append(")\n");
    }
    return b.toString();
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (IOException e) {
      return "?";
    }
  }

  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readNBytes(8 << 20);
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
