package dev.pilothouse.backup;

import java.nio.ByteBuffer;
import javax.crypto.spec.SecretKeySpec;

/**
 * Content-defined chunking by FastCDC (Xia et al., 2016/2020): a gear hash rolled over the bytes
 * after the minimum size, a stricter mask before the average size and a looser one after it
 * (normalized chunking, level 1: one bit either side, which keeps resynchronisation after an edit
 * within about one maximal chunk), a hard cut at the maximum. A cut depends only on the 64 bytes
 * before it, so an insertion or a deletion moves at most the chunks around it. The gear table is
 * derived from the repository's chunker key, so the boundaries reveal nothing about the data.
 */
public final class Chunker {
  private final long[] gear = new long[256];
  private final int min;
  private final int avg;
  private final int max;
  private final long maskSmall;
  private final long maskLarge;

  /**
   * @param seed the repository's chunker key
   * @param avg the average chunk size, a power of two
   */
  public Chunker(byte[] seed, int min, int avg, int max) {
    if (Integer.bitCount(avg) != 1 || min < 64 || min >= avg || avg >= max) {
      throw new IllegalArgumentException(
          "chunk sizes must satisfy 64 <= min < avg < max, avg a power of two");
    }
    this.min = min;
    this.avg = avg;
    this.max = max;
    int bits = Integer.numberOfTrailingZeros(avg);
    this.maskSmall = topBits(bits + 1);
    this.maskLarge = topBits(bits - 1);
    var mac = Crypto.newMac(new SecretKeySpec(seed, "HmacSHA256"));
    for (int i = 0; i < 256; i++) {
      mac.update((byte) i);
      gear[i] = ByteBuffer.wrap(mac.doFinal()).getLong();
    }
  }

  private static long topBits(int n) {
    return n <= 0 ? 0 : -1L << (64 - n);
  }

  public int min() {
    return min;
  }

  public int avg() {
    return avg;
  }

  public int max() {
    return max;
  }

  /**
   * The length of the chunk that starts at off, given len bytes there (all that is left when fewer
   * than max).
   */
  public int cut(byte[] b, int off, int len) {
    if (len <= min) {
      return len;
    }
    int normal = Math.min(len, avg);
    int end = Math.min(len, max);
    long h = 0;
    int i = min;
    long[] g = gear;
    for (; i < normal; i++) {
      h = (h << 1) + g[b[off + i] & 0xff];
      if ((h & maskSmall) == 0) {
        return i + 1;
      }
    }
    for (; i < end; i++) {
      h = (h << 1) + g[b[off + i] & 0xff];
      if ((h & maskLarge) == 0) {
        return i + 1;
      }
    }
    return end;
  }
}
