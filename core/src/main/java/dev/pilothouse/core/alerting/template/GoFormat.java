package dev.pilothouse.core.alerting.template;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Go's fmt as templates print values: %v of floats, %g/%e/%f with precision, and printf. */
final class GoFormat {
  private GoFormat() {}

  /** Decimal digits (no trailing zeros) and the decimal point's position: 0.d1d2… × 10^dp. */
  private record Digits(String d, int dp) {}

  private static Digits digits(BigDecimal b) {
    b = b.abs();
    if (b.signum() == 0) {
      return new Digits("0", 1);
    }
    b = b.stripTrailingZeros();
    String d = b.unscaledValue().toString();
    return new Digits(d, d.length() - b.scale());
  }

  /** Go's %v (and print) of a float64: the shortest digits, %e from exponent 21 on or below -4. */
  static String value(double v) {
    return g(v, -1);
  }

  /** Go's strconv.FormatFloat(v, 'e', -1, 64): the shortest digits in exponent form. */
  static String shortestE(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return g(v, -1);
    }
    Digits digs = v == 0 ? new Digits("0", 1) : digits(new BigDecimal(Double.toString(v)));
    return (v < 0 || (v == 0 && 1 / v < 0) ? "-" : "") + e(digs, digs.d().length() - 1);
  }

  /** Go's %g with a precision (prec < 0: shortest). */
  static String g(double v, int prec) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    boolean neg = v < 0 || (v == 0 && 1 / v < 0);
    boolean shortest = prec < 0;
    Digits digs;
    if (shortest) {
      digs = digits(new BigDecimal(Double.toString(v)));
      prec = digs.d().length();
    } else {
      if (prec == 0) {
        prec = 1;
      }
      digs = digits(new BigDecimal(v).round(new MathContext(prec, RoundingMode.HALF_EVEN)));
    }
    if (v == 0) {
      digs = new Digits("0", 1);
    }
    int nd = digs.d().length();
    int eprec = prec;
    if (eprec > nd && nd >= digs.dp()) {
      eprec = nd;
    }
    if (shortest) {
      eprec = 6;
    }
    int exp = digs.dp() - 1;
    String body;
    if (exp < -4 || exp >= eprec) {
      body = e(digs, Math.min(prec, nd) - 1);
    } else {
      body = f(digs, Math.max((prec > digs.dp() ? nd : prec) - digs.dp(), 0));
    }
    return (neg ? "-" : "") + body;
  }

  /** Go's %e with prec digits after the point. */
  static String e(double v, int prec) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return g(v, -1);
    }
    Digits digs =
        v == 0
            ? new Digits("0", 1)
            : digits(new BigDecimal(v).round(new MathContext(prec + 1, RoundingMode.HALF_EVEN)));
    return (v < 0 ? "-" : "") + e(digs, prec);
  }

  /** Go's %f with prec digits after the point. */
  static String f(double v, int prec) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return g(v, -1);
    }
    BigDecimal b = new BigDecimal(v).setScale(prec, RoundingMode.HALF_EVEN);
    String s = b.abs().toPlainString();
    return (v < 0 || (v == 0 && 1 / v < 0) ? "-" : "") + s;
  }

  private static String e(Digits digs, int prec) {
    StringBuilder sb = new StringBuilder();
    String d = digs.d();
    sb.append(d.charAt(0));
    if (prec > 0) {
      sb.append('.');
      for (int i = 1; i <= prec; i++) {
        sb.append(i < d.length() ? d.charAt(i) : '0');
      }
    }
    int exp = d.equals("0") ? 0 : digs.dp() - 1;
    sb.append('e').append(exp < 0 ? '-' : '+');
    int a = Math.abs(exp);
    if (a < 10) {
      sb.append('0');
    }
    return sb.append(a).toString();
  }

  private static String f(Digits digs, int prec) {
    StringBuilder sb = new StringBuilder();
    String d = digs.d();
    if (digs.dp() > 0) {
      for (int i = 0; i < digs.dp(); i++) {
        sb.append(i < d.length() ? d.charAt(i) : '0');
      }
    } else {
      sb.append('0');
    }
    if (prec > 0) {
      sb.append('.');
      for (int i = 0; i < prec; i++) {
        int j = digs.dp() + i;
        sb.append(j >= 0 && j < d.length() ? d.charAt(j) : '0');
      }
    }
    return sb.toString();
  }

  /** A value as Go's fmt.Sprint prints it. */
  static String print(Object o) {
    if (o == null) {
      return "<nil>";
    }
    if (o == Exec.MISSING) {
      return "<no value>";
    }
    if (o instanceof Double d) {
      return value(d);
    }
    if (o instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder("map[");
      boolean first = true;
      for (Map.Entry<?, ?> e : new TreeMap<>(m).entrySet()) {
        sb.append(first ? "" : " ")
            .append(print(e.getKey()))
            .append(':')
            .append(print(e.getValue()));
        first = false;
      }
      return sb.append(']').toString();
    }
    if (o instanceof List<?> l) {
      StringBuilder sb = new StringBuilder("[");
      for (int i = 0; i < l.size(); i++) {
        sb.append(i == 0 ? "" : " ").append(print(l.get(i)));
      }
      return sb.append(']').toString();
    }
    return o.toString();
  }

  /** Go's type name of a value, for %!verb(type=value) complaints. */
  private static String type(Object o) {
    if (o instanceof Double) {
      return "float64";
    }
    if (o instanceof Long) {
      return "int";
    }
    if (o instanceof String) {
      return "string";
    }
    if (o instanceof Boolean) {
      return "bool";
    }
    return "map[string]string";
  }

  /** Go's fmt.Sprintf for the verbs templates use: %v %s %d %f %e %g %q %x %t %%. */
  static String printf(String format, List<Object> args) {
    StringBuilder out = new StringBuilder();
    int arg = 0;
    int i = 0;
    while (i < format.length()) {
      char c = format.charAt(i);
      if (c != '%') {
        out.append(c);
        i++;
        continue;
      }
      i++;
      // flags, width, precision
      boolean minus = false;
      boolean plus = false;
      boolean zero = false;
      while (i < format.length() && "-+0 #".indexOf(format.charAt(i)) >= 0) {
        char fl = format.charAt(i++);
        minus |= fl == '-';
        plus |= fl == '+';
        zero |= fl == '0';
      }
      int width = -1;
      int start = i;
      while (i < format.length() && Character.isDigit(format.charAt(i))) {
        i++;
      }
      if (i > start) {
        width = Integer.parseInt(format.substring(start, i));
      }
      int prec = -1;
      if (i < format.length() && format.charAt(i) == '.') {
        i++;
        start = i;
        while (i < format.length() && Character.isDigit(format.charAt(i))) {
          i++;
        }
        prec = i > start ? Integer.parseInt(format.substring(start, i)) : 0;
      }
      if (i >= format.length()) {
        out.append("%!(NOVERB)");
        break;
      }
      char verb = format.charAt(i++);
      if (verb == '%') {
        out.append('%');
        continue;
      }
      if (arg >= args.size()) {
        out.append("%!").append(verb).append("(MISSING)");
        continue;
      }
      Object a = args.get(arg++);
      String s = verb(verb, a, prec, plus);
      if (width > s.length()) {
        String pad = (zero && !minus ? "0" : " ").repeat(width - s.length());
        if (minus) {
          s = s + pad;
        } else if (zero && (s.startsWith("-") || s.startsWith("+"))) {
          s = s.charAt(0) + pad + s.substring(1);
        } else {
          s = pad + s;
        }
      }
      out.append(s);
    }
    if (arg < args.size()) {
      out.append("%!(EXTRA ");
      for (int k = arg; k < args.size(); k++) {
        Object a = args.get(k);
        out.append(k == arg ? "" : ", ").append(type(a)).append('=').append(print(a));
      }
      out.append(')');
    }
    return out.toString();
  }

  private static String verb(char verb, Object a, int prec, boolean plus) {
    String bad = "%!" + verb + "(" + type(a) + "=" + print(a) + ")";
    String sign = plus ? "+" : "";
    switch (verb) {
      case 'v' -> {
        return a instanceof Double d && plus && d >= 0 ? "+" + value(d) : print(a);
      }
      case 's' -> {
        if (a instanceof String || a == Exec.MISSING) {
          String s = print(a);
          return prec >= 0 && prec < s.length() ? s.substring(0, prec) : s;
        }
        return a instanceof Map || a instanceof List ? print(a) : bad;
      }
      case 'q' -> {
        return a instanceof String s ? Exec.quote(s) : bad;
      }
      case 't' -> {
        return a instanceof Boolean ? a.toString() : bad;
      }
      case 'd' -> {
        return a instanceof Long l ? (l >= 0 ? sign : "") + l : bad;
      }
      case 'x', 'X' -> {
        String s;
        if (a instanceof Long l) {
          s = Long.toHexString(l);
        } else if (a instanceof String str) {
          StringBuilder sb = new StringBuilder();
          for (byte b : str.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            sb.append(String.format(Locale.ROOT, "%02x", b & 0xff));
          }
          s = sb.toString();
        } else {
          return bad;
        }
        return verb == 'X' ? s.toUpperCase(Locale.ROOT) : s;
      }
      case 'f', 'F', 'e', 'g' -> {
        if (!(a instanceof Double d)) {
          return bad;
        }
        String s =
            switch (verb) {
              case 'e' -> e(d, prec < 0 ? 6 : prec);
              case 'g' -> g(d, prec);
              default -> f(d, prec < 0 ? 6 : prec);
            };
        return d >= 0 && !s.startsWith("+") ? sign + s : s;
      }
      default -> {
        return "%!" + verb + "(" + type(a) + "=" + print(a) + ")";
      }
    }
  }
}
