package dev.pilothouse.proxy;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data plane's RED metrics per route, service, version and instance: read in-process by
 * controllers (canary analysis, autoscaling) and rendered in Prometheus text format.
 */
public final class ProxyMetrics {
  private final ConcurrentHashMap<String, Series> series = new ConcurrentHashMap<>();
  private volatile java.util.function.LongSupplier accessLogDropped = () -> 0;

  /** Where the count of access-log lines dropped (writer behind) comes from. */
  void accessLogDropped(java.util.function.LongSupplier dropped) {
    this.accessLogDropped = dropped;
  }

  Series series(String route, String service, String version, String instance) {
    String key = route + '\u0000' + service + '\u0000' + version + '\u0000' + instance;
    Series s = series.get(key);
    return s != null
        ? s
        : series.computeIfAbsent(key, k -> new Series(route, service, version, instance));
  }

  Collection<Series> all() {
    return series.values();
  }

  /**
   * Traffic of one service version (all its instances) that finished at or after sinceNanos (a
   * {@link Ticker#nanoTime()} value): counts and latency samples, for statistical analysis.
   */
  public Window window(String service, String version, long sinceNanos) {
    Window w = new Window();
    for (Series s : series.values()) {
      if (s.service.equals(service) && s.version.equals(version) && !s.instance.isEmpty()) {
        s.samplesSince(sinceNanos, w::add);
      }
    }
    return w;
  }

  /** Traffic of these instances (backend ids) that finished at or after sinceNanos. */
  public Window window(java.util.Set<String> instances, long sinceNanos) {
    Window w = new Window();
    for (Series s : series.values()) {
      if (instances.contains(s.instance)) {
        s.samplesSince(sinceNanos, w::add);
      }
    }
    return w;
  }

  /** Totals of one series, for tests and status output. */
  public record Totals(
      long requests,
      long status2xx,
      long status4xx,
      long status5xx,
      long transportErrors,
      long retries,
      long ejections,
      int inFlight) {}

  /** Totals over every series matching service (and instance when not null). */
  public Totals totals(String service, String instance) {
    return sum(s -> s.service.equals(service) && (instance == null || s.instance.equals(instance)));
  }

  /** Totals over every series of one instance (backend id), whichever route or version. */
  public Totals instanceTotals(String instance) {
    return sum(s -> s.instance.equals(instance));
  }

  private Totals sum(java.util.function.Predicate<Series> which) {
    long req = 0;
    long s2 = 0;
    long s4 = 0;
    long s5 = 0;
    long te = 0;
    long rt = 0;
    long ej = 0;
    int inflight = 0;
    for (Series s : series.values()) {
      if (!which.test(s)) {
        continue;
      }
      for (int i = 0; i < 6; i++) {
        req += s.byClass[i].sum();
      }
      s2 += s.byClass[2].sum();
      s4 += s.byClass[4].sum();
      s5 += s.byClass[5].sum();
      te += s.byClass[0].sum();
      rt += s.retries.sum();
      ej += s.ejections.sum();
      inflight += s.inFlight.get();
    }
    return new Totals(req, s2, s4, s5, te, rt, ej, inflight);
  }

  /** Recent requests of one service version. */
  public static final class Window {
    private int requests;
    private int failures;
    private double[] latenciesMs = new double[64];

    void add(int status, int micros) {
      if (requests == latenciesMs.length) {
        latenciesMs = java.util.Arrays.copyOf(latenciesMs, requests * 2);
      }
      latenciesMs[requests++] = micros / 1000.0;
      if (status <= 0 || status >= 500) {
        failures++;
      }
    }

    public int requests() {
      return requests;
    }

    /** 5xx answers and transport errors. */
    public int failures() {
      return failures;
    }

    /** Latency of each request in milliseconds. */
    public double[] latenciesMs() {
      return java.util.Arrays.copyOf(latenciesMs, requests);
    }
  }

