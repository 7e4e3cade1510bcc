package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Series;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/**
 * Range queries' most common shape evaluated one series at a time over every step, instead of one
 * step at a time over every series: {@code sum|count|avg|min|max by|without (...)} of {@code
 * rate|increase|delta(sel[range])}. Each series' window slides forward through its samples once;
 * nothing is allocated per series and step. The per-step answers are exactly those of the
 * step-at-a-time path (same window bounds, same extrapolation, the same compensated sums and
 * incremental means in the same series order, the same output order), which remains for every other
 * shape and for series holding staleness markers.
 */
final class SeriesAtATime {
  private SeriesAtATime() {}

  /** The aggregations computed here. */
  private enum Op {
    SUM,
    COUNT,
    AVG,
    MIN,
    MAX;

    static Op of(String name) {
      return switch (name) {
        case "sum" -> SUM;
        case "count" -> COUNT;
        case "avg" -> AVG;
        case "min" -> MIN;
        case "max" -> MAX;
        default -> null;
      };
    }
  }

  /** The range functions computed here. */
  private static final java.util.Set<String> FUNCTIONS =
      java.util.Set.of("rate", "increase", "delta");

  /** Whether e has a shape computed here (the data may still send it back to the general path). */
  static boolean shape(Ast.Expr e) {
    // Only under an aggregation: a bare rate() still makes a sample per series and step, and
    // measured slower this way (bench QueryProfile: topk(5, rate(…[5m])) 56-99 ms against 24 ms).
    return e instanceof Ast.Aggregate a
        && Op.of(a.op()) != null
        && a.param() == null
        && rateCall(unwrap(a.expr())) != null;
  }

  private static Ast.Expr unwrap(Ast.Expr e) {
    while (e instanceof Ast.Paren p) {
      e = p.expr();
    }
    return e;
  }

  private static Ast.MatrixSelector rateCall(Ast.Expr e) {
    if (e instanceof Ast.Call c
        && FUNCTIONS.contains(c.func().name())
        && c.args().size() == 1
        && c.args().get(0) instanceof Ast.MatrixSelector ms) {
      return ms;
    }
    return null;
  }

