package dev.pilothouse.bench;

import dev.pilothouse.tsdb.Labels;
import java.util.SplittableRandom;

/**
 * The realistic value mix of bench/tsdb.sh: per host, 100 series whose values look like what
 * node_exporter and an instrumented HTTP service send, fractions included:
 *
 * <ul>
 *   <li>32 {@code node_cpu_seconds_total}: counters in seconds with two decimals (the kernel's
 *       USER_HZ of 100), growing by 0–15 s per 15 s;
 *   <li>8 {@code node_load1/5/15}-like gauges with two decimals, wandering around 0.2–4;
 *   <li>12 {@code node_memory_bytes}: gauges in multiples of 4096 (pages);
 *   <li>12 {@code node_network_receive_bytes_total}: integer byte counters;
 *   <li>4 {@code node_hwmon_temp_celsius}: gauges with three decimals (millidegrees);
 *   <li>4 {@code process_cpu_usage_ratio}: full-precision floats in [0, 1) (computed ratios);
 *   <li>24 {@code http_request_duration_seconds_bucket}: integer counters (2 routes × 12 buckets);
 *   <li>2 {@code http_request_duration_seconds_sum}: sums of latencies in seconds, full precision;
 *   <li>2 {@code http_request_duration_seconds_count}: integer counters.
 * </ul>
 *
 * Sources: node_exporter's /proc/stat, /proc/loadavg, /proc/meminfo and hwmon collectors (their
 * units and resolutions), client_golang's histogram (sum as float64 seconds).
 */
final class Mix {
  private Mix() {}

  static Labels labels(int i) {
    int host = i / 100;
    int k = i % 100;
    String inst = "host-" + host + ":9100";
    if (k < 32) {
      String[] modes = {"user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"};
      return node(
          "node_cpu_seconds_total", inst, "cpu", Integer.toString(k / 8), "mode", modes[k % 8]);
    }
    if (k < 40) {
      return node("node_load", inst, "window", Integer.toString(k - 32));
    }
    if (k < 52) {
      return node("node_memory_bytes", inst, "kind", "k" + (k - 40));
    }
    if (k < 64) {
      return node("node_network_receive_bytes_total", inst, "device", "eth" + (k - 52));
    }
    if (k < 68) {
      return node("node_hwmon_temp_celsius", inst, "sensor", "temp" + (k - 64));
    }
    if (k < 72) {
      return Labels.of(
          "__name__",
          "process_cpu_usage_ratio",
          "instance",
          inst,
          "job",
          "api",
          "pid",
          "p" + (k - 68));
    }
    if (k < 96) {
      return bucket(inst, k - 72);
    }
    int route = (k - 96) % 2;
    String name =
        k < 98 ? "http_request_duration_seconds_sum" : "http_request_duration_seconds_count";
    return Labels.of("__name__", name, "instance", inst, "job", "api", "route", "/r" + route);
  }

  private static Labels node(String name, String inst, String k1, String v1) {
    return Labels.of("__name__", name, "instance", inst, "job", "node", k1, v1);
  }

  private static Labels node(String name, String inst, String k1, String v1, String k2, String v2) {
    return Labels.of("__name__", name, "instance", inst, "job", "node", k1, v1, k2, v2);
  }

  static final double[] LE = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Double.POSITIVE_INFINITY
  };

  /** Bucket b of the latency histograms (2 routes × 12 buckets). */
  static Labels bucket(String inst, int b) {
    double le = LE[b % 12];
    return Labels.of(
        "__name__",
        "http_request_duration_seconds_bucket",
        "instance",
        inst,
        "job",
        "api",
        "route",
        "/r" + (b / 12),
        "le",
        Double.isInfinite(le) ? "+Inf" : Double.toString(le));
  }

  /** The next value of series i (state[i] is its last). */
  static double value(int i, double[] state, SplittableRandom r) {
    int k = i % 100;
    double v = state[i];
    if (k < 32) {
      v = round(v + r.nextInt(1500) / 100.0, 100); // seconds, 2 decimals
    } else if (k < 40) {
      v = round(Math.max(0.05, Math.min(4, (v > 100 ? 1 : v) + (r.nextInt(41) - 20) / 100.0)), 100);
    } else if (k < 52) {
      v += (r.nextInt(21) - 10) * 4096;
    } else if (k < 64) {
      v += r.nextInt(500_000);
    } else if (k < 68) {
      v = round((v > 200 ? 45 : v) + (r.nextInt(401) - 200) / 1000.0, 1000); // millidegrees
    } else if (k < 72) {
      v = r.nextDouble(); // a computed ratio: every bit of the mantissa used
    } else if (k < 96) {
      v += r.nextInt(50);
    } else if (k < 98) {
      v += r.nextDouble() * 20; // latency sums: float64 seconds
    } else {
      v += r.nextInt(600);
    }
    state[i] = v;
    return v;
  }

  /** v rounded to 1/scale, as an exporter would print it (the nearest double of the decimal). */
  private static double round(double v, int scale) {
    return Math.round(v * scale) / (double) scale;
  }
}
