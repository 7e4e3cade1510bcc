package dev.pilothouse.proxy;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSON-lines access log written by its own thread, so event loops never block on disk; lines are
 * dropped (and counted) when the writer falls behind.
 */
final class AccessLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
  private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(65_536);
  private final double sample;
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  AccessLog(Path file, double sample) {
    this.sample = sample;
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
      try (BufferedWriter w =
          Files.newBufferedWriter(
              file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
        while (!closed || !queue.isEmpty()) {
          String line = queue.poll(200, TimeUnit.MILLISECONDS);
          if (line == null) {
            w.flush();
            continue;
          }
          w.write(line);
          w.write('\n');
        }
        w.flush();
      }
    } catch (IOException e) {
      log.warn("access log {} failed: {}", file, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
