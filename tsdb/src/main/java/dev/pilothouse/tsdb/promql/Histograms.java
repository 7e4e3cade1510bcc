package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** histogram_quantile over classic (le-bucketed) histograms, as Prometheus computes it. */
final class Histograms {
  private Histograms() {}

  private record Bucket(double upper, double count) {}

  static List<Sample> quantile(double q, List<Sample> in, long t) {
    Map<Labels, List<Bucket>> groups = new LinkedHashMap<>();
    for (Sample s : in) {
      String le = s.labels().get("le");
      double upper;
      try {
        upper = Value.parseFloat(le);
      } catch (NumberFormatException e) {
        continue; // not a bucket: ignored, as Prometheus does
      }
      Labels key = s.labels().without(List.of("le", Labels.NAME));
      groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new Bucket(upper, s.v()));
    }
    List<Sample> out = new ArrayList<>();
    groups.forEach((k, b) -> out.add(new Sample(k, bucketQuantile(q, b), t)));
    return out;
  }

  private static double bucketQuantile(double q, List<Bucket> in) {
    if (Double.isNaN(q)) {
      return Double.NaN;
    }
    if (q < 0) {
      return Double.NEGATIVE_INFINITY;
    }
    if (q > 1) {
      return Double.POSITIVE_INFINITY;
    }
    List<Bucket> b = new ArrayList<>(in);
    b.sort((x, y) -> Double.compare(x.upper(), y.upper()));
    if (b.isEmpty()
        || !Double.isInfinite(b.get(b.size() - 1).upper())
        || b.get(b.size() - 1).upper() < 0) {
      return Double.NaN;
    }
    // Coalesce buckets with the same bound.
    List<Bucket> c = new ArrayList<>();
    for (Bucket x : b) {
      if (!c.isEmpty() && c.get(c.size() - 1).upper() == x.upper()) {
        Bucket last = c.remove(c.size() - 1);
        c.add(new Bucket(x.upper(), last.count() + x.count()));
      } else {
        c.add(x);
      }
    }
    // Ensure monotonic counts.
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < c.size(); i++) {
      if (c.get(i).count() > max) {
        max = c.get(i).count();
      } else if (c.get(i).count() < max) {
        c.set(i, new Bucket(c.get(i).upper(), max));
      }
    }
    if (c.size() < 2) {
      return Double.NaN;
    }
    double observations = c.get(c.size() - 1).count();
    if (observations == 0) {
      return Double.NaN;
    }
    double rank = q * observations;
    int idx = c.size() - 1;
    for (int i = 0; i < c.size() - 1; i++) {
      if (c.get(i).count() >= rank) {
        idx = i;
        break;
      }
    }
    if (idx == c.size() - 1) {
      return c.get(c.size() - 2).upper();
    }
    if (idx == 0 && c.get(0).upper() <= 0) {
      return c.get(0).upper();
    }
    double start = 0;
    double end = c.get(idx).upper();
    double count = c.get(idx).count();
    if (idx > 0) {
      start = c.get(idx - 1).upper();
      count -= c.get(idx - 1).count();
      rank -= c.get(idx - 1).count();
    }
    return start + (end - start) * (rank / count);
  }
}
