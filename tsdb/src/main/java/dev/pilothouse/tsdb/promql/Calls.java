package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.promql.Value.Points;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** PromQL's functions, with Prometheus 2.x semantics. */
final class Calls {
  private Calls() {}

  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  static Object eval(Ast.Call c, Engine.Ctx ctx, long t) {
    String f = c.func().name();
    List<Ast.Expr> args = c.args();
    switch (f) {
      case "time" -> {
        return t / 1000.0;
      }
      case "pi" -> {
        return Math.PI;
      }
      case "vector" -> {
        double v = (Double) ctx.eval(args.get(0), t);
        return new Engine.Vec(List.of(new Sample(Labels.EMPTY, v, t)));
      }
      case "scalar" -> {
        List<Sample> v = vec(ctx, args.get(0), t);
        return v.size() == 1 ? v.get(0).v() : Double.NaN;
      }
      default -> {}
    }
    if ((f.equals("rate") || f.equals("increase") || f.equals("delta"))
        && args.get(0) instanceof Ast.MatrixSelector ms) {
      return rateWindows(f, ms, ctx.windows(ms, t), t, ctx);
    }
    if (c.func().args().size() == 1 && c.func().args().get(0) == Ast.Type.MATRIX) {
      return overTime(f, matrix(ctx, args.get(0), t), args.get(0), t, ctx);
    }
    switch (f) {
      case "quantile_over_time" -> {
        double q = (Double) ctx.eval(args.get(0), t);
        return perSeries(
            matrix(ctx, args.get(1), t), t, true, p -> Aggregations.quantile(q, p.v()));
      }
      case "predict_linear" -> {
        double d = (Double) ctx.eval(args.get(1), t);
        List<Sample> out = new ArrayList<>();
        for (Points p : matrix(ctx, args.get(0), t)) {
          if (p.t().length >= 2) {
            double[] si = regression(p, t);
            out.add(new Sample(p.labels().dropName(), si[1] + si[0] * d, t));
          }
        }
        return new Engine.Vec(out);
      }
      case "histogram_quantile" -> {
        double q = (Double) ctx.eval(args.get(0), t);
        return new Engine.Vec(Histograms.quantile(q, vec(ctx, args.get(1), t), t));
      }
      case "round" -> {
        double to = args.size() > 1 ? (Double) ctx.eval(args.get(1), t) : 1;
        double inv = 1.0 / to;
        return map(vec(ctx, args.get(0), t), v -> Math.floor(v * inv + 0.5) / inv);
      }
      case "clamp" -> {
        double min = (Double) ctx.eval(args.get(1), t);
        double max = (Double) ctx.eval(args.get(2), t);
        if (max < min) {
          return new Engine.Vec(List.of());
        }
        return map(vec(ctx, args.get(0), t), v -> Math.max(min, Math.min(max, v)));
      }
      case "clamp_min" -> {
        double min = (Double) ctx.eval(args.get(1), t);
        return map(vec(ctx, args.get(0), t), v -> Math.max(min, v));
      }
      case "clamp_max" -> {
        double max = (Double) ctx.eval(args.get(1), t);
        return map(vec(ctx, args.get(0), t), v -> Math.min(max, v));
      }
      case "absent" -> {
        if (!vec(ctx, args.get(0), t).isEmpty()) {
          return new Engine.Vec(List.of());
        }
        return new Engine.Vec(List.of(new Sample(absentLabels(args.get(0)), 1, t)));
      }
      case "timestamp" -> {
        List<Sample> out = new ArrayList<>();
        for (Sample s : vec(ctx, args.get(0), t)) {
          out.add(new Sample(s.labels().dropName(), s.t() / 1000.0, t));
        }
        return new Engine.Vec(out);
      }
      case "sort", "sort_desc" -> {
        List<Sample> out = new ArrayList<>(vec(ctx, args.get(0), t));
        boolean desc = f.equals("sort_desc");
        Comparator<Sample> cmp =
            (a, b) -> {
              if (Double.isNaN(a.v()) || Double.isNaN(b.v())) {
                return Boolean.compare(!Double.isNaN(a.v()), !Double.isNaN(b.v()));
              }
              return desc ? Double.compare(b.v(), a.v()) : Double.compare(a.v(), b.v());
            };
        out.sort(cmp);
        return new Engine.Vec(out);
      }
      case "label_replace" -> {
        return labelReplace(
            vec(ctx, args.get(0), t),
            str(ctx, args.get(1), t),
            str(ctx, args.get(2), t),
            str(ctx, args.get(3), t),
            str(ctx, args.get(4), t));
      }
      case "label_join" -> {
        String dst = str(ctx, args.get(1), t);
        String sep = str(ctx, args.get(2), t);
        List<String> src = new ArrayList<>();
        for (int i = 3; i < args.size(); i++) {
          src.add(str(ctx, args.get(i), t));
        }
        checkLabelName(dst);
        List<Sample> out = new ArrayList<>();
        for (Sample s : vec(ctx, args.get(0), t)) {
          List<String> parts = new ArrayList<>();
          for (String l : src) {
            parts.add(s.labels().get(l));
          }
          out.add(new Sample(s.labels().with(dst, String.join(sep, parts)), s.v(), s.t()));
        }
        return new Engine.Vec(checkUnique(out));
      }
      default -> {}
    }
    if (f.equals("minute")
        || f.equals("hour")
        || f.equals("day_of_week")
        || f.equals("day_of_month")
        || f.equals("day_of_year")
        || f.equals("days_in_month")
        || f.equals("month")
        || f.equals("year")) {
      List<Sample> in =
          args.isEmpty()
              ? List.of(new Sample(Labels.EMPTY, t / 1000.0, t))
              : vec(ctx, args.get(0), t);
      return map(in, v -> dateField(f, v));
    }
    DoubleUnaryOperator op = mathFunction(f);
    if (op != null) {
      return map(vec(ctx, args.get(0), t), op);
    }
    throw new EvalException("function " + f + " is not implemented");
  }

