package dev.pilothouse.tsdb.chunk;

import java.util.Arrays;

/** Appends bits, most significant first, to a growing byte array. */
final class BitWriter {
  private byte[] buf;
  private int bitLen;

  BitWriter(int initialBytes) {
    buf = new byte[Math.max(8, initialBytes)];
  }

  /** Continues writing after the first bitLen bits of data (a copy is taken). */
  BitWriter(byte[] data, int bitLen) {
    this.buf = Arrays.copyOf(data, Math.max(8, data.length + 8));
    this.bitLen = bitLen;
  }

  int bitLength() {
    return bitLen;
  }

  void writeBit(boolean bit) {
    ensure(1);
    if (bit) {
      buf[bitLen >>> 3] |= (byte) (0x80 >>> (bitLen & 7));
    }
    bitLen++;
  }

  /** Writes the low n bits of v (n ≤ 64), most significant first. */
  void writeBits(long v, int n) {
    ensure(n);
    while (n > 0) {
      int free = 8 - (bitLen & 7);
      int take = Math.min(free, n);
      int shift = n - take;
      int bits = (int) ((v >>> shift) & ((1L << take) - 1));
      buf[bitLen >>> 3] |= (byte) (bits << (free - take));
      bitLen += take;
      n -= take;
    }
  }

  private void ensure(int bits) {
    int need = (bitLen + bits + 7) >>> 3;
    if (need > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
    }
  }

  /** The bytes written so far (the last one padded with zeros). */
  byte[] bytes() {
    return Arrays.copyOf(buf, (bitLen + 7) >>> 3);
  }

  /** The live buffer (for readers of an open chunk); valid up to bitLength(). */
  byte[] buffer() {
    return buf;
  }
}
