package dev.pilothouse.experiment;

import java.util.ArrayList;
import java.util.List;

/** Mean, variance and 99th percentile of a latency histogram's cumulative buckets (seconds). */
final class Histogram {
  private Histogram() {}

  /**
   * {mean ms, variance ms², p99 ms} from buckets labelled {@code le} with cumulative counts; each
   * bucket's requests count at its midpoint (the last finite bound for +Inf). NaN when empty.
   */
  static double[] moments(List<MetricsQuery.Sample> buckets) {
    List<double[]> b = new ArrayList<>(); // {upper bound, cumulative count}
    for (MetricsQuery.Sample s : buckets) {
      String le = s.labels().get("le");
      if (le == null) {
        continue;
      }
      double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
      b.add(new double[] {bound, s.value()});
    }
    b.sort((x, y) -> Double.compare(x[0], y[0]));
    double total = b.isEmpty() ? 0 : b.get(b.size() - 1)[1];
    if (total <= 0) {
      return new double[] {Double.NaN, Double.NaN, Double.NaN};
    }
    double sum = 0;
    double sumSq = 0;
    double lower = 0;
    double previous = 0;
    double p99 = Double.NaN;
    double lastFinite = 0;
    for (double[] x : b) {
      double count = Math.max(0, x[1] - previous);
      double mid = Double.isInfinite(x[0]) ? lastFinite : x[0] == 0 ? 0 : (lower + x[0]) / 2;
      sum += count * mid;
      sumSq += count * mid * mid;
      if (Double.isNaN(p99) && x[1] >= 0.99 * total) {
        p99 = Double.isInfinite(x[0]) ? lastFinite : x[0];
      }
      previous = x[1];
      if (!Double.isInfinite(x[0])) {
        lower = x[0];
        lastFinite = x[0];
      }
    }
    double mean = sum / total;
    double variance = Math.max(0, sumSq / total - mean * mean);
    return new double[] {mean * 1000, variance * 1e6, p99 * 1000};
  }
}