  private static List<Sample> vec(Engine.Ctx ctx, Ast.Expr e, long t) {
    return ((Engine.Vec) ctx.eval(e, t)).samples();
  }

  private static List<Points> matrix(Engine.Ctx ctx, Ast.Expr e, long t) {
    return ((Engine.Mat) ctx.eval(e, t)).series();
  }

  private static String str(Engine.Ctx ctx, Ast.Expr e, long t) {
    return (String) ctx.eval(e, t);
  }

  /** Applies op to each value and drops the metric name. */
  private static Engine.Vec map(List<Sample> in, DoubleUnaryOperator op) {
    List<Sample> out = new ArrayList<>(in.size());
    for (Sample s : in) {
      out.add(new Sample(s.labels().dropName(), op.applyAsDouble(s.v()), s.t()));
    }
    return new Engine.Vec(checkUnique(out));
  }

  private static List<Sample> checkUnique(List<Sample> out) {
    if (out.size() > 1) {
      java.util.Set<Labels> seen = new java.util.HashSet<>();
      for (Sample s : out) {
        if (!seen.add(s.labels())) {
          throw new EvalException("vector cannot contain metrics with the same labelset");
        }
      }
    }
    return out;
  }

  private static DoubleUnaryOperator mathFunction(String f) {
    return switch (f) {
      case "abs" -> Math::abs;
      case "ceil" -> Math::ceil;
      case "floor" -> Math::floor;
      case "exp" -> Math::exp;
      case "ln" -> Math::log;
      case "log2" -> Calls::log2;
      case "log10" -> Math::log10;
      case "sqrt" -> Math::sqrt;
      case "sgn" -> v -> Double.isNaN(v) ? v : Math.signum(v);
      case "acos" -> Math::acos;
      case "asin" -> Math::asin;
      case "atan" -> Math::atan;
      case "cos" -> Math::cos;
      case "sin" -> Math::sin;
      case "tan" -> Math::tan;
      case "cosh" -> Math::cosh;
      case "sinh" -> Math::sinh;
      case "tanh" -> Math::tanh;
      case "acosh" -> v -> Math.log(v + Math.sqrt(v * v - 1));
      case "asinh" -> v -> Math.log(v + Math.sqrt(v * v + 1));
      case "atanh" -> v -> 0.5 * Math.log((1 + v) / (1 - v));
      case "deg" -> v -> v * 180 / Math.PI;
      case "rad" -> v -> v * Math.PI / 180;
      default -> null;
    };
  }

  /** Go's math.Log2: exact for powers of two. */
  static double log2(double x) {
    if (Double.isNaN(x) || x <= 0 || Double.isInfinite(x)) {
      return Math.log(x) / Math.log(2);
    }
    int exp = Math.getExponent(x);
    double frac = x / Math.scalb(1.0, exp); // in [1, 2)
    // Go's Frexp gives frac in [0.5, 1): frac/2 and exp+1.
    if (frac == 1.0) {
      return exp;
    }
    return Math.log(frac / 2) * (1 / Math.log(2)) + (exp + 1);
  }

