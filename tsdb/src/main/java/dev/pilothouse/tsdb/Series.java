package dev.pilothouse.tsdb;

import java.util.Objects;

/**
 * The samples of one series in a time range, oldest first.
 *
 * @param t timestamps in milliseconds
 * @param v values (a NaN with the stale-marker bits marks a series gone)
 */
public record Series(Labels labels, long[] t, double[] v) {
  public Series {
    Objects.requireNonNull(labels, "labels");
    if (t.length != v.length) {
      throw new IllegalArgumentException("timestamps and values differ in length");
    }
  }

  public int size() {
    return t.length;
  }
}
