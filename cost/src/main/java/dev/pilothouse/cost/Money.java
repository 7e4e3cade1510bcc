package dev.pilothouse.cost;

import java.math.BigDecimal;

/**
 * Amounts as whole units of 10⁻¹² in a {@code long}: exact for every decimal a bill writes with up
 * to twelve places (the FOCUS sample data writes costs with eleven), up to ±9,223,372 per value. A
 * value beyond either is {@link #BIG}: the ledger keeps its exact decimal beside the column. Sums
 * are taken in {@link Sum}, which never overflows.
 */
public final class Money {
  private Money() {}

  /** Places after the decimal point a long holds. */
  public static final int SCALE = 12;

  /** The stored value of a missing (null) amount. */
  public static final long NULL = Long.MIN_VALUE;

  /** The stored value of an amount kept as an exact decimal beside the column. */
  public static final long BIG = Long.MIN_VALUE + 1;

  private static final long ONE = 1_000_000_000_000L;

  /** A value that is not a decimal number; the message says why. */
  public static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message);
    }
  }

  /**
   * Parses a decimal ("12.5", "-0.0000008", "1.2E-7"): its units, or {@link #BIG} when it has more
   * than twelve places or is beyond a long (then {@link #decimal(String)} gives it).
   */
  public static long parse(String s) throws Invalid {
    int n = s.length();
    if (n == 0) {
      throw new Invalid("is empty");
    }
    // Fast path: [-+]digits[.digits] with at most 6 digits before and 12 after the point.
    int i = 0;
    boolean negative = false;
    char c0 = s.charAt(0);
    if (c0 == '-' || c0 == '+') {
      negative = c0 == '-';
      i = 1;
    }
    long whole = 0;
    int digits = 0;
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        break;
      }
      whole = whole * 10 + (c - '0');
      if (++digits > 6) { // 10⁶ · 10¹² stays within a long
        return of(decimal(s));
      }
    }
    long frac = 0;
    int places = 0;
    if (i < n && s.charAt(i) == '.') {
      for (i++; i < n; i++) {
        char c = s.charAt(i);
        if (c < '0' || c > '9') {
          break;
        }
        if (places < SCALE) {
          frac = frac * 10 + (c - '0');
          places++;
        } else if (c != '0') {
          return BIG;
        }
        digits++;
      }
    }
    if (i != n || digits == 0) {
      return of(decimal(s));
    }
    for (; places < SCALE; places++) {
      frac *= 10;
    }
    long v = whole * ONE + frac;
    return negative ? -v : v;
  }

  /** A decimal number, or why it is not one. */
  public static BigDecimal decimal(String s) throws Invalid {
    try {
      BigDecimal d = new BigDecimal(s.trim());
      if (d.scale() > 1000 || d.precision() - d.scale() > 1000) {
        throw new Invalid("'" + clip(s) + "' is out of any bill's range");
      }
      return d;
    } catch (NumberFormatException e) {
      throw new Invalid("'" + clip(s) + "' is not a decimal number");
    }
  }

  /** The units of a decimal, or {@link #BIG} when a long cannot hold it exactly. */
  public static long of(BigDecimal d) {
    if (d.scale() > SCALE && d.stripTrailingZeros().scale() > SCALE) {
      return BIG;
    }
    try {
      long v = d.setScale(SCALE).unscaledValue().longValueExact();
      return v == NULL || v == BIG ? BIG : v;
    } catch (ArithmeticException e) {
      return BIG;
    }
  }

  /** The stored value as a decimal. */
  public static BigDecimal decimal(long v) {
    return BigDecimal.valueOf(v, SCALE);
  }

  /** Shown to people: a short prefix of a long input. */
  static String clip(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "…";
  }

  /** An exact running total of stored amounts (falls back to a BigDecimal past a long). */
  public static final class Sum {
    private long small;
    private BigDecimal big;

    public void add(long v) {
      if (v == NULL) {
        return;
      }
      if (v == BIG) {
        throw new IllegalArgumentException("a BIG amount is added with its decimal");
      }
      if (big == null) {
        long r = small + v;
        if (((small ^ r) & (v ^ r)) >= 0) {
          small = r;
          return;
        }
        big = BigDecimal.valueOf(small, SCALE);
        small = 0;
      }
      big = big.add(BigDecimal.valueOf(v, SCALE));
    }

    public void add(Sum other) {
      if (other.big != null) {
        big = value().add(other.big).add(BigDecimal.valueOf(other.small, SCALE));
        small = 0;
      } else {
        add(other.small);
      }
    }

    public void add(BigDecimal v) {
      big = value().add(v);
      small = 0;
    }

    /** The exact total. */
    public BigDecimal value() {
      BigDecimal s = BigDecimal.valueOf(small, SCALE);
      return big == null ? s : big.add(s);
    }
  }
}
