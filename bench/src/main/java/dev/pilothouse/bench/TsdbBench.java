package dev.pilothouse.bench;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.xerial.snappy.Snappy;

/**
 * The client side of bench/tsdb.sh: writes the same realistic series (node-exporter-like CPU,
 * memory, disk and network series, and service latency histograms) to any remote-write receiver,
 * and times PromQL queries against any Prometheus-compatible query API.
 *
 * <pre>
 * write URL SERIES HOURS START_MS [PREFIX]   prints "samples=N seconds=S rate=R"
 *   (PREFIX prefixes metric names and jobs: the warm-up's own series)
 * query URL START_S END_S RUNS EXPR  prints "p50_ms=X"
 * </pre>
 *
 * The token for Pilothouse comes from $BENCH_TOKEN.
 */
public final class TsdbBench {
  private TsdbBench() {}

  static final long STEP = 15_000;
  static final HttpClient HTTP =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "write" ->
          write(
              args[1],
              Integer.parseInt(args[2]),
              Integer.parseInt(args[3]),
              Long.parseLong(args[4]),
              args.length > 5 ? args[5] : "");
      case "query" -> query(args[1], args[2], args[3], Integer.parseInt(args[4]), args[5]);
      default -> throw new IllegalArgumentException("write or query");
    }
  }

  /** The labels of series i of n: a mix of node-exporter and service histogram series. */
  static Labels labels(int i) {
    int host = i / 100;
    int k = i % 100;
    String inst = "host-" + host + ":9100";
    if (k < 32) {
      String[] modes = {"user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"};
      return Labels.of(
          "__name__",
          "node_cpu_seconds_total",
          "instance",
          inst,
          "job",
          "node",
          "cpu",
          Integer.toString(k / 8),
          "mode",
          modes[k % 8]);
    }
    if (k < 52) {
      return Labels.of(
          "__name__", "node_memory_bytes", "instance", inst, "job", "node", "kind", "k" + (k - 32));
    }
    if (k < 64) {
      return Labels.of(
          "__name__",
          "node_network_receive_bytes_total",
          "instance",
          inst,
          "job",
          "node",
          "device",
          "eth" + (k - 52));
    }
    double[] le = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Double.POSITIVE_INFINITY
    };
    int b = (k - 64) % 12;
    int route = (k - 64) / 12;
    return Labels.of(
        "__name__",
        "http_request_duration_seconds_bucket",
        "instance",
        inst,
        "job",
        "api",
        "route",
        "/r" + route,
        "le",
        Double.isInfinite(le[b]) ? "+Inf" : Double.toString(le[b]));
  }

  /** Sample j of series i: counters that grow irregularly, gauges that wander. */
  static double value(int i, int j, double[] state, SplittableRandom r) {
    int k = i % 100;
    boolean gauge = k >= 32 && k < 52;
    if (gauge) {
      state[i] += (r.nextInt(21) - 10) * 4096;
    } else {
      state[i] += r.nextInt(k < 32 ? 15 : 500);
    }
    return state[i];
  }

  /**
   * Encodes every request first (4 workers, each with its own series, in time order), then sends
   * them from the 4 workers at once and times only the sending: the receiver is measured, not how
   * fast this client makes protobuf.
   */
  static void write(String url, int series, int hours, long start, String prefix) throws Exception {
    int steps = (int) (hours * 3_600_000L / STEP);
    int threads = 4;
    List<List<byte[]>> perWorker = new ArrayList<>();
    long total = 0;
    for (int worker = 0; worker < threads; worker++) {
      SplittableRandom r = new SplittableRandom(worker);
      double[] state = new double[series];
      Arrays.fill(state, 1000);
      List<byte[]> requests = new ArrayList<>();
      int perReq = 20; // steps per request: 20 x (series/threads) samples
      for (int j = 0; j < steps; j += perReq) {
        List<WriteRequest.TimeSeries> batch = new ArrayList<>();
        int n = Math.min(perReq, steps - j);
        for (int i = worker; i < series; i += threads) {
          long[] ts = new long[n];
          double[] vs = new double[n];
          for (int s = 0; s < n; s++) {
            ts[s] = start + (j + s) * STEP;
            vs[s] = value(i, j + s, state, r);
          }
          Labels l = labels(i);
          if (!prefix.isEmpty()) {
            // Warm-up series: other metric names and jobs than the measured ones.
            l = l.with("__name__", prefix + l.metricName()).with("job", prefix + l.get("job"));
          }
          batch.add(new WriteRequest.TimeSeries(l, ts, vs));
          total += n;
        }
        requests.add(Snappy.compress(WriteRequest.encode(batch)));
      }
      perWorker.add(requests);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<Future<?>> parts = new ArrayList<>();
    for (List<byte[]> requests : perWorker) {
      parts.add(
          pool.submit(
              () -> {
                go.await();
                for (byte[] body : requests) {
                  post(url, body);
                }
                return null;
              }));
    }
    long t0 = System.nanoTime();
    go.countDown();
    for (Future<?> f : parts) {
      f.get();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    pool.shutdown();
    System.out.printf(
        Locale.ROOT, "samples=%d seconds=%.2f rate=%.0f%n", total, secs, total / secs);
  }

  static void post(String url, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    String token = System.getenv("BENCH_TOKEN");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> res = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          "remote write answered " + res.statusCode() + ": " + res.body());
    }
  }

  static void query(String base, String start, String end, int runs, String expr) throws Exception {
    String url =
        base
            + "/api/v1/query_range?query="
            + URLEncoder.encode(expr, StandardCharsets.UTF_8)
            + "&start="
            + start
            + "&end="
            + end
            + "&step=60";
    double[] ms = new double[runs];
    String token = System.getenv("BENCH_TOKEN");
    for (int i = -2; i < runs; i++) { // two warm-up runs
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120));
      if (token != null && !token.isEmpty()) {
        b.header("Authorization", "Bearer " + token);
      }
      long t0 = System.nanoTime();
      HttpResponse<String> res = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      double took = (System.nanoTime() - t0) / 1e6;
      if (res.statusCode() != 200) {
        throw new IllegalStateException("query answered " + res.statusCode() + ": " + res.body());
      }
      if (i >= 0) {
        ms[i] = took;
      }
    }
    Arrays.sort(ms);
    System.out.printf(Locale.ROOT, "p50_ms=%.2f%n", ms[runs / 2]);
  }
}
