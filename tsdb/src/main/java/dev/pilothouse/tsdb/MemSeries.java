package dev.pilothouse.tsdb;

import dev.pilothouse.tsdb.chunk.XorChunk;
import java.util.ArrayList;
import java.util.List;

/** One series in the head: sealed chunks plus the open one. Guarded by its own monitor. */
final class MemSeries {
  /** Samples per chunk before a new one is cut (as Prometheus). */
  static final int SAMPLES_PER_CHUNK = 120;

  /** Chunks never straddle a multiple of this, so that head chunks fall into whole blocks. */
  static final long BLOCK_RANGE_MS = 2 * 3_600_000L;

  /**
   * A full chunk as callers see it: where its bytes are in the head's chunk files, and its bounds.
   * A series does not keep these objects: it packs each chunk into three longs (see {@link
   * #sealed}), 24 bytes instead of a 40-byte object and its reference.
   */
  static final class Sealed {
    final HeadChunks.File file;
    final int pos;
    final int bitLen;
    final int count;
    final long minT;
    private final int span; // maxT - minT: a chunk never straddles a 2 h boundary

    Sealed(HeadChunks.File file, int pos, int bitLen, int count, long minT, int span) {
      this.file = file;
      this.pos = pos;
      this.bitLen = bitLen;
      this.count = count;
      this.minT = minT;
      this.span = span;
    }

    long minT() {
      return minT;
    }

    long maxT() {
      return minT + span;
    }

    int count() {
      return count;
    }

    int length() {
      return (bitLen + 7) >>> 3;
    }

    byte[] data() {
      return HeadChunks.read(ref());
    }

    HeadChunks.Ref ref() {
      return new HeadChunks.Ref(file, pos, length());
    }

    boolean same(Sealed o) {
      return file == o.file && pos == o.pos && minT == o.minT;
    }
  }

  /** Longs per packed chunk: minT; file number and position; bit length, count and span. */
  private static final int PACKED = 3;

  final int id;
  final Labels labels;

  /**
   * The full chunks, oldest first, PACKED longs each: [minT, file << 32 | pos, bitLen << 40 | count
   * << 32 | span] (bitLen < 2^24, count < 256, span < 2^32 ms). Replaced, never changed in place,
   * so a reader may keep a reference.
   */
  private long[] sealed = EMPTY;

  private static final long[] EMPTY = new long[0];
  private XorChunk open;
  private long lastT = Long.MIN_VALUE;
  private double lastV;

  private final HeadChunks store;

  MemSeries(int id, Labels labels, HeadChunks store) {
    this.id = id;
    this.labels = labels;
    this.store = store;
  }

  /** Appends; throws for a sample older than the newest one, or a changed value at its time. */
  synchronized void append(long t, double v) {
    if (retired) {
      throw new TsdbException("series " + labels + " was dropped from the head; add it again");
    }
    if (t < lastT) {
      throw new TsdbException(
          "out-of-order sample for " + labels + ": " + t + " is before the newest, " + lastT);
    }
    if (t == lastT) {
      if (Double.doubleToRawLongBits(v) == Double.doubleToRawLongBits(lastV)) {
        return;
      }
      throw new TsdbException(
          "duplicate sample for " + labels + " at " + t + " with a different value");
    }
    if (open != null
        && (open.count() >= SAMPLES_PER_CHUNK
            || Math.floorDiv(t, BLOCK_RANGE_MS) != Math.floorDiv(open.minTime(), BLOCK_RANGE_MS))) {
      seal();
    }
    if (open == null) {
      open = new XorChunk();
    }
    open.append(t, v);
    lastT = t;
    lastV = v;
  }

  private void seal() {
    // Written from the chunk's own buffer (the series' lock keeps appends out meanwhile).
    HeadChunks.Ref ref = store.write(open.buffer(), open.byteLength());
    long[] more = java.util.Arrays.copyOf(sealed, sealed.length + PACKED);
    int at = sealed.length;
    more[at] = open.minTime();
    more[at + 1] = ((long) ref.file().number << 32) | (ref.pos() & 0xffffffffL);
    more[at + 2] =
        ((long) open.bitLength() << 40)
            | ((long) open.count() << 32)
            | Math.toIntExact(open.maxTime() - open.minTime());
    sealed = more;
    open = null;
  }

  /** The i-th packed chunk of an array as a Sealed. */
  private Sealed unpack(long[] packed, int i) {
    int at = i * PACKED;
    long where = packed[at + 1];
    long info = packed[at + 2];
    return new Sealed(
        store.file((int) (where >>> 32)),
        (int) where,
        (int) (info >>> 40),
        (int) ((info >>> 32) & 0xff),
        packed[at],
        (int) info);
  }

  private static long maxT(long[] packed, int i) {
    return packed[i * PACKED] + (int) packed[i * PACKED + 2];
  }

  private static int count(long[] packed, int i) {
    return (int) ((packed[i * PACKED + 2] >>> 32) & 0xff);
  }

  private static int bitLen(long[] packed, int i) {
    return (int) (packed[i * PACKED + 2] >>> 40);
  }