  private static double dateField(String f, double secs) {
    if (Double.isNaN(secs) || Double.isInfinite(secs)) {
      return secs;
    }
    ZonedDateTime z = Instant.ofEpochMilli((long) Math.floor(secs * 1000)).atZone(ZoneOffset.UTC);
    return switch (f) {
      case "minute" -> z.getMinute();
      case "hour" -> z.getHour();
      case "day_of_week" -> z.getDayOfWeek().getValue() % 7;
      case "day_of_month" -> z.getDayOfMonth();
      case "day_of_year" -> z.getDayOfYear();
      case "days_in_month" -> z.toLocalDate().lengthOfMonth();
      case "month" -> z.getMonthValue();
      default -> z.getYear();
    };
  }

  // ---- functions over range vectors

  private static Engine.Vec perSeries(
      List<Points> m, long t, boolean dropName, java.util.function.ToDoubleFunction<Points> fn) {
    List<Sample> out = new ArrayList<>(m.size());
    for (Points p : m) {
      out.add(new Sample(dropName ? p.labels().dropName() : p.labels(), fn.applyAsDouble(p), t));
    }
    return new Engine.Vec(out);
  }

  private static Object overTime(String f, List<Points> m, Ast.Expr arg, long t, Engine.Ctx ctx) {
    switch (f) {
      case "rate", "increase", "delta" -> {
        long range;
        Ast.Time time;
        if (arg instanceof Ast.MatrixSelector ms) {
          range = ms.rangeMs();
          time = ms.selector().time();
        } else {
          Ast.Subquery sq = (Ast.Subquery) arg;
          range = sq.rangeMs();
          time = sq.time();
        }
        long rangeEnd = ctx.at(time, t) - time.offsetMs();
        long rangeStart = rangeEnd - range;
        List<Sample> out = new ArrayList<>();
        for (Points p : m) {
          if (p.t().length < 2) {
            continue;
          }
          out.add(
              new Sample(
                  p.labels().dropName(),
                  extrapolatedRate(
                      p, rangeStart, rangeEnd, range, !f.equals("delta"), f.equals("rate")),
                  t));
        }
        return new Engine.Vec(out);
      }
      case "irate", "idelta" -> {
        List<Sample> out = new ArrayList<>();
        for (Points p : m) {
          int n = p.t().length;
          if (n < 2) {
            continue;
          }
          double last = p.v()[n - 1];
          double prev = p.v()[n - 2];
          double r;
          if (f.equals("irate")) {
            r = last < prev ? last : last - prev;
            long dt = p.t()[n - 1] - p.t()[n - 2];
            if (dt == 0) {
              continue;
            }
            r = r / (dt / 1000.0);
          } else {
            r = last - prev;
          }
          out.add(new Sample(p.labels().dropName(), r, t));
        }
        return new Engine.Vec(out);
      }
      case "deriv" -> {
        List<Sample> out = new ArrayList<>();
        for (Points p : m) {
          if (p.t().length >= 2) {
            out.add(new Sample(p.labels().dropName(), regression(p, p.t()[0])[0], t));
          }
        }
        return new Engine.Vec(out);
      }
      case "resets", "changes" -> {
        boolean resets = f.equals("resets");
        return perSeries(
            m,
            t,
            true,
            p -> {
              int n = 0;
              for (int i = 1; i < p.v().length; i++) {
                double cur = p.v()[i];
                double prev = p.v()[i - 1];
                if (resets
                    ? cur < prev
                    : (cur != prev && !(Double.isNaN(cur) && Double.isNaN(prev)))) {
                  n++;
                }
              }
              return n;
            });
      }
      case "avg_over_time" -> {
        return perSeries(m, t, true, p -> Aggregations.mean(p.v()));
      }
      case "sum_over_time" -> {
        return perSeries(m, t, true, p -> Aggregations.sum(p.v()));
      }
      case "count_over_time" -> {
        return perSeries(m, t, true, p -> p.v().length);
      }
      case "min_over_time", "max_over_time" -> {
        boolean max = f.equals("max_over_time");
        return perSeries(m, t, true, p -> Aggregations.extreme(p.v(), max));
      }
      case "last_over_time" -> {
        return perSeries(m, t, false, p -> p.v()[p.v().length - 1]);
      }
      case "present_over_time" -> {
        return perSeries(m, t, true, p -> 1);
      }
      case "stddev_over_time", "stdvar_over_time" -> {
        boolean dev = f.equals("stddev_over_time");
        return perSeries(
            m,
            t,
            true,
            p -> {
              double count = 0;
              double mean = 0;
              double cMean = 0;
              double aux = 0;
              double cAux = 0;
              for (double v : p.v()) {
                count++;
                double delta = v - (mean + cMean);
                double[] r = Aggregations.kahan(delta / count, mean, cMean);
                mean = r[0];
                cMean = r[1];
                double[] a = Aggregations.kahan(delta * (v - (mean + cMean)), aux, cAux);
                aux = a[0];
                cAux = a[1];
              }
              double var = (aux + cAux) / count;
              return dev ? Math.sqrt(var) : var;
            });
      }
      case "absent_over_time" -> {
        if (!m.isEmpty()) {
          return new Engine.Vec(List.of());
        }
        Ast.Expr sel = arg instanceof Ast.MatrixSelector ms ? ms.selector() : null;
        return new Engine.Vec(List.of(new Sample(absentLabels(sel), 1, t)));
      }
      default -> throw new EvalException("function " + f + " is not implemented");
    }
  }

