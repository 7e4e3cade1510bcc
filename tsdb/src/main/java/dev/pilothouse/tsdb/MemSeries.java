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
   * A full chunk: where its bytes are in the head's chunk files, and its bounds. Kept small (40
   * bytes; a series holds up to a dozen): the end time as an offset, the length from the bits.
   */
  static final class Sealed {
    final HeadChunks.File file;
    final int pos;
    final int bitLen;
    final int count;
    final long minT;
    private final int span; // maxT - minT: a chunk never straddles a 2 h boundary

    Sealed(HeadChunks.Ref ref, int bitLen, int count, long minT, long maxT) {
      this.file = ref.file();
      this.pos = ref.pos();
      this.bitLen = bitLen;
      this.count = count;
      this.minT = minT;
      this.span = Math.toIntExact(maxT - minT);
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
  }

  final int id;
  final Labels labels;
  private final List<Sealed> sealed = new ArrayList<>(2);
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
    sealed.add(
        new Sealed(
            store.write(open.bytes()),
            open.bitLength(),
            open.count(),
            open.minTime(),
            open.maxTime()));
    open = null;
  }

  /**
   * Set once the head dropped this series (it held no samples); appends must look it up again.
   * Volatile: every commit reads it for every sample, without taking the series' monitor.
   */
  private volatile boolean retired;

  /** Retires the series if it holds no samples (all persisted in blocks); true if it did. */
  synchronized boolean retireIfEmpty() {
    if (sealed.isEmpty() && open == null) {
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
    if (!sealed.isEmpty()) {
      return sealed.get(0).minT();
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
    for (int i = 0; i < sealed.size() && sealed.get(i).maxT() < cut; i++) {
      out.add(sealed.get(i));
    }
    return out;
  }

  /** Removes these chunks, which {@link #sealedBefore} returned (the oldest ones, in order). */
  synchronized void dropFirst(List<Sealed> chunks) {
    for (int i = 0; i < chunks.size(); i++) {
      if (sealed.get(i) != chunks.get(i)) {
        throw new IllegalStateException("head chunks of " + labels + " changed while persisted");
      }
    }
    sealed.subList(0, chunks.size()).clear();
  }

  /** Every sample held, for a WAL checkpoint. */
  Series all() {
    return read(Long.MIN_VALUE, Long.MAX_VALUE, QueryBudget.unlimited());
  }

  /** The samples in [mint, maxt]; budget counts them and may refuse. */
  Series read(long mint, long maxt, QueryBudget budget) {
    List<Sealed> chunks;
    byte[] openBytes;
    int openBits;
    int openCount;
    long openMin;
    long openMax;
    synchronized (this) {
      chunks = List.copyOf(sealed);
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
    for (Sealed s : chunks) {
      if (s.maxT() >= mint && s.minT <= maxt) {
        n += s.count;
      }
    }
    if (openBytes != null && openMax >= mint && openMin <= maxt) {
      n += openCount;
    }
    budget.charge(n); // before allocating: a query over its budget never takes the memory
    long[] ts = new long[n];
    double[] vs = new double[n];
    int k = 0;
    for (Sealed s : chunks) {
      if (s.maxT() >= mint && s.minT <= maxt) {
        k = decode(s.data(), s.bitLen, s.count, mint, maxt, ts, vs, k);
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
    for (Sealed s : sealed) {
      b += s.length();
    }
    return b + (open == null ? 0 : (open.bitLength() + 7) / 8);
  }

  synchronized long samples() {
    long n = 0;
    for (Sealed s : sealed) {
      n += s.count;
    }
    return n + (open == null ? 0 : open.count());
  }
}
