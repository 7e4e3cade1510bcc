package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import dev.pilothouse.core.chaos.ChaosRun.Applied;
import dev.pilothouse.core.chaos.RouteFaults;
import dev.pilothouse.core.instance.InstanceStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects faults and rolls them back. A rollback needs nothing but its {@link Applied} record, so
 * that the next daemon can finish what a killed one began; every rollback may run twice.
 */
final class Injector {
  private static final Logger log = LoggerFactory.getLogger(Injector.class);

  /** Never fill a disk below this much free space (the daemon's own store may live there). */
  static final long DISK_RESERVE = 256L << 20;

  private final RouteFaults routes;
  private final List<String> jvm;
  private final InstantSource clock;
  private final String owner;
  private final Map<String, ToxicProxy> toxics = new ConcurrentHashMap<>();
  private final Path clockDir;

  /** Live stressors per instance id: their CPU and memory count as the instance's. */
  private final Map<String, List<Long>> stressors = new ConcurrentHashMap<>();

  Injector(
      RouteFaults routes, List<String> java, String owner, InstantSource clock, Path clockDir) {
    this.routes = routes;
    this.clockDir = clockDir;
    this.owner = owner;
    this.jvm = List.copyOf(java);
    this.clock = clock;
  }

  /** What is about to be injected, saved before it is (the intent a rollback works from). */
  Applied intent(Fault f, InstanceStatus i, String service, Path file) {
    String target = f.perInstance() ? i.id() : service;
    if (f instanceof Fault.Partition p) {
      // Rolled back as what it is made of: a route fault, or a toxic proxy that passes nothing.
      return new Applied(
          p.perInstance() ? "toxic" : "http",
          target,
          0,
          0,
          "",
          describe(f),
          clock.instant(),
          false);
    }
    if (f instanceof Fault.Clock) {
      file = ClockRuntime.file(clockDir, i.id());
    }
    long pid = f instanceof Fault.Kill || f instanceof Fault.Pause ? i.pid() : 0;
    long ticks = pid == 0 ? 0 : Procs.startTicks(pid).orElse(-1);
    return new Applied(
        f.kind(),
        target,
        pid,
        ticks,
        file == null ? "" : file.toString(),
        describe(f),
        clock.instant(),
        false);
  }

  /** Injects a fault as its intent says; returns the record with what the rollback needs. */
  Applied apply(Applied a, Fault f, InstanceStatus i, Duration duration, Duration stopTimeout)
      throws IOException {
    switch (f) {
      case Fault.Kill k -> {
        if (!Procs.signal(a.pid(), a.startTicks(), k.graceful() ? "TERM" : "KILL")) {
          throw new IOException("instance " + i.id() + " (pid " + a.pid() + ") is gone");
        }
        if (k.graceful()) {
          // As a runtime stops a pod: SIGTERM, then SIGKILL when the stop timeout has passed.
          long end = System.nanoTime() + stopTimeout.toNanos();
          while (Procs.alive(a.pid(), a.startTicks()) && System.nanoTime() < end) {
            sleep(50);
          }
          if (Procs.alive(a.pid(), a.startTicks())) {
            Procs.signal(a.pid(), a.startTicks(), "KILL");
            return new Applied(
                a.kind(),
                a.target(),
                a.pid(),
                a.startTicks(),
                a.path(),
                a.detail() + ", SIGKILL after " + stopTimeout.toSeconds() + " s",
                a.at(),
                false);
          }
        }
        return a;
      }
      case Fault.Pause p -> {
        if (!Procs.signal(a.pid(), a.startTicks(), "STOP")) {
          throw new IOException("instance " + i.id() + " (pid " + a.pid() + ") is gone");
        }
        return a;
      }
      case Fault.Http h -> {
        routes.routeFault(
            a.target(),
            new RouteFaults.Fault(
                h.delay(), h.delayPercent(), h.abortStatus(), h.abortPercent(), h.header()));
        return a;
      }
      case Fault.Toxic t -> {
        ToxicProxy proxy = new ToxicProxy(i.port(), t);
        toxics.put(key(a), proxy);
        routes.redirect(i.id(), proxy.port());
        return new Applied(
            a.kind(),
            a.target(),
            0,
            0,
            "",
            a.detail() + " (via port " + proxy.port() + ")",
            a.at(),
            false);
      }
      case Fault.Cpu c -> {
        return stressor(a, i, duration, "cpu", Integer.toString(c.cores()), "-Xmx32m");
      }
      case Fault.Memory m -> {
        return stressor(
            a,
            i,
            duration,
            "memory",
            Long.toString(m.bytes()),
            "-Xmx" + ((m.bytes() >> 20) + 64) + "m");
      }
      case Fault.Fds d -> {
        return stressor(a, i, duration, "fds", i.port() + " " + d.count(), "-Xmx64m", "-Xss256k");
      }
      case Fault.DiskFill d -> {
        fill(Path.of(a.path()), d.bytes());
        return a;
      }
      case Fault.Clock c -> {
        Path file = Path.of(a.path());
        if (!Files.exists(file)) {
          throw new IOException(
              "instance "
                  + i.id()
                  + " was not started with libfaketime"
                  + (Files.isReadable(ClockRuntime.LIBRARY)
                      ? ": add its service to the spec's chaos.clock, apply, and restart it"
                      : ": install libfaketime (apt-get install libfaketime), add the service to"
                          + " chaos.clock, apply, and restart it"));
        }
        ClockRuntime.write(file, c.offset());
        return a;
      }
      case Fault.Partition p -> {
        if (!p.from().isEmpty()) {
          // Between services: the load balancer knows the callers by their sockets' processes.
          routes.routeFault(
              a.target(),
              new RouteFaults.Fault(
                  Duration.ZERO, 0, 503, 100, "", p.from(), p.mode().equals("blackhole")));
          return a;
        }
        if (p.mode().equals("reject")) {
          return apply(a, new Fault.Http(Duration.ZERO, 0, 503, 100, ""), i, duration, stopTimeout);
        }
        return apply(
            a,
            new Fault.Toxic(
                Duration.ZERO,
                Duration.ZERO,
                0,
                0,
                Duration.ZERO,
                Duration.ZERO,
                false,
                Duration.ZERO,
                100,
                "both"),
            i,
            duration,
            stopTimeout);
      }
    }
  }

