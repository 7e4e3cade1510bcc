package dev.pilothouse.tsdb.chunk;

/**
 * A Gorilla-style chunk of one series' samples: timestamps as delta-of-delta in variable-width
 * buckets, values XORed with the previous value with a shared leading/trailing-zero window
 * (Pelkonen et al., "Gorilla", VLDB 2015). Appends go to the end; readers iterate from the start.
 * Not thread-safe for concurrent appends; a reader sees the samples present when it was created.
 *
 * <p>Layout: the first timestamp as a zig-zag varint (in bits), the first value as 64 raw bits;
 * then per sample a delta-of-delta code ({@code 0}, {@code 10}+7 bits, {@code 110}+9, {@code
 * 1110}+12, {@code 11110}+20, {@code 11111}+64) and a value code: {@code 0} same value; {@code 10}
 * + a delta-of-delta code of the integers when this and the previous value are integers (below
 * 2^53); {@code 11} then XOR: {@code 0} fits the previous window, {@code 1}+5 bits leading zeros+6
 * bits length opens a new one.
 */
public final class XorChunk {
  private final BitWriter w;
  private int count;
  private long firstT;
  private long lastT;
  private long lastDelta;
  private long lastBits;
  private long lastIntDelta;
  private int leading = -1;
  private int trailing;

  public XorChunk() {
    this.w = new BitWriter(64);
  }

  private XorChunk(byte[] data, int bitLen, int count) {
    this.w = new BitWriter(data, bitLen);
    this.count = count;
  }

  /**
   * A chunk read back from bytes() and count(), ready for further appends (the encoder state is
   * recovered by reading it once).
   */
  public static XorChunk fromBytes(byte[] data, int bitLen, int count) {
    XorChunk c = new XorChunk(data, bitLen, count);
    if (count > 0) {
      Reader r = new Reader(data, bitLen, count);
      long prev = 0;
      while (r.next()) {
        if (r.index == 1) {
          c.firstT = r.t;
        } else {
          c.lastDelta = r.t - prev;
        }
        prev = r.t;
      }
      c.lastT = r.t;
      c.lastBits = Double.doubleToRawLongBits(r.v);
      c.leading = r.leading;
      c.trailing = r.trailing;
      c.lastIntDelta = r.intDelta;
    }
    return c;
  }

  public int count() {
    return count;
  }

  public long minTime() {
    return firstT;
  }

  public long maxTime() {
    return lastT;
  }

  /** Size of the encoded samples in bits. */
  public int bitLength() {
    return w.bitLength();
  }

  /** A copy of the encoded samples. */
  public byte[] bytes() {
    return w.bytes();
  }

  /**
   * The encoded samples without a copy: the live buffer, valid up to {@link #byteLength()} until
   * the next append.
   */
  public byte[] buffer() {
    return w.buffer();
  }

  /** Size of the encoded samples in whole bytes (the last one padded with zeros). */
  public int byteLength() {
    return (w.bitLength() + 7) >>> 3;
  }

  /** Appends a sample; t must not be before the previous sample's. */
  public void append(long t, double v) {
    long bits = Double.doubleToRawLongBits(v);
    if (count == 0) {
      writeVarint(t);
      w.writeBits(bits, 64);
      firstT = t;
    } else {
      if (t < lastT) {
        throw new IllegalArgumentException("out of order: " + t + " after " + lastT);
      }
      long delta = t - lastT;
      if (count == 1) {
        writeVarint(delta);
      } else {
        writeDod(delta - lastDelta);
      }
      lastDelta = delta;
      writeValue(bits);
    }
    lastT = t;
    lastBits = bits;
    count++;
  }

  private void writeVarint(long v) {
    Codes.writeVarint(w, v);
  }

  private void writeDod(long dod) {
    Codes.writeDod(w, dod);
  }

  /** Whether the bits are an integer-valued double that converts to a long and back exactly. */
  static boolean isInt(long bits) {
    double v = Double.longBitsToDouble(bits);
    return bits != NEGATIVE_ZERO && Math.abs(v) < 0x1p53 && v == Math.rint(v);
  }

  private static final long NEGATIVE_ZERO = 0x8000000000000000L;

  private void writeValue(long bits) {
    long xor = bits ^ lastBits;
    if (xor == 0) {
      w.writeBit(false);
      if (isInt(bits)) {
        lastIntDelta = 0;
      }
      return;
    }
    w.writeBit(true);
    if (isInt(bits) && isInt(lastBits)) {
      // Integer values (counters, byte counts): the delta-of-delta of the integers is far
      // smaller than an XOR of their doubles.
      long delta = (long) Double.longBitsToDouble(bits) - (long) Double.longBitsToDouble(lastBits);
      w.writeBit(false);
      writeDod(delta - lastIntDelta);
      lastIntDelta = delta;
      return;
    }
    w.writeBit(true);
    lastIntDelta = 0;
    int lead = Math.min(Long.numberOfLeadingZeros(xor), 31);
    int trail = Long.numberOfTrailingZeros(xor);
    if (leading >= 0 && lead >= leading && trail >= trailing) {
      w.writeBit(false);
      w.writeBits(xor >>> trailing, 64 - leading - trailing);
      return;
    }
    leading = lead;
    trailing = trail;
    int sig = 64 - lead - trail;
    w.writeBit(true);
    w.writeBits(lead, 5);
    w.writeBits(sig == 64 ? 0 : sig, 6); // 64 is written as 0
    w.writeBits(xor >>> trail, sig);
  }

  /** An iterator over the samples present now. */
  public Reader reader() {
    return new Reader(w.buffer(), w.bitLength(), count);
  }

  /** Iterates the samples of a chunk in order. */
  public static final class Reader {
    private final BitReader r;
    private final int count;
    int index;
    long t;
    double v;
    private long delta;
    private long bits;
    int leading = -1;
    int trailing;
    long intDelta;

    public Reader(byte[] data, int bitLen, int count) {
      this.r = new BitReader(data, bitLen);
      this.count = count;
    }

    /** Reads the remaining samples into t and v from off on. */
    public void readAll(long[] t, double[] v, int off) {
      for (int i = off; next(); i++) {
        t[i] = this.t;
        v[i] = this.v;
      }
    }

    /** Advances to the next sample; false at the end. */
    public boolean next() {
      if (index >= count) {
        return false;
      }
      if (index == 0) {
        t = readVarint();
        bits = r.readBits(64);
      } else {
        if (index == 1) {
          delta = readVarint();
        } else {
          delta += readDod();
        }
        t += delta;
        readValue();
      }
      v = Double.longBitsToDouble(bits);
      index++;
      return true;
    }

    public long t() {
      return t;
    }

    public double v() {
      return v;
    }

    private long readVarint() {
      return Codes.readVarint(r);
    }

    private long readDod() {
      return Codes.readDod(r);
    }

    private void readValue() {
      if (!r.readBit()) {
        if (isInt(bits)) {
          intDelta = 0;
        }
        return;
      }
      if (!r.readBit()) {
        intDelta += readDod();
        long prev = (long) Double.longBitsToDouble(bits);
        bits = Double.doubleToRawLongBits((double) (prev + intDelta));
        return;
      }
      intDelta = 0;
      if (r.readBit()) {
        leading = (int) r.readBits(5);
        int sig = (int) r.readBits(6);
        if (sig == 0) {
          sig = 64;
        }
        trailing = 64 - leading - sig;
      }
      int sig = 64 - leading - trailing;
      bits ^= r.readBits(sig) << trailing;
    }
  }
}