  /** rate, increase and delta over a range selector's windows, without copying samples. */
  private static Engine.Vec rateWindows(
      String f, Ast.MatrixSelector ms, List<Engine.Window> windows, long t, Engine.Ctx ctx) {
    long range = ms.rangeMs();
    long rangeEnd = ctx.at(ms.selector().time(), t) - ms.selector().time().offsetMs();
    long rangeStart = rangeEnd - range;
    boolean counter = !f.equals("delta");
    List<Sample> out = new ArrayList<>(windows.size());
    for (Engine.Window w : windows) {
      if (w.size() < 2) {
        continue;
      }
      double result = w.v()[w.hi()] - w.v()[w.lo()];
      if (counter) {
        result += w.resets()[w.hi()] - w.resets()[w.lo()];
      }
      out.add(
          new Sample(
              w.labels().dropName(),
              extrapolate(
                  result,
                  w.t()[w.lo()],
                  w.t()[w.hi()],
                  w.v()[w.lo()],
                  w.size(),
                  rangeStart,
                  rangeEnd,
                  range,
                  counter,
                  f.equals("rate")),
              t));
    }
    return new Engine.Vec(out);
  }

  /** The extrapolation of Prometheus's extrapolatedRate, given the raw (reset-corrected) delta. */
  static double extrapolate(
      double result,
      long firstT,
      long lastT,
      double firstV,
      int n,
      long rangeStart,
      long rangeEnd,
      long range,
      boolean counter,
      boolean rate) {
    double toStart = (firstT - rangeStart) / 1000.0;
    double toEnd = (rangeEnd - lastT) / 1000.0;
    double sampled = (lastT - firstT) / 1000.0;
    double avgStep = sampled / (n - 1);
    if (counter && result > 0 && firstV >= 0) {
      double toZero = sampled * (firstV / result);
      if (toZero < toStart) {
        toStart = toZero;
      }
    }
    double threshold = avgStep * 1.1;
    double interval = sampled;
    interval += toStart < threshold ? toStart : avgStep / 2;
    interval += toEnd < threshold ? toEnd : avgStep / 2;
    result = result * (interval / sampled);
    if (rate) {
      result = result / (range / 1000.0);
    }
    return result;
  }

  /** Prometheus's extrapolatedRate (rate, increase, delta). */
  private static double extrapolatedRate(
      Points p, long rangeStart, long rangeEnd, long range, boolean counter, boolean rate) {
    long[] ts = p.t();
    double[] vs = p.v();
    int n = ts.length;
    double result = vs[n - 1] - vs[0];
    if (counter) {
      double last = 0;
      for (double v : vs) {
        if (v < last) {
          result += last;
        }
        last = v;
      }
    }
    return extrapolate(
        result, ts[0], ts[n - 1], vs[0], n, rangeStart, rangeEnd, range, counter, rate);
  }

