package dev.pilothouse.tsdb.chunk;

import java.util.Arrays;

/**
 * The chunk encoding of persisted blocks: written once from a whole run of samples, so it can look
 * at all of them and pick the smallest of several encodings, where a head chunk ({@link XorChunk})
 * has to encode each sample as it arrives.
 *
 * <p>Values that are all decimals with at most 15 fractional digits (integer counters, byte counts,
 * 0.25, 12.5 — nearly everything scraped) become integers m scaled by 10^-k, exactly as
 * VictoriaMetrics does; the run of m is differenced once (counters, wandering gauges) or twice
 * (steady rates), divided by the greatest common divisor of the differences (page-sized memory
 * steps, bucket widths), and packed either at one fixed bit width above the run's minimum (frame of
 * reference) or in Gorilla's variable-length buckets, whichever is shorter. Timestamps get the same
 * choice (constant interval, fixed width, or delta-of-delta buckets). Anything else (NaN, stale
 * markers, -0, arbitrary binary fractions) falls back to a whole {@link XorChunk}.
 *
 * <p>The chunk's first timestamp and its sample count are kept by the block index, not here.
 *
 * <p>Layout: a byte {@code 0xFF} followed by an XOR chunk; or a byte {@code tsMode << 4 | form}
 * then a bit stream: the timestamps (mode 1: the interval as a varint; 2: the smallest interval as
 * a varint, 6 bits of width, then every interval's excess; 3: the first interval as a varint then
 * every delta-of-delta in buckets), then the values (k in 4 bits, m0 as a varint; for differences
 * of order 2 the first difference as a varint; the divisor as a varint; for fixed width the minimum
 * as a varint and 6 bits of width, then the packed numbers).
 */
public final class PackedChunk {
  /** The most samples a block chunk holds (a query decodes whole chunks). */
  public static final int MAX_SAMPLES = 512;

  private static final int XOR = 0xFF;
  private static final int MAX_DIGITS = 15;
  private static final double[] POW10 = new double[MAX_DIGITS + 1];

  static {
    for (int i = 0; i <= MAX_DIGITS; i++) {
      POW10[i] = Double.parseDouble("1e" + i);
    }
  }

  private PackedChunk() {}

  /** Encodes samples [from, to) of t (ascending) and v; at least one sample. */
  public static byte[] encode(long[] t, double[] v, int from, int to) {
    int n = to - from;
    if (n <= 0) {
      throw new IllegalArgumentException("a chunk holds at least one sample");
    }
    int k = decimalDigits(v, from, to);
    if (k < 0) {
      XorChunk x = new XorChunk();
      for (int i = from; i < to; i++) {
        x.append(t[i], v[i]);
      }
      byte[] body = x.bytes();
      byte[] out = new byte[body.length + 1];
      out[0] = (byte) XOR;
      System.arraycopy(body, 0, out, 1, body.length);
      return out;
    }
    long[] m = new long[n];
    for (int i = 0; i < n; i++) {
      m[i] = Math.round(v[from + i] * POW10[k]);
    }
    long[] dt = new long[Math.max(0, n - 1)];
    for (int i = 1; i < n; i++) {
      dt[i - 1] = t[from + i] - t[from + i - 1];
    }
    Plan ts = planTimestamps(dt);
    Plan vs = planValues(m);
    BitWriter w = new BitWriter(16 + (int) ((ts.bits + vs.bits) >>> 3));
    w.writeBits(ts.mode << 4 | vs.mode, 8);
    writeTimestamps(w, ts, dt);
    w.writeBits(k, 4);
    Codes.writeVarint(w, m[0]);
    writeRun(w, vs, m);
    return w.bytes();
  }

  /** Decodes the count samples of a chunk whose first timestamp is minT into t and v at off. */
  public static void decode(byte[] data, long minT, int count, long[] t, double[] v, int off) {
    if (count <= 0) {
      return;
    }
    if ((data[0] & 0xFF) == XOR) {
      new XorChunk.Reader(Arrays.copyOfRange(data, 1, data.length), (data.length - 1) * 8, count)
          .readAll(t, v, off);
      return;
    }
    BitReader r = new BitReader(data, data.length * 8);
    int header = (int) r.readBits(8);
    int tsMode = header >>> 4;
    int form = header & 0xF;
    t[off] = minT;
    readTimestamps(r, tsMode, t, off, count);
    int k = (int) r.readBits(4);
    long m = Codes.readVarint(r);
    double scale = POW10[k];
    v[off] = m / scale;
    int order = (form & 1) == 0 ? 1 : 2;
    boolean buckets = (form & 2) != 0;
    if (count == 1) {
      return;
    }
    long d = order == 2 ? Codes.readVarint(r) : 0;
    long g = Codes.readVarint(r);
    long min = 0;
    int width = 0;
    if (!buckets) {
      min = Codes.readVarint(r);
      width = (int) r.readBits(6);
    }
    int first = 1;
    if (order == 2) {
      m += d;
      v[off + 1] = m / scale;
      first = 2;
    }
    for (int i = first; i < count; i++) {
      long y = buckets ? Codes.readDod(r) : min + (width == 0 ? 0 : r.readBits(width));
      long x = y * g;
      if (order == 2) {
        d += x;
        m += d;
      } else {
        m += x;
      }
      v[off + i] = m / scale;
    }
  }

  /**
   * The fewest decimal digits k (0..15) with which every value is m / 10^k for an integer m below
   * 2^53, bit for bit; -1 when there are none.
   */
  static int decimalDigits(double[] v, int from, int to) {
    int k = 0;
    for (int i = from; i < to; i++) {
      while (!exact(v[i], k)) {
        if (++k > MAX_DIGITS) {
          return -1;
        }
      }
    }
    // A value exact with fewer digits need not stay exact with more (scaled past 2^53): check
    // them all again with the digits found.
    for (; k <= MAX_DIGITS; k++) {
      boolean all = true;
      for (int i = from; i < to && all; i++) {
        all = exact(v[i], k);
      }
      if (all) {
        return k;
      }
    }
    return -1;
  }

