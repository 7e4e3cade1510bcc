package dev.pilothouse.cost;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;

/**
 * One row group of a slice, its columns decoded when first asked for. Column numbers are positions
 * in {@link Focus#ALL}.
 */
public final class Rows {
  private final Slice slice;
  private final FileChannel ch;
  private final BillFile.Group group;
  private final String[][] dictionaries;
  private final BillFile.Footer footer;
  private final Object[] columns = new Object[Focus.ALL.size()];

  Rows(
      Slice slice, FileChannel ch, BillFile.Footer footer, BillFile.Group group, String[][] dicts) {
    this.slice = slice;
    this.ch = ch;
    this.footer = footer;
    this.group = group;
    this.dictionaries = dicts;
  }

  public Slice slice() {
    return slice;
  }

  public int size() {
    return group.rows();
  }

  private byte[] raw(int column) {
    try {
      return BillFile.block(ch, group.blocks().get(column));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Dictionary ids of a text column (0: null). */
  public int[] ids(int column) {
    if (columns[column] == null) {
      columns[column] = BillFile.ints(raw(column));
    }
    return (int[]) columns[column];
  }

  /** The values of a text column's ids. */
  public String[] dictionary(int column) {
    if (dictionaries[column] == null) {
      try {
        dictionaries[column] = BillFile.dictionary(ch, footer.dictionaries().get(column));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return dictionaries[column];
  }

  /** A text value of a row (null when missing). */
  public String text(int column, int row) {
    return dictionary(column)[ids(column)[row]];
  }

  private java.util.Map<Long, java.math.BigDecimal> wide;

  /** The exact value of an amount stored as {@link Money#BIG}. */
  public java.math.BigDecimal wide(int column, int row) {
    if (wide == null) {
      wide = new java.util.HashMap<>();
      if (group.wide() != null) {
        try {
          String text =
              new String(BillFile.block(ch, group.wide()), java.nio.charset.StandardCharsets.UTF_8);
          for (String line : text.split("\n")) {
            String[] f = line.split(" ");
            wide.put(
                ((long) Integer.parseInt(f[0]) << 32) | Integer.parseInt(f[1]),
                new java.math.BigDecimal(f[2]));
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    int a = column - Focus.TEXT.size() - Focus.TIMES.size();
    java.math.BigDecimal v = wide.get(((long) a << 32) | row);
    if (v == null) {
      throw new IllegalStateException("a ledger file lost an exact amount");
    }
    return v;
  }

  /** Adds an amount of a row to a sum, exactly. */
  public void addTo(Money.Sum sum, int column, int row) {
    long v = longs(column)[row];
    if (v == Money.BIG) {
      sum.add(wide(column, row));
    } else {
      sum.add(v);
    }
  }

  /** The value of an amount of a row (null when missing). */
  public java.math.BigDecimal amount(int column, int row) {
    long v = longs(column)[row];
    return v == Money.NULL ? null : v == Money.BIG ? wide(column, row) : Money.decimal(v);
  }

  /** Epoch seconds of a time column, or {@link Money} units of an amount column. */
  public long[] longs(int column) {
    if (columns[column] == null) {
      columns[column] = BillFile.longs(raw(column));
    }
    return (long[]) columns[column];
  }
}
