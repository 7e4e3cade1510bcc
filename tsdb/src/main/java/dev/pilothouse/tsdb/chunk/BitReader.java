package dev.pilothouse.tsdb.chunk;

/** Reads bits, most significant first, from a byte array. */
final class BitReader {
  private final byte[] buf;
  private final int limit;
  private int pos;

  BitReader(byte[] buf, int bitLimit) {
    this.buf = buf;
    this.limit = bitLimit;
  }

  boolean readBit() {
    if (pos >= limit) {
      throw new IllegalStateException("chunk is truncated");
    }
    boolean b = (buf[pos >>> 3] & (0x80 >>> (pos & 7))) != 0;
    pos++;
    return b;
  }

  long readBits(int n) {
    if (pos + n > limit) {
      throw new IllegalStateException("chunk is truncated");
    }
    int idx = pos >>> 3;
    int used = pos & 7;
    if (n > 0 && used + n <= 64 && idx + 8 <= buf.length) {
      long word = (long) BitWriter.WORD.get(buf, idx);
      pos += n;
      return (word << used) >>> (64 - n);
    }
    long v = 0;
    while (n > 0) {
      int avail = 8 - (pos & 7);
      int take = Math.min(avail, n);
      int b = buf[pos >>> 3] & 0xff;
      int bits = (b >>> (avail - take)) & ((1 << take) - 1);
      v = (v << take) | bits;
      pos += take;
      n -= take;
    }
    return v;
  }
}