  /**
   * Set once the head dropped this series (it held no samples); appends must look it up again.
   * Volatile: every commit reads it for every sample, without taking the series' monitor.
   */
  private volatile boolean retired;

  /** Retires the series if it holds no samples (all persisted in blocks); true if it did. */
  synchronized boolean retireIfEmpty() {
    if (sealed.length == 0 && open == null) {
      retired = true;
    }
    return retired;
  }

  boolean retired() {
    return retired;
  }

  synchronized long lastTime() {
    return lastT;
  }

  /** The time of the oldest sample held, or Long.MAX_VALUE when none. */
  synchronized long minTime() {
    if (sealed.length > 0) {
      return sealed[0];
    }
    return open == null ? Long.MAX_VALUE : open.minTime();
  }

  /**
   * The chunks that end before cut (sealing the open one when it does: the series has gone quiet),
   * left in place: they stay readable here until {@link #dropFirst} removes them, once the block
   * holding them is readable.
   */
  synchronized List<Sealed> sealedBefore(long cut) {
    if (open != null && open.maxTime() < cut) {
      seal();
    }
    List<Sealed> out = new ArrayList<>();
    for (int i = 0; i < sealed.length / PACKED && maxT(sealed, i) < cut; i++) {
      out.add(unpack(sealed, i));
    }
    return out;
  }

  /** Removes these chunks, which {@link #sealedBefore} returned (the oldest ones, in order). */
  synchronized void dropFirst(List<Sealed> chunks) {
    for (int i = 0; i < chunks.size(); i++) {
      if (i >= sealed.length / PACKED || !unpack(sealed, i).same(chunks.get(i))) {
        throw new IllegalStateException("head chunks of " + labels + " changed while persisted");
      }
    }
    sealed =
        chunks.size() * PACKED == sealed.length
            ? EMPTY
            : java.util.Arrays.copyOfRange(sealed, chunks.size() * PACKED, sealed.length);
  }

  /** Every sample held, for a WAL checkpoint. */
  Series all() {
    return read(Long.MIN_VALUE, Long.MAX_VALUE, QueryBudget.unlimited());
  }

  /** The samples in [mint, maxt]; budget counts them and may refuse. */
  Series read(long mint, long maxt, QueryBudget budget) {
    long[] chunks;
    byte[] openBytes;
    int openBits;
    int openCount;
    long openMin;
    long openMax;
    Sealed[] wanted;
    synchronized (this) {
      chunks = sealed; // never changed in place
      // The chunks' files are looked up while the chunks are held: a file is dropped only after
      // its chunks left the series (its mapping stays readable for a reader that has it).
      wanted = new Sealed[chunks.length / PACKED];
      for (int i = 0; i < wanted.length; i++) {
        if (maxT(chunks, i) >= mint && chunks[i * PACKED] <= maxt) {
          wanted[i] = unpack(chunks, i);
        }
      }
      if (open != null) {
        openBytes = open.bytes();
        openBits = open.bitLength();
        openCount = open.count();
        openMin = open.minTime();
        openMax = open.maxTime();
      } else {
        openBytes = null;
        openBits = 0;
        openCount = 0;
        openMin = 0;
        openMax = 0;
      }
    }
    int n = 0;
    for (Sealed w : wanted) {
      if (w != null) {
        n += w.count;
      }
    }
    if (openBytes != null && openMax >= mint && openMin <= maxt) {
      n += openCount;
    }
    budget.charge(n); // before allocating: a query over its budget never takes the memory
    long[] ts = new long[n];
    double[] vs = new double[n];
    int k = 0;
    for (Sealed w : wanted) {
      if (w != null) {
        k = decode(w.data(), w.bitLen, w.count, mint, maxt, ts, vs, k);
      }
    }
    if (openBytes != null && openMax >= mint && openMin <= maxt) {
      k = decode(openBytes, openBits, openCount, mint, maxt, ts, vs, k);
    }
    budget.release(n - k);
    if (k == n) {
      return new Series(labels, ts, vs);
    }
    return new Series(labels, java.util.Arrays.copyOf(ts, k), java.util.Arrays.copyOf(vs, k));
  }

  private static int decode(
      byte[] data, int bits, int count, long mint, long maxt, long[] ts, double[] vs, int k) {
    XorChunk.Reader r = new XorChunk.Reader(data, bits, count);
    while (r.next()) {
      long t = r.t();
      if (t > maxt) {
        break;
      }
      if (t >= mint) {
        ts[k] = t;
        vs[k] = r.v();
        k++;
      }
    }
    return k;
  }

  /** Bytes of encoded samples held (sealed and open). */
  synchronized long chunkBytes() {
    long b = 0;
    for (int i = 0; i < sealed.length / PACKED; i++) {
      b += (bitLen(sealed, i) + 7) >>> 3;
    }
    return b + (open == null ? 0 : (open.bitLength() + 7) / 8);
  }

  synchronized long samples() {
    long n = 0;
    for (int i = 0; i < sealed.length / PACKED; i++) {
      n += count(sealed, i);
    }
    return n + (open == null ? 0 : open.count());
  }
}