  /**
   * The samples of e at each of steps steps from start (step apart); null when a series holds a
   * staleness marker (the general path handles those).
   *
   * @param series the loaded series of the expression's selector
   * @param rangeEnd a step's time → the end of its window (its @ and offset applied)
   */
  @SuppressWarnings("unchecked")
  static List<Sample>[] eval(
      Ast.Expr e,
      List<Series> series,
      long start,
      long step,
      int steps,
      LongUnaryOperator rangeEnd,
      java.util.function.Predicate<Series> hasStale) {
    for (Series s : series) {
      if (hasStale.test(s)) {
        return null;
      }
    }
    Ast.Aggregate agg = e instanceof Ast.Aggregate a ? a : null;
    Op op = agg == null ? null : Op.of(agg.op());
    Ast.Call call = (Ast.Call) (agg == null ? e : unwrap(agg.expr()));
    Ast.MatrixSelector ms = (Ast.MatrixSelector) call.args().get(0);
    String f = call.func().name();
    long range = ms.rangeMs();
    boolean counter = !f.equals("delta");
    boolean rate = f.equals("rate");
    List<Sample>[] out = new List[steps];
    for (int k = 0; k < steps; k++) {
      out[k] = new ArrayList<>();
    }
    int n = series.size();
    // Per series: its output labels and, under an aggregation, its group.
    Labels[] labels = new Labels[n];
    int[] group = new int[n];
    List<Labels> groups = new ArrayList<>();
    Map<Labels, Integer> groupIndex = new HashMap<>();
    for (int i = 0; i < n; i++) {
      labels[i] = series.get(i).labels().dropName();
      if (agg != null) {
        Labels key = Aggregations.key(labels[i], agg);
        Integer g = groupIndex.get(key);
        if (g == null) {
          g = groups.size();
          groupIndex.put(key, g);
          groups.add(key);
        }
        group[i] = g;
      }
    }
    int g = groups.size();
    double[] acc = agg == null ? null : new double[g * steps];
    double[] comp = agg == null ? null : new double[g * steps];
    double[] count = agg == null ? null : new double[g * steps];
    int[] first = agg == null ? null : new int[g * steps];
    double[] values = new double[steps];
    boolean[] present = new boolean[steps];
    for (int i = 0; i < n; i++) {
      Series s = series.get(i);
      long[] ts = s.t();
      double[] vs = s.v();
      double[] resets = counter ? Engine.resetPrefix(vs) : null;
      int lo = 0;
      int hi = -1;
      for (int k = 0; k < steps; k++) {
        long t = start + k * step;
        long end = rangeEnd.applyAsLong(t);
        long min = end - range;
        // The window [min, end] as in Engine.windows: lo first at or after min, hi last at or
        // before end; both only move forward unless @ pins the window (then they stay put).
        if (lo > 0 && ts[lo - 1] >= min) {
          lo = Engine.firstAtOrAfter(ts, min);
        }
        while (lo < ts.length && ts[lo] < min) {
          lo++;
        }
        if (hi >= 0 && ts[hi] > end) {
          hi = Engine.lastAtOrBefore(ts, end);
        }
        while (hi + 1 < ts.length && ts[hi + 1] <= end) {
          hi++;
        }
        present[k] = hi >= 0 && hi - lo + 1 >= 2;
        if (!present[k]) {
          continue;
        }
        double result = vs[hi] - vs[lo];
        if (counter) {
          result += resets[hi] - resets[lo];
        }
        values[k] =
            Calls.extrapolate(
                result, ts[lo], ts[hi], vs[lo], hi - lo + 1, min, end, range, counter, rate);
      }
      if (agg == null) {
        for (int k = 0; k < steps; k++) {
          if (present[k]) {
            out[k].add(new Sample(labels[i], values[k], start + k * step));
          }
        }
        continue;
      }
      int base = group[i] * steps;
      for (int k = 0; k < steps; k++) {
        if (present[k]) {
          add(op, acc, comp, count, first, base + k, values[k], i);
        }
      }
    }
    if (agg != null) {
      for (int k = 0; k < steps; k++) {
        // Groups in the order the step-at-a-time path meets them: by their first series.
        List<int[]> order = new ArrayList<>();
        for (int j = 0; j < g; j++) {
          if (count[j * steps + k] > 0) {
            order.add(new int[] {first[j * steps + k], j});
          }
        }
        order.sort((a, b) -> Integer.compare(a[0], b[0]));
        for (int[] o : order) {
          int cell = o[1] * steps + k;
          out[k].add(
              new Sample(
                  groups.get(o[1]),
                  result(op, acc[cell], comp[cell], count[cell]),
                  start + k * step));
        }
      }
    }
    return out;
  }

  /** Adds v (of series i) to one group's cell, as Aggregations does over a step's samples. */
  private static void add(
      Op op, double[] acc, double[] comp, double[] count, int[] first, int cell, double v, int i) {
    if (count[cell] == 0) {
      first[cell] = i;
    }
    count[cell]++;
    switch (op) {
      case SUM -> {
        double[] r = Aggregations.kahan(v, acc[cell], comp[cell]);
        acc[cell] = r[0];
        comp[cell] = r[1];
      }
      case AVG -> {
        double mean = acc[cell];
        double c = count[cell];
        if (Double.isInfinite(mean)) {
          if (Double.isInfinite(v) && (mean > 0) == (v > 0)) {
            return;
          }
          if (!Double.isInfinite(v) && !Double.isNaN(v)) {
            return;
          }
        }
        acc[cell] = mean + v / c - mean / c;
      }
      case MIN, MAX -> {
        boolean max = op == Op.MAX;
        double m = acc[cell];
        if (count[cell] == 1 || (max ? v > m : v < m) || Double.isNaN(m)) {
          acc[cell] = v;
        }
      }
      case COUNT -> {} // the count is the answer
    }
  }

  private static double result(Op op, double acc, double comp, double count) {
    return switch (op) {
      case SUM -> Double.isInfinite(acc) ? acc : acc + comp;
      case COUNT -> count;
      case AVG, MIN, MAX -> acc;
    };
  }
}
