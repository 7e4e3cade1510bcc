package dev.pilothouse.core.runtime;

import dev.pilothouse.core.instance.InstanceLogs;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Streams local instances' log files to a client, whole lines, each prefixed with its instance. */
public final class LogStreamer implements InstanceLogs {
  private static final long FOLLOW_POLL_MS = 200;

  private final LogFiles logs;

  public LogStreamer(LogFiles logs) {
    this.logs = logs;
  }

  @Override
  public void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException {
    Map<Path, Long> offsets = new HashMap<>();
    for (Path f : logs.files(service, instance)) {
      Path old = LogFiles.rotated(f);
      if (Files.exists(old)) {
        copyLines(old, LogFiles.offsetSince(old, since), id(f), out);
      }
      offsets.put(f, copyLines(f, LogFiles.offsetSince(f, since), id(f), out));
    }
    out.flush();
    while (follow) {
      try {
        Thread.sleep(FOLLOW_POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      List<Path> files = logs.files(service, instance);
      for (Path f : files) {
        long from = offsets.getOrDefault(f, 0L);
        long size = Files.exists(f) ? Files.size(f) : 0;
        if (size < from) {
          from = 0; // rotated (truncated) since the last read
        }
        offsets.put(f, copyLines(f, from, id(f), out));
      }
      out.flush(); // throws once the client has gone, which ends the loop
    }
  }

  @Override
  public boolean has(String service, String instance) throws IOException {
    return !logs.files(service, Optional.of(instance)).isEmpty();
  }

  private static String id(Path f) {
    return f.getFileName().toString().replaceFirst("\\.log$", "");
  }

  /** Copies complete lines from offset; returns the offset after the last complete line. */
  private static long copyLines(Path f, long offset, String id, OutputStream out)
      throws IOException {
    if (!Files.exists(f)) {
      return offset;
    }
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "r")) {
      long size = raf.length();
      if (offset >= size) {
        return Math.min(offset, size);
      }
      raf.seek(offset);
      byte[] buf = new byte[(int) Math.min(size - offset, 32 << 20)];
      raf.readFully(buf);
      byte[] prefix = ("[" + id + "] ").getBytes(StandardCharsets.UTF_8);
      int start = 0;
      for (int i = 0; i < buf.length; i++) {
        if (buf[i] == '\n') {
          out.write(prefix);
          out.write(buf, start, i - start + 1);
          start = i + 1;
        }
      }
      return offset + start;
    }
  }
}
