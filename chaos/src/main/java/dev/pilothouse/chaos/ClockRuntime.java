package dev.pilothouse.chaos;

import dev.pilothouse.core.instance.InstanceRuntime;
import dev.pilothouse.core.instance.Launch;
import dev.pilothouse.core.instance.RunningProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the instances of the services the spec names in {@code chaos.clock} with libfaketime
 * preloaded, reading its offset from a file of their own ({@code STATE/chaos/clock/INSTANCE}) that
 * holds {@code +0} until a {@code clock} fault writes another offset there; libfaketime reads it
 * again every second, so a running instance's clock moves without a restart. Only the wall clock
 * moves: the monotonic clocks (timeouts, sleeps) are left alone.
 *
 * <p>Processes that read the clock through the C library see it (C, the JVM, Python, Node.js);
 * statically linked programs that read it straight from the kernel's vDSO (Go) do not.
 */
public final class ClockRuntime implements InstanceRuntime {
  private static final Logger log = LoggerFactory.getLogger(ClockRuntime.class);

  /** Debian's libfaketime (package {@code libfaketime}). */
  public static final Path LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

  private final InstanceRuntime runtime;
  private final Path dir;
  private final Supplier<Set<String>> services;
  private final Path library;
  private volatile boolean warned;

  /**
   * @param dir where the offset files live
   * @param services the services whose instances start with libfaketime (the spec's chaos.clock)
   */
  public ClockRuntime(
      InstanceRuntime runtime, Path dir, Supplier<Set<String>> services, Path library) {
    this.runtime = runtime;
    this.dir = dir;
    this.services = services;
    this.library = library;
  }

  /** The offset file of an instance. */
  static Path file(Path dir, String instanceId) {
    return dir.resolve(instanceId);
  }

  /** Writes an offset (libfaketime's "+N" / "-N" seconds) for an instance, atomically. */
  static void write(Path file, Duration offset) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    long s = offset.toSeconds();
    Files.writeString(tmp, (s < 0 ? "" : "+") + s + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** The offset an instance's file holds now, if it has one. */
  static Optional<Duration> read(Path file) {
    try {
      String t = Files.readString(file, StandardCharsets.US_ASCII).trim();
      return Optional.of(
          Duration.ofSeconds(Long.parseLong(t.startsWith("+") ? t.substring(1) : t)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  @Override
  public RunningProcess start(Launch l) {
    if (!services.get().contains(l.service())) {
      return runtime.start(l);
    }
    if (!Files.isReadable(library)) {
      if (!warned) {
        warned = true;
        log.warn(
            "chaos.clock names {}, but {} is missing: its instances start without it, and clock"
                + " faults are refused (apt-get install libfaketime)",
            l.service(),
            library);
      }
      return runtime.start(l);
    }
    Path file = file(dir, l.instanceId());
    try {
      Files.createDirectories(dir);
      write(file, Duration.ZERO);
    } catch (IOException e) {
      log.warn(
          "chaos: cannot write {}: {}; {} starts without clock faults", file, e, l.instanceId());
      return runtime.start(l);
    }
    Map<String, String> env = new LinkedHashMap<>(l.env());
    String preload = env.get("LD_PRELOAD");
    env.put(
        "LD_PRELOAD",
        preload == null || preload.isBlank() ? library.toString() : library + ":" + preload);
    env.put("FAKETIME_TIMESTAMP_FILE", file.toAbsolutePath().toString());
    env.put("FAKETIME_CACHE_DURATION", "1"); // read the file again every second
    // Only the wall clock moves (a faked monotonic clock would make timeouts jump); libfaketime's
    // monotonic fix makes a JVM's timed waits spin, so it is off.
    env.put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    env.put("FAKETIME_FORCE_MONOTONIC_FIX", "0");
    return runtime.start(
        new Launch(
            l.instanceId(),
            l.service(),
            l.command(),
            l.args(),
            env,
            l.workdir(),
            l.port(),
            l.inheritEnv(),
            l.secretFiles()));
  }

  @Override
  public Optional<RunningProcess> adopt(String instanceId, long pid, long startTicks) {
    return runtime.adopt(instanceId, pid, startTicks);
  }

  @Override
  public Set<Long> reapOrphans(Set<String> keep) {
    Set<Long> reaped = runtime.reapOrphans(keep);
    // Offset files of instances that are gone.
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (!keep.contains(name.endsWith(".tmp") ? name.substring(0, name.length() - 4) : name)) {
          Files.deleteIfExists(f);
        }
      }
    } catch (IOException e) {
      // no directory yet: nothing to clean
    }
    return reaped;
  }

  @Override
  public void signal(RunningProcess process, String signal) {
    runtime.signal(process, signal);
  }

  @Override
  public void cleanup(RunningProcess process) {
    runtime.cleanup(process);
  }
}