  private static boolean exact(double v, int k) {
    double scaled = v * POW10[k];
    if (!(Math.abs(scaled) < 0x1p53)) {
      return false; // NaN, infinite, or too large to be exact
    }
    long m = Math.round(scaled);
    return Double.doubleToRawLongBits(m / POW10[k]) == Double.doubleToRawLongBits(v);
  }

  /** How a run of numbers is written: mode, difference order, divisor, minimum, width, size. */
  private record Plan(int mode, int order, long divisor, long min, int width, long bits) {}

  private static Plan planTimestamps(long[] dt) {
    if (dt.length == 0) {
      return new Plan(0, 1, 1, 0, 0, 0);
    }
    long lo = Long.MAX_VALUE;
    long hi = Long.MIN_VALUE;
    long bucketBits = 0;
    for (int i = 0; i < dt.length; i++) {
      lo = Math.min(lo, dt[i]);
      hi = Math.max(hi, dt[i]);
      if (i > 0) {
        bucketBits += Codes.dodBits(dt[i] - dt[i - 1]);
      }
    }
    if (lo == hi) {
      return new Plan(1, 1, 1, lo, 0, 64);
    }
    int width = 64 - Long.numberOfLeadingZeros(hi - lo);
    long fixed = (long) width * dt.length;
    return fixed <= bucketBits
        ? new Plan(2, 1, 1, lo, width, fixed + 70)
        : new Plan(3, 2, 1, 0, 0, bucketBits + 64);
  }

  private static void writeTimestamps(BitWriter w, Plan p, long[] dt) {
    switch (p.mode) {
      case 1 -> Codes.writeVarint(w, dt[0]);
      case 2 -> {
        Codes.writeVarint(w, p.min);
        w.writeBits(p.width, 6);
        for (long d : dt) {
          w.writeBits(d - p.min, p.width);
        }
      }
      case 3 -> {
        Codes.writeVarint(w, dt[0]);
        for (int i = 1; i < dt.length; i++) {
          Codes.writeDod(w, dt[i] - dt[i - 1]);
        }
      }
      default -> {}
    }
  }

  private static void readTimestamps(BitReader r, int mode, long[] t, int off, int count) {
    switch (mode) {
      case 0 -> {}
      case 1 -> {
        long d = Codes.readVarint(r);
        for (int i = 1; i < count; i++) {
          t[off + i] = t[off + i - 1] + d;
        }
      }
      case 2 -> {
        long min = Codes.readVarint(r);
        int width = (int) r.readBits(6);
        for (int i = 1; i < count; i++) {
          t[off + i] = t[off + i - 1] + min + (width == 0 ? 0 : r.readBits(width));
        }
      }
      case 3 -> {
        long d = Codes.readVarint(r);
        t[off + 1] = t[off] + d;
        for (int i = 2; i < count; i++) {
          d += Codes.readDod(r);
          t[off + i] = t[off + i - 1] + d;
        }
      }
      default -> throw new IllegalStateException("unknown timestamp encoding " + mode);
    }
  }

  /**
   * Picks the shortest of first or second differences, each packed at a fixed width or in buckets.
   * The mode's bit 0 is the order minus one, bit 1 set for buckets.
   */
  private static Plan planValues(long[] m) {
    Plan best = null;
    for (int order = 1; order <= 2; order++) {
      long[] x = differences(m, order);
      if (x == null) {
        continue;
      }
      long g = 0;
      for (long e : x) {
        g = gcd(g, Math.abs(e));
      }
      if (g == 0) {
        g = 1;
      }
      long lo = Long.MAX_VALUE;
      long hi = Long.MIN_VALUE;
      long bucketBits = 0;
      for (long e : x) {
        long y = e / g;
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
        bucketBits += Codes.dodBits(y);
      }
      int width = x.length == 0 ? 0 : 64 - Long.numberOfLeadingZeros(hi - lo);
      long fixed = (long) width * x.length + 70;
      Plan p =
          fixed <= bucketBits
              ? new Plan(order - 1, order, g, x.length == 0 ? 0 : lo, width, fixed)
              : new Plan(order - 1 | 2, order, g, 0, 0, bucketBits);
      if (best == null || p.bits < best.bits) {
        best = p;
      }
    }
    return best;
  }

  /** Differences of the given order after the run's first (order) numbers; null if too short. */
  private static long[] differences(long[] m, int order) {
    if (m.length <= order) {
      return order == 1 ? new long[0] : null;
    }
    long[] x = new long[m.length - order];
    for (int i = order; i < m.length; i++) {
      long d = m[i] - m[i - 1];
      x[i - order] = order == 1 ? d : d - (m[i - 1] - m[i - 2]);
    }
    return x;
  }

  private static void writeRun(BitWriter w, Plan p, long[] m) {
    if (m.length == 1) {
      return;
    }
    if (p.order == 2) {
      Codes.writeVarint(w, m[1] - m[0]);
    }
    Codes.writeVarint(w, p.divisor);
    boolean buckets = (p.mode & 2) != 0;
    if (!buckets) {
      Codes.writeVarint(w, p.min);
      w.writeBits(p.width, 6);
    }
    for (long e : differences(m, p.order)) {
      long y = e / p.divisor;
      if (buckets) {
        Codes.writeDod(w, y);
      } else {
        w.writeBits(y - p.min, p.width);
      }
    }
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long r = a % b;
      a = b;
      b = r;
    }
    return a;
  }
}