  /** Least-squares slope and intercept (at interceptTime), Prometheus's linearRegression. */
  private static double[] regression(Points p, long interceptTime) {
    double n = 0;
    double sumX = 0;
    double cX = 0;
    double sumY = 0;
    double cY = 0;
    double sumXY = 0;
    double cXY = 0;
    double sumX2 = 0;
    double cX2 = 0;
    double initY = p.v()[0];
    boolean constY = true;
    for (int i = 0; i < p.t().length; i++) {
      double y = p.v()[i];
      if (constY && i > 0 && y != initY) {
        constY = false;
      }
      n++;
      double x = (p.t()[i] - interceptTime) / 1e3;
      double[] r = Aggregations.kahan(x, sumX, cX);
      sumX = r[0];
      cX = r[1];
      r = Aggregations.kahan(y, sumY, cY);
      sumY = r[0];
      cY = r[1];
      r = Aggregations.kahan(x * y, sumXY, cXY);
      sumXY = r[0];
      cXY = r[1];
      r = Aggregations.kahan(x * x, sumX2, cX2);
      sumX2 = r[0];
      cX2 = r[1];
    }
    if (constY) {
      if (Double.isInfinite(initY)) {
        return new double[] {Double.NaN, Double.NaN};
      }
      return new double[] {0, initY};
    }
    sumX += cX;
    sumY += cY;
    sumXY += cXY;
    sumX2 += cX2;
    double covXY = sumXY - sumX * sumY / n;
    double varX = sumX2 - sumX * sumX / n;
    double slope = covXY / varX;
    double intercept = sumY / n - slope * sumX / n;
    return new double[] {slope, intercept};
  }

  /** The labels absent() reports: the selector's equality matchers (once each), no name. */
  private static Labels absentLabels(Ast.Expr e) {
    if (!(e instanceof Ast.VectorSelector v)) {
      return Labels.EMPTY;
    }
    Map<String, String> m = new LinkedHashMap<>();
    Map<String, Integer> seen = new HashMap<>();
    for (Matcher x : v.matchers()) {
      if (x.name().equals(Labels.NAME)) {
        continue;
      }
      seen.merge(x.name(), 1, Integer::sum);
      if (x.type() == Matcher.Type.EQ) {
        m.put(x.name(), x.value());
      }
    }
    seen.forEach(
        (k, n) -> {
          if (n > 1) {
            m.remove(k);
          }
        });
    return Labels.of(m);
  }

  private static void checkLabelName(String name) {
    if (!LABEL_NAME.matcher(name).matches()) {
      throw new EvalException("invalid destination label name in label_replace(): " + name);
    }
  }

  private static Engine.Vec labelReplace(
      List<Sample> in, String dst, String replacement, String src, String regex) {
    Pattern p;
    try {
      p = Pattern.compile("^(?:" + regex + ")$", Pattern.DOTALL);
    } catch (PatternSyntaxException e) {
      throw new EvalException("invalid regular expression in label_replace(): " + regex);
    }
    checkLabelName(dst);
    List<Sample> out = new ArrayList<>();
    for (Sample s : in) {
      java.util.regex.Matcher m = p.matcher(s.labels().get(src));
      if (!m.matches()) {
        out.add(s);
        continue;
      }
      String res = expand(replacement, m);
      out.add(new Sample(s.labels().with(dst, res), s.v(), s.t()));
    }
    return new Engine.Vec(checkUnique(out));
  }

  /** Go's regexp Expand: $1, ${1}, $name, ${name}; $$ is a dollar. */
  static String expand(String template, java.util.regex.Matcher m) {
    StringBuilder b = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      char c = template.charAt(i);
      if (c != '$' || i + 1 >= template.length()) {
        b.append(c);
        i++;
        continue;
      }
      char n = template.charAt(i + 1);
      if (n == '$') {
        b.append('$');
        i += 2;
        continue;
      }
      String name;
      int next;
      if (n == '{') {
        int close = template.indexOf('}', i + 2);
        if (close < 0) {
          b.append(c);
          i++;
          continue;
        }
        name = template.substring(i + 2, close);
        next = close + 1;
      } else {
        int j = i + 1;
        while (j < template.length()
            && (Character.isLetterOrDigit(template.charAt(j)) || template.charAt(j) == '_')) {
          j++;
        }
        if (j == i + 1) {
          b.append(c);
          i++;
          continue;
        }
        name = template.substring(i + 1, j);
        next = j;
      }
      b.append(group(m, name));
      i = next;
    }
    return b.toString();
  }

  private static String group(java.util.regex.Matcher m, String name) {
    try {
      String g;
      if (name.chars().allMatch(Character::isDigit)) {
        int idx = Integer.parseInt(name);
        g = idx <= m.groupCount() ? m.group(idx) : null;
      } else {
        g = m.group(name);
      }
      return g == null ? "" : g;
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return "";
    }
  }
}