  private Applied stressor(
      Applied a, InstanceStatus i, Duration duration, String kind, String args, String... flags)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(jvm.get(0));
    cmd.addAll(List.of(flags));
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvm.subList(1, jvm.size()));
    cmd.add(Stress.class.getName());
    if (!owner.isEmpty()) {
      cmd.add(owner);
    }
    cmd.add(kind);
    cmd.addAll(List.of(args.split(" ")));
    // Bounded by itself: it exits a little after the experiment's duration even if no daemon is
    // left to stop it.
    cmd.add(Long.toString(duration.toSeconds() + 5));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    long ticks = Procs.startTicks(p.pid()).orElse(-1);
    stressors
        .computeIfAbsent(i.id(), x -> new java.util.concurrent.CopyOnWriteArrayList<>())
        .add(p.pid());
    return new Applied(a.kind(), a.target(), p.pid(), ticks, a.path(), a.detail(), a.at(), false);
  }

  /** Writes size bytes (or as much as leaves the reserve free), really allocated, never sparse. */
  private static void fill(Path file, long size) throws IOException {
    Files.createDirectories(file.getParent());
    long usable = Files.getFileStore(file.getParent()).getUsableSpace();
    long n = Math.max(0, Math.min(size, usable - DISK_RESERVE));
    byte[] block = new byte[1 << 20];
    java.util.Arrays.fill(block, (byte) 0x5a);
    try (OutputStream out =
        Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long left = n; left > 0; left -= block.length) {
        out.write(block, 0, (int) Math.min(block.length, left));
      }
    }
  }

  private static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /** Rolls one fault back; true when nothing of it is left. */
  boolean undo(Applied a) {
    try {
      switch (a.kind()) {
        case "kill" -> {
          // Nothing to give back: the instance controller replaces what was killed.
        }
        case "pause" -> {
          if (Procs.alive(a.pid(), a.startTicks())) {
            Procs.signal(a.pid(), a.startTicks(), "CONT");
          }
        }
        case "http" -> routes.clearRouteFault(a.target());
        case "toxic" -> {
          routes.clearRedirect(a.target());
          ToxicProxy proxy = toxics.remove(key(a));
          if (proxy != null) {
            // The load balancer's next table (within a tick) sends new requests to the instance
            // itself; what is in flight through the proxy gets a moment to finish.
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        Thread.sleep(1000);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      proxy.close();
                    });
          }
        }
        case "cpu", "memory", "fds" -> {
          if (a.pid() > 0 && Procs.alive(a.pid(), a.startTicks())) {
            Procs.signal(a.pid(), a.startTicks(), "KILL");
          }
          stressors.values().forEach(l -> l.remove(a.pid()));
          stressors.values().removeIf(List::isEmpty);
        }
        case "disk" -> Files.deleteIfExists(Path.of(a.path()));
        case "clock" -> {
          if (Files.exists(Path.of(a.path()))) {
            ClockRuntime.write(Path.of(a.path()), Duration.ZERO);
          }
        }
        default -> log.warn("chaos: no rollback known for fault kind {}", a.kind());
      }
      return true;
    } catch (IOException | RuntimeException e) {
      log.warn("chaos: rolling back {} on {} failed: {}", a.kind(), a.target(), e.toString());
      return false;
    }
  }

  /** Whether a fault is still in place (what the e2e tests and reports check after a rollback). */
  static boolean leftover(Applied a) {
    return switch (a.kind()) {
      case "pause" -> Procs.alive(a.pid(), a.startTicks()) && Procs.stopped(a.pid());
      case "cpu", "memory", "fds" -> a.pid() > 0 && Procs.alive(a.pid(), a.startTicks());
      case "disk" -> Files.exists(Path.of(a.path()));
      case "clock" -> ClockRuntime.read(Path.of(a.path())).map(d -> !d.isZero()).orElse(false);
      default -> false;
    };
  }

  /** Live stressor pids by instance. */
  Map<String, List<Long>> stressors() {
    Map<String, List<Long>> m = new java.util.HashMap<>();
    stressors.forEach((k, v) -> m.put(k, List.copyOf(v)));
    return m;
  }

  /** The toxic proxy of an applied fault, for its figures. */
  String toxicStats(Applied a) {
    ToxicProxy p = toxics.get(key(a));
    return p == null ? "" : p.stats();
  }

  private static String key(Applied a) {
    return a.target() + "@" + a.at();
  }

  static String describe(Fault f) {
    return switch (f) {
      case Fault.Kill k -> k.graceful() ? "SIGTERM" : "SIGKILL";
      case Fault.Pause p -> "SIGSTOP until the rollback";
      case Fault.Http h ->
          (h.delay().isZero()
                  ? ""
                  : h.delay().toMillis() + " ms delay on " + h.delayPercent() + "%")
              + (h.abortPercent() == 0
                  ? ""
                  : (h.delay().isZero() ? "" : ", ")
                      + h.abortStatus()
                      + " to "
                      + h.abortPercent()
                      + "%")
              + (h.header().isEmpty() ? "" : " of requests with " + h.header());
      case Fault.Toxic t -> toxic(t);
      case Fault.Cpu c -> c.cores() + " core(s) burnt";
      case Fault.Memory m -> (m.bytes() >> 20) + " MiB held";
      case Fault.DiskFill d -> (d.bytes() >> 20) + " MiB written";
      case Fault.Fds d -> d.count() + " connections held";
      case Fault.Clock c ->
          "wall clock "
              + (c.offset().isNegative() ? "back by " : "ahead by ")
              + c.offset().abs().toSeconds()
              + " s";
      case Fault.Partition p ->
          "partition ("
              + p.mode()
              + (p.from().isEmpty() ? "" : " from " + String.join(", ", p.from()))
              + (p.mode().equals("reject")
                  ? ": "
                      + (p.from().isEmpty() ? "every caller" : "their calls")
                      + " through the load balancer get 503)"
                  : ": connections in, nothing back)");
    };
  }

  private static String toxic(Fault.Toxic t) {
    List<String> parts = new ArrayList<>();
    if (!t.latency().isZero()) {
      parts.add(
          "latency "
              + t.latency().toMillis()
              + " ms"
              + (t.jitter().isZero() ? "" : " ± " + t.jitter().toMillis() + " ms"));
    }
    if (t.bandwidth() > 0) {
      parts.add("bandwidth " + t.bandwidth() + " B/s");
    }
    if (t.sliceBytes() > 0) {
      parts.add("slices of " + t.sliceBytes() + " B every " + t.sliceDelay().toMillis() + " ms");
    }
    if (t.timeout() != null) {
      parts.add("timeout " + t.timeout().toMillis() + " ms");
    }
    if (t.resetPeer()) {
      parts.add("reset");
    }
    if (!t.slowClose().isZero()) {
      parts.add("slow close " + t.slowClose().toMillis() + " ms");
    }
    return String.join(", ", parts) + " " + t.direction() + " on " + t.toxicity() + "%";
  }
}
