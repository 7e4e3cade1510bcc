package dev.pilothouse.proxy;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSON-lines access log written by its own thread, so event loops never block on disk; lines are
 * dropped (and counted) when the writer falls behind. Rotated by size: access.log becomes
 * access.log.1 (and so on up to keep files), so the log takes at most (keep + 1) × maxBytes.
 */
final class AccessLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
  private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(65_536);
  private final double sample;
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  private final long maxBytes;
  private final int keep;

  AccessLog(Path file, double sample, long maxBytes, int keep) {
    this.sample = sample;
    this.maxBytes = maxBytes;
    this.keep = keep;
    this.writer = Thread.ofPlatform().daemon().name("access-log").start(() -> run(file));
  }

  /** Logs a line (built only when sampled). */
  void log(Supplier<String> line) {
    if (sample < 1 && java.util.concurrent.ThreadLocalRandom.current().nextDouble() >= sample) {
      return;
    }
    if (!queue.offer(line.get())) {
      dropped.incrementAndGet();
    }
  }

  long dropped() {
    return dropped.get();
  }

  private void run(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      BufferedWriter w = open(file);
      long size = Files.size(file);
      try {
        while (!closed || !queue.isEmpty()) {
          String line = queue.poll(200, TimeUnit.MILLISECONDS);
          if (line == null) {
            w.flush();
            continue;
          }
          if (size + line.length() + 1 > maxBytes && size > 0) {
            w.close();
            rotate(file);
            w = open(file);
            size = 0;
          }
          w.write(line);
          w.write('\n');
          size += line.length() + 1; // characters: bytes for the ASCII the log mostly holds
        }
        w.flush();
      } finally {
        w.close();
      }
    } catch (IOException e) {
      log.warn("access log {} failed: {}", file, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static BufferedWriter open(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile( // client addresses and paths: for the owner only
          file,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    }
    return Files.newBufferedWriter(
        file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** access.log.N-1 → .N … access.log → .1; the oldest beyond keep is deleted. */
  private void rotate(Path file) throws IOException {
    Files.deleteIfExists(numbered(file, keep));
    for (int i = keep - 1; i >= 1; i--) {
      if (Files.exists(numbered(file, i))) {
        Files.move(numbered(file, i), numbered(file, i + 1), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.move(file, numbered(file, 1), StandardCopyOption.REPLACE_EXISTING);
  }

  static Path numbered(Path file, int n) {
    return file.resolveSibling(file.getFileName() + "." + n);
  }

  static void field(StringBuilder b, String name, String value) {
    b.append(",\"").append(name).append("\":\"");
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  @Override
  public void close() {
    closed = true;
    try {
      writer.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
