package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile, count_values. */
final class Aggregations {
  private Aggregations() {}

  static Object eval(Ast.Aggregate a, Engine.Ctx ctx, long t) {
    List<Sample> in = ((Engine.Vec) ctx.eval(a.expr(), t)).samples();
    Object param = a.param() == null ? null : ctx.eval(a.param(), t);
    if (a.op().equals("count_values")) {
      return new Engine.Vec(countValues((String) param, in, a, t));
    }
    Map<Labels, List<Sample>> groups = new LinkedHashMap<>();
    for (Sample s : in) {
      Labels k = ctx.groupKey(a, s.labels(), l -> key(l, a));
      groups.computeIfAbsent(k, x -> new ArrayList<>()).add(s);
    }
    List<Sample> out = new ArrayList<>();
    for (Map.Entry<Labels, List<Sample>> g : groups.entrySet()) {
      List<Sample> ss = g.getValue();
      switch (a.op()) {
        case "topk", "bottomk" -> out.addAll(topk(ss, (Double) param, a.op().equals("topk")));
        default -> out.add(new Sample(g.getKey(), value(a.op(), ss, param), t));
      }
    }
    return new Engine.Vec(out);
  }

  static Labels key(Labels l, Ast.Aggregate a) {
    if (a.without()) {
      List<String> drop = new ArrayList<>(a.grouping());
      drop.add(Labels.NAME);
      return l.without(drop);
    }
    return l.keep(a.grouping());
  }

  private static double value(String op, List<Sample> ss, Object param) {
    switch (op) {
      case "sum" -> {
        return sum(values(ss));
      }
      case "avg" -> {
        return mean(values(ss));
      }
      case "count" -> {
        return ss.size();
      }
      case "group" -> {
        return 1;
      }
      case "min", "max" -> {
        return extreme(values(ss), op.equals("max"));
      }
      case "stddev", "stdvar" -> {
        double count = 0;
        double mean = 0;
        double acc = 0;
        for (Sample s : ss) {
          count++;
          double delta = s.v() - mean;
          mean += delta / count;
          acc += delta * (s.v() - mean);
        }
        double var = acc / count;
        return op.equals("stddev") ? Math.sqrt(var) : var;
      }
      case "quantile" -> {
        double[] vs = ss.stream().mapToDouble(Sample::v).toArray();
        return quantile((Double) param, vs);
      }
      default -> throw new EvalException("unknown aggregation " + op);
    }
  }

  private static double[] values(List<Sample> ss) {
    double[] v = new double[ss.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = ss.get(i).v();
    }
    return v;
  }

  /** The compensated sum, as Prometheus's sum and sum_over_time. */
  static double sum(double[] values) {
    double sum = 0;
    double c = 0;
    for (double v : values) {
      double[] r = kahan(v, sum, c);
      sum = r[0];
      c = r[1];
    }
    return Double.isInfinite(sum) ? sum : sum + c;
  }

  /** The incremental mean of avg and avg_over_time, keeping an infinite mean infinite. */
  static double mean(double[] values) {
    double mean = 0;
    double count = 0;
    for (double v : values) {
      count++;
      if (Double.isInfinite(mean)) {
        if (Double.isInfinite(v) && (mean > 0) == (v > 0)) {
          continue;
        }
        if (!Double.isInfinite(v) && !Double.isNaN(v)) {
          continue;
        }
      }
      mean += v / count - mean / count;
    }
    return mean;
  }

  /** min or max; a NaN is replaced by any later value, as in Prometheus. */
  static double extreme(double[] values, boolean max) {
    double m = values[0];
    for (double v : values) {
      if ((max ? v > m : v < m) || Double.isNaN(m)) {
        m = v;
      }
    }
    return m;
  }

  /** Kahan-Babuška summation step: returns {sum, compensation}. */
  static double[] kahan(double inc, double sum, double c) {
    double t = sum + inc;
    if (Double.isInfinite(t)) {
      c = 0;
    } else if (Math.abs(sum) >= Math.abs(inc)) {
      c += (sum - t) + inc;
    } else {
      c += (inc - t) + sum;
    }
    return new double[] {t, c};
  }

  /** Prometheus's quantile: linear interpolation between closest ranks. */
  static double quantile(double q, double[] values) {
    if (values.length == 0 || Double.isNaN(q)) {
      return Double.NaN;
    }
    if (q < 0) {
      return Double.NEGATIVE_INFINITY;
    }
    if (q > 1) {
      return Double.POSITIVE_INFINITY;
    }
    double[] v = sortNaNFirst(values);
    double n = v.length;
    double rank = q * (n - 1);
    int lower = (int) Math.max(0, Math.floor(rank));
    int upper = (int) Math.min(n - 1, lower + 1);
    double weight = rank - Math.floor(rank);
    return v[lower] * (1 - weight) + v[upper] * weight;
  }

  /** Sorted as Go's sort.Float64s: NaN before every other value. */
  static double[] sortNaNFirst(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v); // NaN last
    int nan = 0;
    while (nan < v.length && Double.isNaN(v[v.length - 1 - nan])) {
      nan++;
    }
    if (nan == 0) {
      return v;
    }
    double[] out = new double[v.length];
    Arrays.fill(out, 0, nan, Double.NaN);
    System.arraycopy(v, 0, out, nan, v.length - nan);
    return out;
  }

  static List<Sample> topk(List<Sample> ss, double kParam, boolean top) {
    long k = (long) kParam;
    if (k < 1) {
      return List.of();
    }
    Comparator<Sample> byValue =
        (x, y) -> {
          // NaN counts as the smallest value for topk and the largest for bottomk.
          if (Double.isNaN(x.v()) || Double.isNaN(y.v())) {
            return Boolean.compare(!Double.isNaN(x.v()), !Double.isNaN(y.v())) * (top ? 1 : -1);
          }
          return Double.compare(x.v(), y.v());
        };
    Comparator<Sample> order = top ? byValue.reversed() : byValue;
    if (k >= ss.size()) {
      List<Sample> sorted = new ArrayList<>(ss);
      sorted.sort(order);
      return sorted;
    }
    // The first k of a stable sort, without sorting everything: a heap of the k best so far
    // (ties go to the earlier sample, as a stable sort keeps them), its worst on top.
    int n = (int) k;
    Comparator<Integer> better =
        (i, j) -> {
          int c = order.compare(ss.get(i), ss.get(j));
          return c != 0 ? c : Integer.compare(i, j);
        };
    java.util.PriorityQueue<Integer> heap = new java.util.PriorityQueue<>(n, better.reversed());
    for (int i = 0; i < ss.size(); i++) {
      if (heap.size() < n) {
        heap.add(i);
      } else if (better.compare(i, heap.peek()) < 0) {
        heap.poll();
        heap.add(i);
      }
    }
    List<Integer> best = new ArrayList<>(heap);
    best.sort(better);
    List<Sample> out = new ArrayList<>(n);
    for (int i : best) {
      out.add(ss.get(i));
    }
    return out;
  }

  private static List<Sample> countValues(String label, List<Sample> in, Ast.Aggregate a, long t) {
    if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
      throw new EvalException("invalid label name \"" + label + "\"");
    }
    Map<Labels, Integer> counts = new LinkedHashMap<>();
    for (Sample s : in) {
      Labels k = key(s.labels(), a).with(label, format(s.v()));
      counts.merge(k, 1, Integer::sum);
    }
    List<Sample> out = new ArrayList<>();
    counts.forEach((k, n) -> out.add(new Sample(k, n, t)));
    return out;
  }

  static String format(double v) {
    return Value.formatFloat(v);
  }
}
