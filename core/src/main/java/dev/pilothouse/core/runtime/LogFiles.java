package dev.pilothouse.core.runtime;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-instance log files under {@code STATE/logs/SERVICE/INSTANCE.log}: rotated by size (copy, then
 * truncate, so an instance that outlives the daemon keeps writing) and indexed by time once a
 * second so that readers can start "since 5 minutes ago".
 *
 * <p>The index file {@code INSTANCE.log.idx} holds lines {@code EPOCH_MILLIS OFFSET}: at that time
 * the log was that long. Timestamps are therefore accurate to the maintenance interval.
 */
public final class LogFiles {
  private static final Logger log = LoggerFactory.getLogger(LogFiles.class);

  private final Path root;
  private final long maxBytes;
  private final int keepPerService;
  private final InstantSource clock;
  private final Map<Path, Long> lastSize = new HashMap<>();

  /**
   * @param maxBytes a log file longer than this is rotated to {@code .log.1}
   * @param keepPerService log files of this many most recent instances are kept per service
   */
  public LogFiles(Path root, long maxBytes, int keepPerService, InstantSource clock) {
    this.root = requireNonNull(root, "root");
    if (maxBytes < 1024) {
      throw new IllegalArgumentException("maxBytes must be >= 1024, but was " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.keepPerService = keepPerService;
    this.clock = requireNonNull(clock, "clock");
  }

  /** The log file of one instance. */
  public Path fileFor(String service, String instanceId) {
    return root.resolve(service).resolve(instanceId + ".log");
  }

  /** Notes a new log so that its start is indexed at once. */
  public synchronized void track(String service, String instanceId) {
    Path f = fileFor(service, instanceId);
    appendIndex(f, sizeOf(f));
  }

  /** Indexes grown files, rotates long ones and prunes the logs of old instances. */
  public synchronized void maintain() {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.filter(Files::isDirectory).toList()) {
        List<Path> files = logsIn(dir);
        for (Path f : files) {
          long size = sizeOf(f);
          Long before = lastSize.get(f);
          if (before == null || before != size) {
            appendIndex(f, size);
          }
          if (size > maxBytes) {
            rotate(f);
          }
        }
        prune(files);
      }
    } catch (IOException e) {
      log.warn("log maintenance failed: {}", e.toString());
    }
  }

  /** Log files of a service (oldest first), or of one instance when instanceId is given. */
  public List<Path> files(String service, Optional<String> instanceId) throws IOException {
    Path dir = root.resolve(service);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    for (Path f : logsIn(dir)) {
      String id = f.getFileName().toString().replaceFirst("\\.log$", "");
      if (instanceId.isEmpty() || instanceId.get().equals(id)) {
        out.add(f);
      }
    }
    return out;
  }

  /** The rotated predecessor of a log file. */
  public static Path rotated(Path f) {
    return f.resolveSibling(f.getFileName() + ".1");
  }

  /** The byte offset in f from which lines were written at or after since (0 if unknown). */
  public static long offsetSince(Path f, Instant since) {
    Path idx = index(f);
    long offset = 0;
    if (!Files.exists(idx)) {
      return 0;
    }
    try {
      for (String line : Files.readAllLines(idx, StandardCharsets.US_ASCII)) {
        String[] parts = line.trim().split(" ");
        if (parts.length != 2) {
          continue;
        }
        long t = Long.parseLong(parts[0]);
        if (t <= since.toEpochMilli()) {
          offset = Long.parseLong(parts[1]);
        } else {
          break;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
    return offset;
  }

  private static Path index(Path f) {
    return f.resolveSibling(f.getFileName() + ".idx");
  }

  private static List<Path> logsIn(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".log"))
          .sorted(Comparator.comparing(LogFiles::modified))
          .toList();
    }
  }

  private void prune(List<Path> oldestFirst) {
    for (int i = 0; i < oldestFirst.size() - keepPerService; i++) {
      Path f = oldestFirst.get(i);
      try {
        Files.deleteIfExists(f);
        Files.deleteIfExists(rotated(f));
        Files.deleteIfExists(index(f));
        Files.deleteIfExists(index(rotated(f)));
        lastSize.remove(f);
      } catch (IOException e) {
        log.warn("could not prune {}: {}", f, e.toString());
      }
    }
  }

  /**
   * Rotates a log that another process appends to (O_APPEND, so it cannot be renamed under it) once
   * it is longer than maxBytes: f.N-1 becomes f.N … f becomes f.1 (a copy), then f is truncated.
   * Lines written between the copy and the truncation are lost, as with logrotate's copytruncate.
   * Returns whether it rotated.
   */
  public static boolean copyTruncate(Path f, long maxBytes, int keep) {
    if (sizeOf(f) <= maxBytes || keep < 1) {
      return false;
    }
    try {
      Files.deleteIfExists(numbered(f, keep));
      for (int i = keep - 1; i >= 1; i--) {
        if (Files.exists(numbered(f, i))) {
          Files.move(numbered(f, i), numbered(f, i + 1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      copyTruncate(f);
      return true;
    } catch (IOException e) {
      log.warn("could not rotate {}: {}", f, e.toString());
      return false;
    }
  }

  private static Path numbered(Path f, int n) {
    return f.resolveSibling(f.getFileName() + "." + n);
  }

  /** Copies f to f.1 (owner-only, like f) and truncates f. */
  private static void copyTruncate(Path f) throws IOException {
    Files.copy(f, rotated(f), StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(
        rotated(f), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(0);
    }
  }

  private void rotate(Path f) {
    try {
      copyTruncate(f);
      if (Files.exists(index(f))) {
        Files.copy(index(f), index(rotated(f)), StandardCopyOption.REPLACE_EXISTING);
      }
      Files.deleteIfExists(index(f));
      appendIndex(f, 0);
    } catch (IOException e) {
      log.warn("could not rotate {}: {}", f, e.toString());
    }
  }

  private void appendIndex(Path f, long size) {
    lastSize.put(f, size);
    try {
      Files.createDirectories(f.getParent());
      Files.writeString(
          index(f),
          clock.instant().toEpochMilli() + " " + size + "\n",
          StandardCharsets.US_ASCII,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.warn("could not index {}: {}", f, e.toString());
    }
  }

  private static long sizeOf(Path f) {
    try {
      return Files.exists(f) ? Files.size(f) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static Instant modified(Path f) {
    try {
      return Files.getLastModifiedTime(f).toInstant();
    } catch (IOException e) {
      return Instant.EPOCH;
    }
  }
}
