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
 * warm-write URL SERIES HOURS START_MS ROUNDS WARMUP_START_MS [GO_FILE]
 *                                    ROUNDS x SERIES warm-up series over an hour (untimed), then
 *                                    the write above; prints "samples=N seconds=S rate=R
 *                                    warmup_samples=W warmup_rate=X"
 * query URL START_S END_S RUNS EXPR  prints "p50_ms=X"
 * count URL TIME_S RANGE_S           prints "samples=N": the samples stored of every metric of
 *                                    the mix (warm-up excluded), by count_over_time per metric
 * save URL TIME_S EXPR FILE          writes an instant query's result to FILE
 * check FILE URL TIME_S EXPR         prints "same series=N", or the first difference and exits 1
 * </pre>
 *
 * The token for Pilothouse comes from $BENCH_TOKEN. $BENCH_DATA chooses the values: "realistic"
 * (the default) or "integer" (every value a whole number: the data of sessions 1-3).
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
      case "warm-write" ->
          warmWrite(
              args[1],
              Integer.parseInt(args[2]),
              Integer.parseInt(args[3]),
              Long.parseLong(args[4]),
              Integer.parseInt(args[5]),
              Long.parseLong(args[6]),
              args.length > 7 ? args[7] : null);
      case "query" -> query(args[1], args[2], args[3], Integer.parseInt(args[4]), args[5]);
      case "count" -> count(args[1], args[2], args[3]);
      case "save" ->
          java.nio.file.Files.writeString(
              java.nio.file.Path.of(args[4]), instant(args[1], args[2], args[3]));
      case "check" ->
          System.exit(
              check(
                  java.nio.file.Files.readString(java.nio.file.Path.of(args[1])),
                  instant(args[2], args[3], args[4])));
      default ->
          throw new IllegalArgumentException("write, warm-write, query, count, save or check");
    }
  }

  /** Whether values are the realistic mix (fractions as real exporters send them). */
  static final boolean REALISTIC = !"integer".equals(System.getenv("BENCH_DATA"));

  /**
   * The labels of series i: per host of 100 series, the integer-only mix of sessions 1-3, or the
   * realistic mix (see {@link #value}).
   */
  static Labels labels(int i) {
    return REALISTIC ? Mix.labels(i) : integerLabels(i);
  }

  /** Every metric name of the mix in use (for counting what a store holds). */
  static List<String> names() {
    java.util.TreeSet<String> n = new java.util.TreeSet<>();
    for (int i = 0; i < 100; i++) {
      n.add(labels(i).metricName());
    }
    return List.copyOf(n);
  }

  static Labels integerLabels(int i) {
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
    return Mix.bucket(inst, k - 64);
  }

  /** Sample j of series i (state[i] carries the series' last value). */
  static double value(int i, int j, double[] state, SplittableRandom r) {
    if (REALISTIC) {
      return Mix.value(i, state, r);
    }
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
    Encoded measured = encode(0, series, hours, start, prefix);
    double secs = send(url, measured);
    System.out.printf(
        Locale.ROOT,
        "samples=%d seconds=%.2f rate=%.0f%n",
        measured.samples,
        secs,
        measured.samples / secs);
  }

  /**
   * A warm-up and a timed write in one run, all encoded before anything is sent: ROUNDS rounds of
   * SERIES other series each (prefix warmup_, requests as large as the measured ones) over the hour
   * from WARMUP_START_MS, sent untimed, then SERIES series over HOURS hours from START_MS, timed.
   * With GO_FILE the script chooses when each part starts (Pilothouse's compaction ticks, see
   * bench/tsdb.sh): the run creates GO_FILE.ready once encoded and waits for GO_FILE.1, sends the
   * warm-up, creates GO_FILE.warm and waits for GO_FILE.2, then sends the timed write.
   */
  static void warmWrite(
      String url, int series, int hours, long start, int rounds, long warmupStart, String goFile)
      throws Exception {
    List<Encoded> warmup = new ArrayList<>();
    for (int k = 0; k < rounds; k++) {
      warmup.add(encode(k * series, series, 1, warmupStart, "warmup_"));
    }
    Encoded measured = encode(0, series, hours, start, "");
    signal(goFile, ".ready");
    await(goFile, ".1");
    double warmupSecs = 0;
    long warmupSamples = 0;
    for (Encoded e : warmup) {
      warmupSecs += send(url, e);
      warmupSamples += e.samples;
    }
    signal(goFile, ".warm");
    await(goFile, ".2");
    double secs = send(url, measured);
    System.out.printf(
        Locale.ROOT,
        "samples=%d seconds=%.2f rate=%.0f warmup_samples=%d warmup_rate=%.0f%n",
        measured.samples,
        secs,
        measured.samples / secs,
        warmupSamples,
        warmupSamples / warmupSecs);
  }

  private static void signal(String goFile, String suffix) throws java.io.IOException {
    if (goFile != null) {
      java.nio.file.Files.createFile(java.nio.file.Path.of(goFile + suffix));
    }
  }

  private static void await(String goFile, String suffix) throws InterruptedException {
    if (goFile == null) {
      return;
    }
    java.nio.file.Path go = java.nio.file.Path.of(goFile + suffix);
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (!java.nio.file.Files.exists(go)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(go + " did not appear within 10 minutes");
      }
      Thread.sleep(20);
    }
  }

  /** The encoded requests of one write, per worker, and how many samples they hold. */
  record Encoded(List<List<byte[]>> perWorker, long samples) {}

  static final int WORKERS = 4;

  /**
   * Series first .. first + count - 1 over HOURS hours from start, PREFIX before names and jobs.
   */
  static Encoded encode(int first, int count, int hours, long start, String prefix)
      throws Exception {
    int series = first + count;
    int steps = (int) (hours * 3_600_000L / STEP);
    List<List<byte[]>> perWorker = new ArrayList<>();
    long total = 0;
    for (int worker = 0; worker < WORKERS; worker++) {
      SplittableRandom r = new SplittableRandom(worker);
      double[] state = new double[series];
      Arrays.fill(state, 1000);
      List<byte[]> requests = new ArrayList<>();
      int perReq = 20; // steps per request: 20 x (series/WORKERS) samples
      for (int j = 0; j < steps; j += perReq) {
        List<WriteRequest.TimeSeries> batch = new ArrayList<>();
        int n = Math.min(perReq, steps - j);
        for (int i = first + worker; i < series; i += WORKERS) {
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
    return new Encoded(perWorker, total);
  }

  /** Sends every worker's requests at once, in order per worker; returns the seconds it took. */
  static double send(String url, Encoded e) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    List<Future<?>> parts = new ArrayList<>();
    for (List<byte[]> requests : e.perWorker) {
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
    try {
      for (Future<?> f : parts) {
        f.get();
      }
    } finally {
      pool.shutdownNow(); // a refused request ends the run instead of leaving the JVM waiting
    }
    return (System.nanoTime() - t0) / 1e9;
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
    // Untimed warm-up runs first (QUERY_WARMUP, default 20, the same for every store): the
    // figure is the steady state of a dashboard that asks the same queries again and again, not
    // the JIT's first compilations of the query engine.
    int warmup = Integer.parseInt(System.getenv().getOrDefault("QUERY_WARMUP", "20"));
    for (int i = -warmup; i < runs; i++) {
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

  static HttpResponse<String> get(String url) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120));
    String token = System.getenv("BENCH_TOKEN");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> res = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) {
      throw new IllegalStateException("query answered " + res.statusCode() + ": " + res.body());
    }
    return res;
  }

  /** An instant query's raw JSON answer. */
  static String instant(String base, String time, String expr) throws Exception {
    return get(base
            + "/api/v1/query?query="
            + URLEncoder.encode(expr, StandardCharsets.UTF_8)
            + "&time="
            + time)
        .body();
  }

  static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** The samples a store holds of each metric of the mix, summed: every one sent must be there. */
  static void count(String base, String time, String rangeS) throws Exception {
    long total = 0;
    for (String name : names()) {
      var res =
          JSON.readTree(instant(base, time, "sum(count_over_time(" + name + "[" + rangeS + "s]))"))
              .path("data")
              .path("result");
      if (!res.isEmpty()) {
        total += (long) Double.parseDouble(res.get(0).path("value").get(1).asText());
      }
    }
    System.out.println("samples=" + total);
  }

  /** 0 when two instant-query answers hold the same series with equal values (1e-9 relative). */
  static int check(String expected, String actual) throws Exception {
    java.util.Map<String, Double> a = vector(expected);
    java.util.Map<String, Double> b = vector(actual);
    if (!a.keySet().equals(b.keySet())) {
      java.util.Set<String> only = new java.util.TreeSet<>(a.keySet());
      only.removeAll(b.keySet());
      System.out.println("DIFFERENT series: " + a.size() + " vs " + b.size() + ", e.g. " + only);
      return 1;
    }
    for (var e : a.entrySet()) {
      double x = e.getValue();
      double y = b.get(e.getKey());
      boolean same =
          Double.compare(x, y) == 0 || Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
      if (!same) {
        System.out.println("DIFFERENT value of " + e.getKey() + ": " + x + " vs " + y);
        return 1;
      }
    }
    System.out.println("same series=" + a.size());
    return 0;
  }

  private static java.util.Map<String, Double> vector(String json) throws Exception {
    java.util.Map<String, Double> out = new java.util.TreeMap<>();
    for (var s : JSON.readTree(json).path("data").path("result")) {
      out.put(
          new java.util.TreeMap<>(JSON.convertValue(s.path("metric"), java.util.Map.class))
              .toString(),
          Double.parseDouble(s.path("value").get(1).asText().replace("Inf", "Infinity")));
    }
    return out;
  }
}
