package dev.pilothouse.tsdb.chunk;

/** Variable-length integer codes shared by the chunk encodings. */
final class Codes {
  private Codes() {}

  /** Writes v zig-zag encoded in 7-bit groups (8 bits each, high bit = more follow). */
  static void writeVarint(BitWriter w, long v) {
    long u = (v << 1) ^ (v >> 63);
    while ((u & ~0x7FL) != 0) {
      w.writeBits((u & 0x7F) | 0x80, 8);
      u >>>= 7;
    }
    w.writeBits(u, 8);
  }

  static long readVarint(BitReader r) {
    long u = 0;
    int shift = 0;
    while (true) {
      long b = r.readBits(8);
      u |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        break;
      }
      shift += 7;
    }
    return (u >>> 1) ^ -(u & 1);
  }

  /** Widths of Gorilla's buckets after their prefixes 10, 110, 1110, 11110 (11111: 64 bits). */
  private static final int[] WIDTHS = {7, 9, 12, 20};

  /**
   * Writes a (usually small) signed number in Gorilla's buckets: {@code 0}, {@code 10}+7 bits,
   * {@code 110}+9, {@code 1110}+12, {@code 11110}+20, {@code 11111}+64.
   */
  static void writeDod(BitWriter w, long dod) {
    if (dod == 0) {
      w.writeBit(false);
      return;
    }
    for (int i = 0; i < WIDTHS.length; i++) {
      if (fits(dod, WIDTHS[i])) {
        w.writeBits((1 << (i + 2)) - 2, i + 2); // i+1 ones, then a zero
        w.writeBits(dod, WIDTHS[i]);
        return;
      }
    }
    w.writeBits(0b11111, 5);
    w.writeBits(dod, 64);
  }

  /** The bits {@link #writeDod} takes for dod. */
  static int dodBits(long dod) {
    if (dod == 0) {
      return 1;
    }
    for (int i = 0; i < WIDTHS.length; i++) {
      if (fits(dod, WIDTHS[i])) {
        return i + 2 + WIDTHS[i];
      }
    }
    return 69;
  }

  static long readDod(BitReader r) {
    int ones = 0;
    while (ones < 5 && r.readBit()) {
      ones++;
    }
    int n =
        switch (ones) {
          case 0 -> 0;
          case 1 -> 7;
          case 2 -> 9;
          case 3 -> 12;
          case 4 -> 20;
          default -> 64;
        };
    if (n == 0) {
      return 0;
    }
    long raw = r.readBits(n);
    return n == 64 ? raw : (raw << (64 - n)) >> (64 - n); // sign-extend
  }

  /** Whether v fits in n bits as two's complement. */
  static boolean fits(long v, int n) {
    long min = -(1L << (n - 1));
    long max = (1L << (n - 1)) - 1;
    return v >= min && v <= max;
  }
}
