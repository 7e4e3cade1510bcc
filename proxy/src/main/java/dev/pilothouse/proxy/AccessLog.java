package dev.pilothouse.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JSON-lines access log that costs the event loops little: each event loop appends its lines to a
 * batch of its own (no string per line, no hand-off per line) and hands a batch to the writer
 * thread when it is full or at the next {@link #flushThisThread} (every 200 ms, see the data
 * plane); the writer thread turns batches into bytes and writes them, rotating by size at line
 * boundaries: access.log becomes access.log.1 (and so on up to keep files), so the log takes at
 * most (keep + 1) × maxBytes. Batches are dropped (and their lines counted) when the writer falls
 * behind by more than {@link #MAX_QUEUED} of them, so a slow disk never stalls requests.
 */
final class AccessLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AccessLog.class);

  /** A batch is handed over at this many characters. */
  static final int BATCH_CHARS = 32 * 1024;

  /** Batches waiting for the writer at most (about 2 MiB). */
  static final int MAX_QUEUED = 64;

  private record Batch(StringBuilder text, int lines) {}

  private final ArrayBlockingQueue<Batch> queue = new ArrayBlockingQueue<>(MAX_QUEUED);
  private final ThreadLocal<Pending> pending = ThreadLocal.withInitial(Pending::new);
  private final double sample;
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  private final long maxBytes;
  private final int keep;

  /** One thread's lines not yet handed to the writer. */
  private static final class Pending {
    StringBuilder text = new StringBuilder(BATCH_CHARS + 1024);
    int lines;
    long second = Long.MIN_VALUE;
    String secondText = "";
  }

  AccessLog(Path file, double sample, long maxBytes, int keep) {
    this.sample = sample;
    this.maxBytes = maxBytes;
    this.keep = keep;
    this.writer = Thread.ofPlatform().daemon().name("access-log").start(() -> run(file));
  }

  /** Logs a line (built only when sampled): line appends one JSON object, without newline. */
  void log(java.util.function.Consumer<StringBuilder> line) {
    if (sample < 1 && java.util.concurrent.ThreadLocalRandom.current().nextDouble() >= sample) {
      return;
    }
    Pending p = pending.get();
    line.accept(p.text);
    p.text.append('\n');
    p.lines++;
    if (p.text.length() >= BATCH_CHARS) {
      handOver(p);
    }
  }

  /** Hands this thread's pending lines to the writer. */
  void flushThisThread() {
    Pending p = pending.get();
    if (p.lines > 0) {
      handOver(p);
    }
  }

  private void handOver(Pending p) {
    if (!queue.offer(new Batch(p.text, p.lines))) {
      dropped.addAndGet(p.lines);
    }
    p.text = new StringBuilder(BATCH_CHARS + 1024);
    p.lines = 0;
  }

  /**
   * Appends the time as ISO-8601 UTC with milliseconds ({@code 2026-11-29T09:52:01.123Z}); the part
   * up to the second is formatted once per second per thread.
   */
  void time(StringBuilder b, long epochMillis) {
    Pending p = pending.get();
    long second = Math.floorDiv(epochMillis, 1000);
    if (second != p.second) {
      p.second = second;
      p.secondText =
          java.time.LocalDateTime.ofEpochSecond(second, 0, java.time.ZoneOffset.UTC).toString();
      if (p.secondText.length() == 16) {
        p.secondText += ":00"; // LocalDateTime leaves out zero seconds
      }
    }
    int ms = (int) Math.floorMod(epochMillis, 1000);
    b.append(p.secondText).append('.');
    if (ms < 100) {
      b.append('0');
    }
    if (ms < 10) {
      b.append('0');
    }
    b.append(ms).append('Z');
  }

  /** Lines dropped because the writer fell behind. */
  long dropped() {
    return dropped.get();
  }

  private void run(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      java.io.OutputStream w = open(file);
      long size = Files.size(file);
      try {
        while (!closed || !queue.isEmpty()) {
          Batch batch = queue.poll(200, TimeUnit.MILLISECONDS);
          if (batch == null) {
            w.flush();
            continue;
          }
          byte[] bytes = batch.text().toString().getBytes(StandardCharsets.UTF_8);
          if (size + bytes.length <= maxBytes) { // no rotation inside: one write for the batch
            w.write(bytes);
            size += bytes.length;
            continue;
          }
          int from = 0;
          while (from < bytes.length) {
            int to = from;
            while (bytes[to] != '\n') {
              to++;
            }
            int len = to + 1 - from;
            if (size + len > maxBytes && size > 0) {
              w.close();
              rotate(file);
              w = open(file);
              size = 0;
            }
            w.write(bytes, from, len);
            size += len;
            from = to + 1;
          }
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

  private static java.io.OutputStream open(Path file) throws IOException {
    if (!Files.exists(file)) {
      Files.createFile( // client addresses and paths: for the owner only
          file,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    }
    return new java.io.BufferedOutputStream(
        Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND), 65536);
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

  /**
   * Appends microseconds as milliseconds with up to three decimals ({@code 0.412}, {@code 12.0}),
   * as {@code Double.toString} writes them below 10^7 but without its cost on every request.
   */
  static void millis(StringBuilder b, long micros) {
    b.append(micros / 1000).append('.');
    int frac = (int) (micros % 1000);
    if (frac == 0) {
      b.append('0');
      return;
    }
    int digits = 3;
    while (frac % 10 == 0) {
      frac /= 10;
      digits--;
    }
    for (int p = digits == 3 ? 100 : digits == 2 ? 10 : 1; p > frac && p > 1; p /= 10) {
      b.append('0');
    }
    b.append(frac);
  }

  /** A field as {@link #field} appends it, as a string to keep. */
  static String json(String name, String value) {
    StringBuilder b = new StringBuilder(name.length() + value.length() + 8);
    field(b, name, value);
    return b.toString();
  }

  static void field(StringBuilder b, String name, String value) {
    b.append(",\"").append(name).append("\":\"");
    int plain = 0;
    while (plain < value.length()) {
      char c = value.charAt(plain);
      if (c < 0x20 || c == '"' || c == '\\') {
        break;
      }
      plain++;
    }
    b.append(value, 0, plain); // most values need no escaping: one copy
    for (int i = plain; i < value.length(); i++) {
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
