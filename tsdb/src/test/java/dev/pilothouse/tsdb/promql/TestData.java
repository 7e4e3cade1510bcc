package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Deterministic, realistic test data: request counters with resets, CPU counters, memory gauges,
 * latency histograms, a gauge with NaN and negative values, a series with a gap, up and info
 * metrics. One hour at 15 s from {@link #START}.
 */
final class TestData {
  static final long START = 1_700_000_000_000L;
  static final long END = START + 3_600_000L;
  static final long STEP = 15_000L;

  /** One series and its samples. */
  record S(Labels labels, long[] t, double[] v) {}

  private TestData() {}

  /** Writes every series of data into db, one commit per series. */
  static void appendTo(dev.pilothouse.tsdb.Tsdb db, List<S> data) {
    for (S s : data) {
      dev.pilothouse.tsdb.Tsdb.Appender a = db.appender();
      for (int i = 0; i < s.t().length; i++) {
        a.add(s.labels(), s.t()[i], s.v()[i]);
      }
      a.commit();
    }
  }

  static List<S> generate() {
    SplittableRandom r = new SplittableRandom(42);
    List<S> out = new ArrayList<>();
    for (String job : List.of("api", "web")) {
      for (String inst : List.of("a:9100", "b:9100")) {
        for (String method : List.of("GET", "POST")) {
          for (String code : List.of("200", "500")) {
            boolean reset = job.equals("api") && inst.startsWith("b") && code.equals("200");
            out.add(
                counter(
                    r,
                    Labels.of(
                        "__name__",
                        "http_requests_total",
                        "job",
                        job,
                        "instance",
                        inst,
                        "method",
                        method,
                        "code",
                        code),
                    code.equals("200") ? 10 : 0.5,
                    reset));
          }
        }
        out.add(
            gauge(
                r,
                Labels.of("__name__", "memory_usage_bytes", "job", job, "instance", inst),
                5e8,
                1e7));
        out.add(
            constant(
                Labels.of("__name__", "up", "job", job, "instance", inst),
                inst.startsWith("a") || job.equals("api") ? 1 : 0));
        double[] bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, Double.POSITIVE_INFINITY};
        double[] shares = {0.3, 0.2, 0.2, 0.15, 0.1, 0.04, 0.01};
        int n = (int) ((END - START) / STEP) + 1;
        double[][] buckets = new double[bounds.length][n];
        double[] count = new double[n];
        double[] sum = new double[n];
        double c = 0;
        double s = 0;
        double[] cum = new double[bounds.length];
        for (int i = 0; i < n; i++) {
          int reqs = 5 + r.nextInt(20) + (job.equals("web") ? 30 : 0);
          for (int q = 0; q < reqs; q++) {
            double x = r.nextDouble();
            double acc = 0;
            int b = 0;
            while (b < shares.length - 1 && x > acc + shares[b]) {
              acc += shares[b];
              b++;
            }
            for (int k = b; k < bounds.length; k++) {
              cum[k]++;
            }
            c++;
            s += Math.min(bounds[b] == Double.POSITIVE_INFINITY ? 5 : bounds[b], 5) * 0.8;
          }
          for (int k = 0; k < bounds.length; k++) {
            buckets[k][i] = cum[k];
          }
          count[i] = c;
          sum[i] = s;
        }
        for (int k = 0; k < bounds.length; k++) {
          String le =
              bounds[k] == Double.POSITIVE_INFINITY ? "+Inf" : Aggregations.format(bounds[k]);
          out.add(
              series(
                  Labels.of(
                      "__name__",
                      "http_request_duration_seconds_bucket",
                      "job",
                      job,
                      "instance",
                      inst,
                      "le",
                      le),
                  buckets[k]));
        }
        out.add(
            series(
                Labels.of(
                    "__name__",
                    "http_request_duration_seconds_count",
                    "job",
                    job,
                    "instance",
                    inst),
                count));
        out.add(
            series(
                Labels.of(
                    "__name__", "http_request_duration_seconds_sum", "job", job, "instance", inst),
                sum));
      }
    }
    for (String inst : List.of("a:9100", "b:9100")) {
      for (String cpu : List.of("0", "1")) {
        for (String mode : List.of("idle", "user", "system")) {
          double rate = mode.equals("idle") ? 0.7 : mode.equals("user") ? 0.2 : 0.1;
          out.add(
              counter(
                  r,
                  Labels.of(
                      "__name__",
                      "node_cpu_seconds_total",
                      "instance",
                      inst,
                      "cpu",
                      cpu,
                      "mode",
                      mode),
                  rate * 15,
                  false));
        }
      }
    }
    // A gauge with negative values and one NaN sample.
    S temp = gauge(r, Labels.of("__name__", "temperature", "room", "lab"), -3, 2);
    temp.v()[100] = Double.NaN;
    out.add(temp);
    out.add(gauge(r, Labels.of("__name__", "temperature", "room", "office"), 21, 0.5));
    // A series with a 10-minute gap in the middle.
    S gappy = gauge(r, Labels.of("__name__", "gappy", "job", "batch"), 100, 5);
    out.add(withGap(gappy, START + 1_200_000, START + 1_800_000));
    out.add(constant(Labels.of("__name__", "version_info", "job", "api", "version", "1.2.3"), 1));
    out.add(constant(Labels.of("__name__", "version_info", "job", "web", "version", "2.0.0"), 1));
    return out;
  }

  private static S series(Labels l, double[] v) {
    long[] t = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      t[i] = START + i * STEP;
    }
    return new S(l, t, v);
  }

  private static S counter(SplittableRandom r, Labels l, double perStep, boolean reset) {
    int n = (int) ((END - START) / STEP) + 1;
    double[] v = new double[n];
    double c = r.nextInt(1000);
    for (int i = 0; i < n; i++) {
      if (reset && i == n / 2) {
        c = 0;
      }
      c += Math.floor(perStep * (0.5 + r.nextDouble()) * 4) / 4;
      v[i] = c;
    }
    return series(l, v);
  }

  private static S gauge(SplittableRandom r, Labels l, double base, double spread) {
    int n = (int) ((END - START) / STEP) + 1;
    double[] v = new double[n];
    double x = base;
    for (int i = 0; i < n; i++) {
      x += (r.nextDouble() - 0.5) * spread;
      v[i] = Math.round(x * 100) / 100.0;
    }
    return series(l, v);
  }

  private static S constant(Labels l, double value) {
    int n = (int) ((END - START) / STEP) + 1;
    double[] v = new double[n];
    java.util.Arrays.fill(v, value);
    return series(l, v);
  }

  private static S withGap(S s, long from, long to) {
    List<Long> ts = new ArrayList<>();
    List<Double> vs = new ArrayList<>();
    for (int i = 0; i < s.t().length; i++) {
      if (s.t()[i] < from || s.t()[i] >= to) {
        ts.add(s.t()[i]);
        vs.add(s.v()[i]);
      }
    }
    return new S(
        s.labels(),
        ts.stream().mapToLong(Long::longValue).toArray(),
        vs.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** OpenMetrics text for promtool tsdb create-blocks-from openmetrics (grouped by name). */
  static String openMetrics(List<S> all) {
    Map<String, List<S>> byName = new LinkedHashMap<>();
    for (S s : all) {
      byName.computeIfAbsent(s.labels().metricName(), k -> new ArrayList<>()).add(s);
    }
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, List<S>> e : byName.entrySet()) {
      b.append("# TYPE ").append(e.getKey()).append(" unknown\n");
      for (S s : e.getValue()) {
        String labels = s.labels().toString().substring(e.getKey().length());
        for (int i = 0; i < s.t().length; i++) {
          b.append(e.getKey())
              .append(labels.equals("{}") ? "" : labels.replace(", ", ","))
              .append(' ')
              .append(om(s.v()[i]))
              .append(' ')
              .append(s.t()[i] / 1000)
              .append('.')
              .append(String.format("%03d", s.t()[i] % 1000))
              .append('\n');
        }
      }
    }
    return b.append("# EOF\n").toString();
  }

  private static String om(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }
}
