package dev.pilothouse.backup;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * A 256-bit identifier: of a blob (keyed hash of its plaintext) or of a repository file (SHA-256 of
 * its bytes). Four longs, so that millions of them hash and compare cheaply.
 */
public record Id(long a, long b, long c, long d) implements Comparable<Id> {
  public static final int BYTES = 32;

  public static Id of(byte[] hash) {
    return of(hash, 0);
  }

  public static Id of(byte[] bytes, int offset) {
    ByteBuffer buf = ByteBuffer.wrap(bytes, offset, BYTES);
    return new Id(buf.getLong(), buf.getLong(), buf.getLong(), buf.getLong());
  }

  public static Id read(ByteBuffer buf) {
    return new Id(buf.getLong(), buf.getLong(), buf.getLong(), buf.getLong());
  }

  /**
   * Parses 64 hex digits.
   *
   * @throws IllegalArgumentException when hex is not 64 hex digits
   */
  public static Id parse(String hex) {
    if (hex.length() != 64) {
      throw new IllegalArgumentException("an id has 64 hex digits, not " + hex.length());
    }
    return of(HexFormat.of().parseHex(hex));
  }

  public void write(ByteBuffer buf) {
    buf.putLong(a).putLong(b).putLong(c).putLong(d);
  }

  public byte[] bytes() {
    ByteBuffer buf = ByteBuffer.allocate(BYTES);
    write(buf);
    return buf.array();
  }

  public String hex() {
    return HexFormat.of().formatHex(bytes());
  }

  /** The first eight hex digits, as users see it. */
  public String shortHex() {
    return hex().substring(0, 8);
  }

  @Override
  public int compareTo(Id o) {
    int r = Long.compareUnsigned(a, o.a);
    if (r == 0) {
      r = Long.compareUnsigned(b, o.b);
    }
    if (r == 0) {
      r = Long.compareUnsigned(c, o.c);
    }
    return r != 0 ? r : Long.compareUnsigned(d, o.d);
  }

  @Override
  public String toString() {
    return hex();
  }
}
