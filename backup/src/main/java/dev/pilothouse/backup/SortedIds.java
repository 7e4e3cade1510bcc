package dev.pilothouse.backup;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A set of ids too large for memory: ids are gathered in a fixed buffer, sorted runs spill to
 * files, the runs merge into one sorted file of unique ids, and membership is a binary search over
 * that file mapped into memory (the page cache's, not the heap's). Heap use is the buffer's size,
 * whatever the number of ids.
 */
final class SortedIds implements AutoCloseable {
  private static final int REGION = 1 << 30;

  private final Path dir;
  private final Id[] buffer;
  private int filled;
  private final List<Path> runs = new ArrayList<>();
  private long count;
  private MappedByteBuffer[] regions;

  SortedIds(Path dir, int bufferIds) {
    this.dir = dir;
    this.buffer = new Id[bufferIds];
  }

  void add(Id id) throws IOException {
    buffer[filled++] = id;
    if (filled == buffer.length) {
      spill();
    }
  }

  private void spill() throws IOException {
    if (filled == 0) {
      return;
    }
    Arrays.sort(buffer, 0, filled);
    Path run = dir.resolve("run-" + runs.size());
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(run), 1 << 16))) {
      Id last = null;
      for (int i = 0; i < filled; i++) {
        if (!buffer[i].equals(last)) {
          write(out, buffer[i]);
          last = buffer[i];
        }
      }
    }
    Arrays.fill(buffer, 0, filled, null);
    filled = 0;
    runs.add(run);
  }

  /** Ends adding: merges the runs and maps the result. */
  void seal() throws IOException {
    spill();
    Path merged = dir.resolve("ids");
    List<DataInputStream> ins = new ArrayList<>();
    record Head(Id id, int run) {}
    PriorityQueue<Head> heap = new PriorityQueue<>((x, y) -> x.id().compareTo(y.id()));
    try (DataOutputStream out =
        new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(merged), 1 << 16))) {
      for (int i = 0; i < runs.size(); i++) {
        DataInputStream in =
            new DataInputStream(
                new BufferedInputStream(Files.newInputStream(runs.get(i)), 1 << 16));
        ins.add(in);
        Id first = read(in);
        if (first != null) {
          heap.add(new Head(first, i));
        }
      }
      Id last = null;
      while (!heap.isEmpty()) {
        Head h = heap.poll();
        if (!h.id().equals(last)) {
          write(out, h.id());
          count++;
          last = h.id();
        }
        Id next = read(ins.get(h.run()));
        if (next != null) {
          heap.add(new Head(next, h.run()));
        }
      }
    } finally {
      for (DataInputStream in : ins) {
        in.close();
      }
    }
    for (Path r : runs) {
      Files.deleteIfExists(r);
    }
    long size = count * Id.BYTES;
    try (FileChannel ch = FileChannel.open(merged, StandardOpenOption.READ)) {
      int n = (int) ((size + REGION - 1) / REGION);
      regions = new MappedByteBuffer[n];
      for (int i = 0; i < n; i++) {
        long start = (long) i * REGION;
        regions[i] = ch.map(FileChannel.MapMode.READ_ONLY, start, Math.min(REGION, size - start));
      }
    }
  }

  long size() {
    return count;
  }

  boolean contains(Id id) {
    long lo = 0;
    long hi = count - 1;
    while (lo <= hi) {
      long mid = (lo + hi) >>> 1;
      int c = at(mid).compareTo(id);
      if (c == 0) {
        return true;
      }
      if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return false;
  }

  private Id at(long i) {
    long pos = i * Id.BYTES;
    MappedByteBuffer r = regions[(int) (pos / REGION)];
    int off = (int) (pos % REGION);
    return new Id(r.getLong(off), r.getLong(off + 8), r.getLong(off + 16), r.getLong(off + 24));
  }

  private static void write(DataOutputStream out, Id id) throws IOException {
    out.writeLong(id.a());
    out.writeLong(id.b());
    out.writeLong(id.c());
    out.writeLong(id.d());
  }

  private static Id read(DataInputStream in) throws IOException {
    try {
      return new Id(in.readLong(), in.readLong(), in.readLong(), in.readLong());
    } catch (EOFException end) {
      return null;
    }
  }

  @Override
  public void close() throws IOException {
    regions = null;
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
