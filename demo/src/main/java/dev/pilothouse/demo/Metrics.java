package dev.pilothouse.demo;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.DoubleAdder;

/** Request counters by status code and a latency histogram, in Prometheus text format. */
final class Metrics {
  static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final Map<Integer, AtomicLong> byCode = new ConcurrentHashMap<>();
  private final AtomicLongArray buckets = new AtomicLongArray(BUCKETS.length);
  private final AtomicLong count = new AtomicLong();
  private final DoubleAdder sum = new DoubleAdder();
  private final AtomicLong conversions = new AtomicLong();

  /** A visit to /buy that ended in a purchase (the A/B example's conversion). */
  void converted() {
    conversions.incrementAndGet();
  }

  void record(int code, double seconds) {
    byCode.computeIfAbsent(code, c -> new AtomicLong()).incrementAndGet();
    for (int i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        buckets.incrementAndGet(i);
      }
    }
    count.incrementAndGet();
    sum.add(seconds);
  }

  String render(String version) {
    StringBuilder b = new StringBuilder();
    b.append("# HELP demo_requests_total Requests to / by status code.\n");
    b.append("# TYPE demo_requests_total counter\n");
    byCode.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e ->
                b.append("demo_requests_total{code=\"")
                    .append(e.getKey())
                    .append("\",version=\"")
                    .append(version)
                    .append("\"} ")
                    .append(e.getValue().get())
                    .append('\n'));
    b.append("# HELP demo_request_duration_seconds Latency of requests to /.\n");
    b.append("# TYPE demo_request_duration_seconds histogram\n");
    for (int i = 0; i < BUCKETS.length; i++) {
      b.append("demo_request_duration_seconds_bucket{le=\"")
          .append(fmt(BUCKETS[i]))
          .append("\"} ")
          .append(buckets.get(i))
          .append('\n');
    }
    b.append("demo_request_duration_seconds_bucket{le=\"+Inf\"} ").append(count.get()).append('\n');
    b.append("demo_request_duration_seconds_sum ").append(fmt(sum.sum())).append('\n');
    b.append("demo_request_duration_seconds_count ").append(count.get()).append('\n');
    b.append("# HELP demo_conversions_total Visits to /buy that ended in a purchase.\n");
    b.append("# TYPE demo_conversions_total counter\n");
    b.append("demo_conversions_total ").append(conversions.get()).append('\n');
    return b.toString();
  }

  private static String fmt(double d) {
    return String.format(Locale.ROOT, "%s", d);
  }
}
