package dev.pilothouse.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.xerial.snappy.Snappy;

/**
 * The programs behind bench/alerting.sh.
 *
 * <ul>
 *   <li>{@code rules N GROUPS DIR}: N alerting rules in GROUPS groups (15 s, a file each), each
 *       over its own series: {@code bench_value{i="k"} > 50} held for 1 m, with a templated
 *       summary; plus a group "latency" (1 s) with {@code bench_latency > 0}.
 *   <li>{@code push URL N}: remote-writes the current value of N series (half of them above the
 *       threshold) and {@code bench_latency 0}.
 *   <li>{@code evaluation URL}: the summed evaluationTime of the "bench" groups in /api/v1/rules
 *       (the same API in Prometheus and Pilothouse), and the number of firing or pending alerts.
 *   <li>{@code latency URL PORT RUNS}: listens for webhooks on PORT and, RUNS times, pushes {@code
 *       bench_latency{run="K"} 1} (a new alert in a new group each time) and prints the seconds
 *       until its notification arrives.
 * </ul>
 */
public final class AlertingBench {
  private AlertingBench() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "rules" -> rules(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Path.of(args[3]));
      case "push" -> push(args[1], Integer.parseInt(args[2]), 0, "0");
      case "evaluation" -> evaluation(args[1]);
      case "latency" -> latency(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      default -> throw new IllegalArgumentException("rules, push, evaluation or latency");
    }
  }

  static void rules(int n, int groups, Path dir) throws Exception {
    // One file per group, as users split them (a file is limited to 1 MiB).
    int per = (n + groups - 1) / groups;
    for (int g = 0; g < groups; g++) {
      StringBuilder sb = new StringBuilder("groups:\n");
      sb.append("- name: bench-").append(g).append("\n  interval: 15s\n  rules:\n");
      for (int i = g * per; i < Math.min(n, (g + 1) * per); i++) {
        sb.append("  - alert: BenchHigh").append(i).append('\n');
        sb.append("    expr: bench_value{i=\"").append(i).append("\"} > 50\n");
        sb.append("    for: 1m\n");
        sb.append("    labels: {severity: ticket}\n");
        sb.append("    annotations: {summary: '{{ $labels.i }} at {{ $value | humanize }}'}\n");
      }
      Files.writeString(dir.resolve("bench-" + g + ".yml"), sb);
    }
    Files.writeString(
        dir.resolve("latency.yml"),
        "groups:\n- name: latency\n  interval: 1s\n  rules:\n"
            + "  - alert: BenchLatency\n    expr: bench_latency > 0\n");
  }

  static void push(String url, int n, double latency, String run) throws Exception {
    long now = System.currentTimeMillis();
    List<WriteRequest.TimeSeries> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batch.add(
          new WriteRequest.TimeSeries(
              Labels.of("__name__", "bench_value", "i", Integer.toString(i), "job", "bench"),
              new long[] {now},
              new double[] {i % 2 == 0 ? 80 : 20}));
    }
    batch.add(
        new WriteRequest.TimeSeries(
            Labels.of("__name__", "bench_latency", "job", "bench", "run", run),
            new long[] {now},
            new double[] {latency}));
    send(url, Snappy.compress(WriteRequest.encode(batch)));
  }

  private static void send(String url, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    String token = System.getenv("BENCH_TOKEN");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = TsdbBench.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("remote write answered " + r.statusCode() + ": " + r.body());
    }
  }

  static JsonNode get(String url) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    String token = System.getenv("BENCH_TOKEN");
    if (token != null && !token.isEmpty()) {
      b.header("Authorization", "Bearer " + token);
    }
    return new ObjectMapper()
        .readTree(TsdbBench.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  static void evaluation(String base) throws Exception {
    JsonNode groups = get(base + "/api/v1/rules").path("data").path("groups");
    double seconds = 0;
    int rules = 0;
    int active = 0;
    int unhealthy = 0;
    for (JsonNode g : groups) {
      if (!g.path("name").asText().startsWith("bench-")) {
        continue;
      }
      seconds += g.path("evaluationTime").asDouble();
      for (JsonNode r : g.path("rules")) {
        rules++;
        active += r.path("alerts").size();
        unhealthy += r.path("health").asText().equals("ok") ? 0 : 1;
      }
    }
    System.out.printf(
        Locale.ROOT,
        "eval_s=%.4f rules=%d alerts=%d unhealthy=%d%n",
        seconds,
        rules,
        active,
        unhealthy);
  }

  static void latency(String base, int port, int runs) throws Exception {
    java.util.Map<String, Long> arrived = new java.util.concurrent.ConcurrentHashMap<>();
    HttpServer hook = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    hook.createContext(
        "/hook",
        x -> {
          String body = new String(x.getRequestBody().readAllBytes());
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("\"run\":\"(\\d+)\"").matcher(body);
          if (body.contains("BenchLatency") && body.contains("\"status\":\"firing\"") && m.find()) {
            arrived.putIfAbsent(m.group(1), System.nanoTime());
          }
          x.sendResponseHeaders(200, -1);
          x.close();
        });
    hook.start();
    try {
      List<Double> seconds = new ArrayList<>();
      for (int run = 1; run <= runs; run++) {
        String key = Integer.toString(run);
        long t0 = System.nanoTime();
        push(base + "/api/v1/write", 0, 1, key); // a new alert, in a new group (group_by run)
        long deadline = t0 + TimeUnit.SECONDS.toNanos(60);
        while (!arrived.containsKey(key) && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        if (!arrived.containsKey(key)) {
          throw new IllegalStateException("no notification of run " + run + " within 60 s");
        }
        seconds.add((arrived.get(key) - t0) / 1e9);
        Thread.sleep(700); // a different phase of the 1 s evaluation for the next run
      }
      for (double v : seconds) {
        System.out.printf(Locale.ROOT, "latency_s=%.3f%n", v);
      }
    } finally {
      hook.stop(0);
    }
  }
}
