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
    if (n == 0) {
      return;
    }
    ensure(n + 64); // an 8-byte window past the end: whole-word writes
    if (n < 64) {
      v &= (1L << n) - 1;
    }
    int used = bitLen & 7;
    if (used + n > 64) {
      // Only when n > 56 and the last byte is partly used: the high bits first.
      int high = 64 - used;
      or(v >>> (n - high), high);
      or(v & ((1L << (n - high)) - 1), n - high);
      return;
    }
    or(v, n);
  }

  /** ORs the n bits of v (no higher bits set) into the stream; they fit one 8-byte window. */
  private void or(long v, int n) {
    int idx = bitLen >>> 3;
    int end = (bitLen & 7) + n;
    long word = (long) WORD.get(buf, idx);
    WORD.set(buf, idx, word | (v << (64 - end)));
    bitLen += n;
  }

  static final java.lang.invoke.VarHandle WORD =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
          long[].class, java.nio.ByteOrder.BIG_ENDIAN);

  private void ensure(int bits) {
    int need = (bitLen + bits + 7) >>> 3;
    if (need > buf.length) {
      // Grows by half: an open head chunk's buffer is memory per active series.
      buf = Arrays.copyOf(buf, Math.max(need, buf.length + (buf.length >> 1)));
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
