package dev.pilothouse.tsdb;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The write-ahead log of the head: series definitions and samples, appended to numbered segment
 * files as length- and CRC-framed records. Writes go to a buffer that is written out and synced at
 * least once a second (and when it fills), so a killed process loses at most the last second of
 * samples. A torn record at the end of the last segment (a crash mid-write) is ignored on replay.
 */
final class Wal implements AutoCloseable {
  static final byte SERIES = 1;
  static final byte SAMPLES = 2;
  static final long SEGMENT_BYTES = 64L << 20;
  private static final int BUFFER_BYTES = 1 << 20;

  private final Path dir;

  /**
   * The segment being written. A stream, not a FileChannel: a channel is closed for good when a
   * thread is interrupted in one of its calls (a scrape or rule thread stopped while it commits,
   * the sync task at close), and every later append, the last flush at close among them, would
   * fail.
   */
  private FileOutputStream out;

  private int segment;
  private long segmentSize;
  private final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES);
  private final CRC32C crc = new CRC32C();

  private Wal(Path dir) {
    this.dir = dir;
  }

  /** One decoded record. */
  sealed interface Record permits SeriesRecord, SamplesRecord {}

  record SeriesRecord(int id, Labels labels) implements Record {}

  record SamplesRecord(int[] ids, long[] ts, double[] vs) implements Record {}

  /** Opens the log in dir for appending to a new segment after the existing ones. */
  static Wal open(Path dir) throws IOException {
    Files.createDirectories(dir);
    Wal w = new Wal(dir);
    List<Path> segs = segments(dir);
    w.segment = segs.isEmpty() ? 0 : number(segs.get(segs.size() - 1)) + 1;
    w.openSegment();
    return w;
  }

  static List<Path> segments(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("\\d{8}")).sorted().toList();
    }
  }

  private static int number(Path p) {
    return Integer.parseInt(p.getFileName().toString());
  }

  private void openSegment() throws IOException {
    Path file = dir.resolve(String.format("%08d", segment));
    out = new FileOutputStream(file.toFile(), true);
    segmentSize = Files.size(file);
    Durable.syncDir(dir); // the new segment's name survives a power loss with its records
  }

  synchronized void logSeries(int id, Labels l) {
    byte[][] strings = new byte[2 * l.size()][];
    int max = 20;
    for (int i = 0; i < l.size(); i++) {
      strings[2 * i] = l.name(i).getBytes(StandardCharsets.UTF_8);
      strings[2 * i + 1] = l.value(i).getBytes(StandardCharsets.UTF_8);
      max += strings[2 * i].length + strings[2 * i + 1].length + 20;
    }
    byte[] b = scratch(max);
    int p = putVarlong(b, 0, id);
    p = putVarlong(b, p, l.size());
    for (byte[] str : strings) {
      p = putVarlong(b, p, str.length);
      System.arraycopy(str, 0, b, p, str.length);
      p += str.length;
    }
    append(SERIES, b, p);
  }

  /** Scratch space for a record, reused (appends hold the monitor). */
  private byte[] scratch = new byte[1 << 16];

  private byte[] scratch(int max) {
    if (scratch.length < max) {
      scratch = new byte[Math.max(max, scratch.length * 2)];
    }
    return scratch;
  }

  synchronized void logSamples(int[] ids, long[] ts, double[] vs, int n) {
    // At most 10 bytes per varint: count, base time, then per sample id, time offset, value.
    byte[] b = scratch(20 + n * (5 + 10 + 8));
    long baseT = n == 0 ? 0 : ts[0];
    int p = putVarlong(b, 0, n);
    p = putVarlong(b, p, baseT);
    for (int i = 0; i < n; i++) {
      p = putVarlong(b, p, ids[i]);
      p = putVarlong(b, p, ts[i] - baseT);
      long bits = Double.doubleToRawLongBits(vs[i]);
      for (int k = 56; k >= 0; k -= 8) {
        b[p++] = (byte) (bits >>> k); // big-endian, as DataInput reads it
      }
    }
    append(SAMPLES, b, p);
  }

  /** Writes v zig-zag varint encoded at p; returns the position after it. */
  private static int putVarlong(byte[] b, int p, long v) {
    long u = (v << 1) ^ (v >> 63);
    while ((u & ~0x7FL) != 0) {
      b[p++] = (byte) ((u & 0x7F) | 0x80);
      u >>>= 7;
    }
    b[p++] = (byte) u;
    return p;
  }

  private void append(byte type, byte[] payload, int length) {
    int len = length + 1;
    if (8 + len > buf.remaining()) {
      flush(false);
    }
    crc.reset();
    crc.update(type);
    crc.update(payload, 0, length);
    buf.putInt(len).putInt((int) crc.getValue()).put(type);
    // A record larger than the buffer goes through it in pieces (the buffer was flushed above).
    for (int at = 0; at < length; ) {
      if (!buf.hasRemaining()) {
        flush(false);
      }
      int k = Math.min(buf.remaining(), length - at);
      buf.put(payload, at, k);
      at += k;
    }
  }

  /** Writes the buffer to the segment; with sync, also to the disk. */
  synchronized void flush(boolean sync) {
    buf.flip();
    write(buf);
    buf.clear();
    if (sync) {
      try {
        out.getFD().sync();
      } catch (IOException e) {
        throw new UncheckedIOException("syncing the WAL in " + dir + ": " + e.getMessage(), e);
      }
    }
  }

  private void write(ByteBuffer b) {
    try {
      int k = b.remaining();
      out.write(b.array(), b.arrayOffset() + b.position(), k);
      b.position(b.position() + k);
      segmentSize += k;
      if (segmentSize >= SEGMENT_BYTES) {
        out.getFD().sync();
        out.close();
        segment++;
        openSegment();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing the WAL in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Continues in a new segment; returns its number (earlier segments are complete). */
  synchronized int rotate() {
    flush(true);
    try {
      out.close();
      segment++;
      openSegment();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return segment;
  }

  /**
   * Writes a checkpoint holding the given series and their samples, standing in for every segment
   * before {@code upTo}; then deletes those segments and older checkpoints. Written to a temporary
   * file and renamed, so a crash leaves either the old segments or the checkpoint.
   */
  static void checkpoint(Path dir, int upTo, List<MemSeries> series) throws IOException {
    Path tmp = dir.resolve(String.format("checkpoint.%08d.tmp", upTo));
    Path done = dir.resolve(String.format("checkpoint.%08d", upTo));
    Wal w = new Wal(dir);
    w.segmentSize = Long.MIN_VALUE; // one file, however large: never rotated
    w.out = new FileOutputStream(tmp.toFile()); // created, or emptied
    try {
      for (MemSeries s : series) {
        w.logSeries(s.id, s.labels);
      }
      int[] ids = new int[4096];
      long[] ts = new long[4096];
      double[] vs = new double[4096];
      int n = 0;
      for (MemSeries s : series) {
        Series data = s.all();
        for (int i = 0; i < data.size(); i++) {
          ids[n] = s.id;
          ts[n] = data.t()[i];
          vs[n] = data.v()[i];
          if (++n == ids.length) {
            w.logSamples(ids, ts, vs, n);
            n = 0;
          }
        }
      }
      w.logSamples(ids, ts, vs, n);
      w.buf.flip();
      w.write(w.buf);
      w.out.getFD().sync();
    } finally {
      w.out.close();
    }
    Durable.move(tmp, done);
    for (Path p : segments(dir)) {
      if (number(p) < upTo) {
        Files.delete(p);
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith("checkpoint.") && !p.equals(done)) {
          Files.delete(p);
        }
      }
    }
  }

  /** The newest checkpoint and the segment number it stands in up to, if any. */
  static java.util.Optional<Path> latestCheckpoint(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return java.util.Optional.empty();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("checkpoint\\.\\d{8}"))
          .max(java.util.Comparator.naturalOrder());
    }
  }

  @Override
  public synchronized void close() {
    flush(true);
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Decodes every segment, several in parallel, and returns their records in log order. A torn or
   * corrupt record ends its segment (only the last one can be torn by a crash).
   */
  /** What replay hands over: one segment's records, in log order. */
  @FunctionalInterface
  interface SegmentSink {
    void accept(List<Record> records) throws IOException;
  }

  /**
   * Replays the checkpoint and the segments after it in order, handing each segment's records to
   * the sink while up to {@code threads} later segments are decoded in parallel (so at most a few
   * segments are in memory at once, not the whole log).
   */
  /**
   * What replay could not read: records whose checksum or content was wrong (skipped, the records
   * after them kept), and bytes skipped to find the next good record.
   */
  record Damage(long records, long bytes, List<String> segments) {
    static final Damage NONE = new Damage(0, 0, List.of());

    boolean any() {
      return records > 0;
    }
  }

  /** Replays the log; returns what was damaged and skipped. */
  static Damage replay(Path dir, int threads, SegmentSink sink) throws IOException {
    java.util.Optional<Path> cp = latestCheckpoint(dir);
    int from = cp.map(p -> Integer.parseInt(p.getFileName().toString().substring(11))).orElse(0);
    List<Path> segs = new ArrayList<>();
    cp.ifPresent(segs::add);
    for (Path p : segments(dir)) {
      if (number(p) >= from) {
        segs.add(p);
      }
    }
    int ahead = Math.max(1, threads);
    ExecutorService ex = Executors.newFixedThreadPool(ahead);
    long records = 0;
    long bytes = 0;
    List<String> damaged = new ArrayList<>();
    try {
      java.util.ArrayDeque<Future<Decoded>> parts = new java.util.ArrayDeque<>();
      java.util.ArrayDeque<Path> names = new java.util.ArrayDeque<>();
      int next = 0;
      while (next < segs.size() || !parts.isEmpty()) {
        while (next < segs.size() && parts.size() < ahead) {
          Path p = segs.get(next++);
          names.add(p);
          parts.add(ex.submit(() -> decodeCounting(Files.readAllBytes(p))));
        }
        Decoded d = parts.poll().get();
        Path name = names.poll();
        if (d.damagedRecords() > 0) {
          records += d.damagedRecords();
          bytes += d.skippedBytes();
          damaged.add(name.getFileName().toString());
        }
        sink.accept(d.records());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while replaying the WAL", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException("replaying the WAL in " + dir + ": " + e.getCause(), e.getCause());
    } finally {
      ex.shutdown();
    }
    return records == 0 ? Damage.NONE : new Damage(records, bytes, List.copyOf(damaged));
  }

  /** A segment's records, and how many damaged records (and bytes) were skipped in it. */
  record Decoded(List<Record> records, long damagedRecords, long skippedBytes) {}

  static List<Record> decode(byte[] data) {
    return decodeCounting(data).records();
  }

  /**
   * Decodes a segment. A record whose checksum or content is wrong is skipped and decoding goes on
   * at the next position where a whole record checks out (CRC32C makes a false match unlikely);
   * what follows the last good record is a torn tail (a write cut short), not damage.
   */
  static Decoded decodeCounting(byte[] data) {
    List<Record> out = new ArrayList<>();
    CRC32C c = new CRC32C();
    int pos = 0;
    long damaged = 0;
    long skipped = 0;
    while (data.length - pos >= 9) {
      Record r = frameAt(data, pos, c);
      if (r != null) {
        out.add(r);
        pos += 8 + ByteBuffer.wrap(data, pos, 4).getInt();
        continue;
      }
      // Damaged here: look for the next good record.
      int found = -1;
      for (int q = pos + 1; data.length - q >= 9; q++) {
        if (frameAt(data, q, c) != null) {
          found = q;
          break;
        }
      }
      if (found < 0) {
        break; // a torn tail
      }
      damaged++;
      skipped += found - pos;
      pos = found;
    }
    return new Decoded(out, damaged, skipped);
  }

  /** The record framed at pos when its length and checksum hold and it decodes, else null. */
  private static Record frameAt(byte[] data, int pos, CRC32C c) {
    ByteBuffer b = ByteBuffer.wrap(data);
    int len = b.getInt(pos);
    int sum = b.getInt(pos + 4);
    if (len < 1 || len > data.length - pos - 8) {
      return null;
    }
    c.reset();
    c.update(data, pos + 8, len);
    if ((int) c.getValue() != sum) {
      return null;
    }
    byte type = data[pos + 8];
    ByteBuffer p = ByteBuffer.wrap(data, pos + 9, len - 1).slice();
    try {
      if (type == SERIES) {
        int id = readVarint(p);
        int n = readVarint(p);
        if (n < 0 || n > p.remaining()) {
          return null;
        }
        String[] kv = new String[2 * n];
        for (int i = 0; i < 2 * n; i++) {
          kv[i] = readString(p);
        }
        return new SeriesRecord(id, Labels.of(kv));
      } else if (type == SAMPLES) {
        int n = readVarint(p);
        if (n < 0 || n > p.remaining()) {
          return null;
        }
        long base = readVarlong(p);
        int[] ids = new int[n];
        long[] ts = new long[n];
        double[] vs = new double[n];
        for (int i = 0; i < n; i++) {
          ids[i] = readVarint(p);
          ts[i] = base + readVarlong(p);
          vs[i] = Double.longBitsToDouble(p.getLong());
        }
        return new SamplesRecord(ids, ts, vs);
      }
      return null;
    } catch (RuntimeException malformed) {
      return null; // a checksum that matched by chance over bytes that are no record
    }
  }

  private static int readVarint(ByteBuffer p) {
    return (int) readVarlong(p);
  }

  private static long readVarlong(ByteBuffer p) {
    long u = 0;
    int shift = 0;
    while (true) {
      byte b = p.get();
      u |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        break;
      }
      shift += 7;
    }
    return (u >>> 1) ^ -(u & 1);
  }

  private static String readString(ByteBuffer p) {
    int n = readVarint(p);
    if (n < 0 || n > p.remaining()) {
      throw new IllegalStateException("string longer than its record");
    }
    byte[] b = new byte[n];
    p.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