  /** Every series in Prometheus text exposition format. */
  public String prometheus() {
    List<Series> list = new ArrayList<>(series.values());
    list.sort((a, b) -> labels(a).compareTo(labels(b)));
    StringBuilder b = new StringBuilder(4096);
    b.append(
        "# HELP pilothouse_proxy_requests_total Requests through the proxy by status class (class=\"error\": no response).\n");
    b.append("# TYPE pilothouse_proxy_requests_total counter\n");
    String[] classes = {"error", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (Series s : list) {
      for (int i = 0; i < 6; i++) {
        long v = s.byClass[i].sum();
        // 2xx, 4xx, 5xx and errors start at 0, so that rate() sees their first increase (a
        // series that appears at 3 loses those 3: SLOs would miss the first errors).
        if (v > 0 || i == 0 || i == 2 || i == 4 || i == 5) {
          b.append("pilothouse_proxy_requests_total{")
              .append(labels(s))
              .append(",class=\"")
              .append(classes[i])
              .append("\"} ")
              .append(v)
              .append('\n');
        }
      }
    }
    b.append(
        "# HELP pilothouse_proxy_request_duration_seconds Time from request start to response end.\n");
    b.append("# TYPE pilothouse_proxy_request_duration_seconds histogram\n");
    for (Series s : list) {
      long cumulative = 0;
      for (int i = 0; i < Series.BUCKETS.length; i++) {
        cumulative += s.buckets[i].sum();
        b.append("pilothouse_proxy_request_duration_seconds_bucket{")
            .append(labels(s))
            .append(",le=\"")
            .append(fmt(Series.BUCKETS[i]))
            .append("\"} ")
            .append(cumulative)
            .append('\n');
      }
      long count = s.count.sum();
      b.append("pilothouse_proxy_request_duration_seconds_bucket{")
          .append(labels(s))
          .append(",le=\"+Inf\"} ")
          .append(count)
          .append('\n');
      b.append("pilothouse_proxy_request_duration_seconds_sum{")
          .append(labels(s))
          .append("} ")
          .append(fmt(s.sumMicros.sum() / 1e6))
          .append('\n');
      b.append("pilothouse_proxy_request_duration_seconds_count{")
          .append(labels(s))
          .append("} ")
          .append(count)
          .append('\n');
    }
    gauge(
        b,
        list,
        "pilothouse_proxy_requests_in_flight",
        "gauge",
        "Requests being served.",
        s -> s.inFlight.get());
    gauge(
        b,
        list,
        "pilothouse_proxy_retries_total",
        "counter",
        "Retries sent to another instance.",
        s -> s.retries.sum());
    gauge(
        b,
        list,
        "pilothouse_proxy_ejections_total",
        "counter",
        "Times an instance was ejected as an outlier.",
        s -> s.ejections.sum());
    b.append(
        "# HELP pilothouse_proxy_access_log_dropped_total Access-log lines dropped because the"
            + " writer fell behind.\n");
    b.append("# TYPE pilothouse_proxy_access_log_dropped_total counter\n");
    b.append("pilothouse_proxy_access_log_dropped_total ")
        .append(accessLogDropped.getAsLong())
        .append('\n');
    return b.toString();
  }

  private static void gauge(
      StringBuilder b,
      List<Series> list,
      String name,
      String type,
      String help,
      java.util.function.ToLongFunction<Series> f) {
    b.append("# HELP ").append(name).append(' ').append(help).append('\n');
    b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    for (Series s : list) {
      b.append(name)
          .append('{')
          .append(labels(s))
          .append("} ")
          .append(f.applyAsLong(s))
          .append('\n');
    }
  }

  private static String labels(Series s) {
    return "route=\""
        + esc(s.route)
        + "\",service=\""
        + esc(s.service)
        + "\",version=\""
        + esc(s.version)
        + "\",instance=\""
        + esc(s.instance)
        + "\"";
  }

  private static String esc(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  private static String fmt(double d) {
    return String.format(Locale.ROOT, "%s", d);
  }
}
