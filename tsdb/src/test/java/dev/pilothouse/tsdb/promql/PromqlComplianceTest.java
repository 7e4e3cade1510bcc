package dev.pilothouse.tsdb.promql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the same PromQL queries against real Prometheus (from Debian's package, fed the same samples
 * with {@code promtool tsdb create-blocks-from openmetrics}) and against our engine, and compares
 * every result: type, label sets, timestamps and values.
 */
class PromqlComplianceTest {
  @TempDir static Path tmp;
  static Process prometheus;
  static String base;
  static Tsdb db;
  static Engine engine;
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  static final List<String> QUERIES =
      List.of(
          // selectors
          "up",
          "up{job=\"api\"}",
          "up{job!=\"api\"}",
          "up{job=~\"a.*\"}",
          "up{job!~\"a.*\"}",
          "http_requests_total{code=\"500\",method=~\"G.*\"}",
          "{__name__=~\"http_requests_total|up\",job=\"web\"}",
          "http_requests_total offset 5m",
          "http_requests_total @ 1700001800",
          "gappy",
          "temperature",
          "version_info",
          "memory_usage_bytes offset 10m",
          "up @ start()",
          "up{job=\"api\"} @ end()",
          // range functions
          "rate(http_requests_total[5m])",
          "rate(http_requests_total[1m])",
          "rate(http_requests_total{job=\"api\"}[10m] offset 5m)",
          "irate(http_requests_total[5m])",
          "increase(http_requests_total[5m])",
          "increase(http_requests_total[1h])",
          "delta(memory_usage_bytes[5m])",
          "idelta(memory_usage_bytes[5m])",
          "deriv(memory_usage_bytes[10m])",
          "predict_linear(memory_usage_bytes[10m], 3600)",
          "resets(http_requests_total[1h])",
          "changes(up[1h])",
          "changes(temperature[10m])",
          "avg_over_time(memory_usage_bytes[5m])",
          "min_over_time(temperature[10m])",
          "max_over_time(temperature[10m])",
          "sum_over_time(up[5m])",
          "count_over_time(gappy[5m])",
          "last_over_time(gappy[15m])",
          "quantile_over_time(0.9, memory_usage_bytes[10m])",
          "quantile_over_time(0.5, temperature[30m])",
          "stddev_over_time(memory_usage_bytes[10m])",
          "stdvar_over_time(temperature[10m])",
          "absent_over_time(gappy[5m])",
          "absent_over_time(nonexistent{job=\"x\"}[5m])",
          "present_over_time(gappy[5m])",
          "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
          "avg_over_time(gappy[5m])",
          "rate(gappy[10m])",
          "deriv(gappy[10m])",
          "predict_linear(gappy[15m], 600)",
          "last_over_time(temperature[1m] offset 30m)",
          "count_over_time({__name__=~\"temperature|gappy\"}[10m])",
          "rate(http_requests_total[5m] @ 1700001800)",
          "increase(http_requests_total{job=\"web\"}[30m]) / 60",
          // histograms
          "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
          "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
          "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[10m])))",
          "histogram_quantile(0, http_request_duration_seconds_bucket)",
          "histogram_quantile(1, http_request_duration_seconds_bucket)",
          "histogram_quantile(1.5, http_request_duration_seconds_bucket)",
          "histogram_quantile(-1, http_request_duration_seconds_bucket)",
          "histogram_quantile(0.75, sum by (le, instance) (increase(http_request_duration_seconds_bucket[15m])))",
          // aggregations
          "sum(http_requests_total)",
          "sum by (job) (rate(http_requests_total[5m]))",
          "sum without (instance) (rate(http_requests_total[5m]))",
          "avg by (instance) (memory_usage_bytes)",
          "min(temperature)",
          "max by (job) (memory_usage_bytes)",
          "count(up)",
          "count by (job) (up == 1)",
          "group by (job) (http_requests_total)",
          "stddev(memory_usage_bytes)",
          "stdvar by (job) (memory_usage_bytes)",
          "topk(3, rate(http_requests_total[5m]))",
          "bottomk(2, memory_usage_bytes)",
          "topk by (job) (1, memory_usage_bytes)",
          "quantile(0.5, rate(http_requests_total[5m]))",
          "quantile by (job) (0.9, memory_usage_bytes)",
          "quantile(0.25, temperature)",
          "count_values(\"value\", up)",
          "count_values by (job) (\"v\", up)",
          "count_values(\"t\", temperature)",
          "sum(rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])) by (instance)",
          "avg without (cpu) (rate(node_cpu_seconds_total[5m]))",
          "sum by (mode) (irate(node_cpu_seconds_total[1m]))",
          "max(max_over_time(temperature[1h]))",
          "count(count by (job) (up))",
          "sum(up) by (job) > 1",
          "avg(temperature)",
          "sum by (__name__) ({__name__=~\"up|version_info\"})",
          "sum(http_requests_total) without (method, code)",
          "count(http_requests_total) by (code)",
          "topk(1, sum by (job) (rate(http_requests_total[5m])))",
          "bottomk(1, sum by (instance, job) (memory_usage_bytes))",
          "stddev by (job) (rate(http_requests_total[5m]))",
          "sum(up) + sum(version_info)",
          "1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))",
          "sum by (job) (increase(http_requests_total[10m])) > bool 100",
          "sum by (job) (rate(http_requests_total{code=\"500\"}[5m])) / sum by (job) (rate(http_requests_total[5m]))",
          "group(temperature)",
          "topk(2, temperature)",
          "max without (room) (temperature)",
          // arithmetic and vector matching
          "http_requests_total * 2",
          "2 * http_requests_total",
          "http_requests_total + http_requests_total",
          "memory_usage_bytes / 1024 / 1024",
          "memory_usage_bytes % 1000",
          "up ^ 2",
          "2 ^ up",
          "-memory_usage_bytes",
          "-up",
          "memory_usage_bytes - on(job, instance) memory_usage_bytes offset 5m",
          "rate(http_requests_total[5m]) / on(job, instance) group_left sum by (job, instance) (rate(http_requests_total[5m]))",
          "http_requests_total * on(job) group_left(version) version_info",
          "version_info * on(job) group_right(version) http_requests_total",
          "sum by (job, instance, code) (rate(http_requests_total[5m])) / ignoring(code) group_left sum by (job, instance) (rate(http_requests_total[5m]))",
          "up * ignoring(job) up",
          "http_requests_total + on(job) up",
          "memory_usage_bytes atan2 memory_usage_bytes offset 1m",
          "http_requests_total{job=\"api\"} / on(instance, method, code) http_requests_total{job=\"web\"}",
          "sum by (room) (temperature) * 2 + 1",
          "memory_usage_bytes / on(job, instance) group_left() up",
          "memory_usage_bytes - ignoring(instance) group_left sum by (job) (memory_usage_bytes)",
          // comparisons
          "temperature > 0",
          "temperature < bool 0",
          "up == 1",
          "up != bool 0",
          "memory_usage_bytes >= 5e8",
          "5e8 <= memory_usage_bytes",
          "1 > bool up",
          "memory_usage_bytes > on(job, instance) memory_usage_bytes offset 1m",
          "memory_usage_bytes > bool on(job, instance) memory_usage_bytes offset 1m",
          "temperature == temperature",
          "temperature != bool temperature",
          "rate(http_requests_total[5m]) > 0.5",
          // set operators
          "up and on(job) version_info",
          "up or temperature",
          "up unless up{job=\"api\"}",
          "http_requests_total{code=\"500\"} and ignoring(code) http_requests_total{code=\"200\"}",
          "rate(http_requests_total[5m]) > 0.5 or rate(http_requests_total[5m]) < 0.1",
          "up{instance=\"a:9100\"} or on(job) up",
          "vector(1) and on() up",
          "up unless on(job) version_info{job=\"web\"}",
          "(up == 1) or (up == 0)",
          // scalars
          "1 + 2",
          "2 * 3 ^ 2",
          "(1 + 2) * 3",
          "10 % 3",
          "-5 + 2",
          "1 == bool 1",
          "2 ^ -1",
          "time()",
          "scalar(sum(up))",
          "scalar(up)",
          "vector(time())",
          "vector(1) + 1",
          "pi()",
          "scalar(sum(up)) * up",
          "1 / 0",
          "-1 / 0",
          "0 / 0",
          "time() - 1700000000",
          // functions
          "abs(temperature)",
          "ceil(temperature)",
          "floor(temperature)",
          "round(temperature)",
          "round(temperature, 0.5)",
          "exp(up)",
          "ln(memory_usage_bytes)",
          "log2(memory_usage_bytes)",
          "log2(up * 8)",
          "log10(memory_usage_bytes)",
          "sqrt(memory_usage_bytes)",
          "clamp(temperature, -2, 2)",
          "clamp_min(temperature, 0)",
          "clamp_max(temperature, -1)",
          "clamp(temperature, 5, 1)",
          "sgn(temperature)",
          "absent(up)",
          "absent(nonexistent)",
          "absent(nonexistent{job=\"x\", instance=~\"y\"})",
          "absent(nonexistent{job=\"x\", job=\"y\"})",
          "absent(sum(nonexistent))",
          "timestamp(up)",
          "timestamp(gappy)",
          "timestamp(up offset 5m)",
          "sort(memory_usage_bytes)",
          "sort_desc(rate(http_requests_total[5m]))",
          "sort(temperature)",
          "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
          "label_replace(up, \"job\", \"\", \"job\", \"api\")",
          "label_replace(up, \"foo\", \"bar-$1-${2}\", \"instance\", \"(\\\\w+):(\\\\d+)\")",
          "label_replace(up, \"foo\", \"x\", \"nonexistent\", \"\")",
          "label_join(up, \"combo\", \"/\", \"job\", \"instance\")",
          "label_join(up, \"job\", \"\", \"instance\")",
          "hour()",
          "minute(vector(1700001234))",
          "day_of_week()",
          "month()",
          "year()",
          "days_in_month()",
          // subqueries
          "max_over_time(rate(http_requests_total[1m])[10m:1m])",
          "avg_over_time(up[10m:30s])",
          "sum(rate(http_requests_total[5m] offset 10m))",
          "min_over_time(sum by (job) (memory_usage_bytes)[15m:])",
          "rate(sum by (job) (http_requests_total)[5m:1m])");

  /** Evaluation times of instant queries: inside the data, in gappy's gap, at its end. */
  static final List<Long> TIMES =
      List.of(TestData.START + 600_000, TestData.START + 1_520_000, TestData.END);

  @BeforeAll
  static void start() throws Exception {
    Path bin = Path.of("/usr/bin/prometheus");
    assertThat(bin)
        .as("Prometheus from Debian's package (apt-get install prometheus; ./test installs it)")
        .exists();
    List<TestData.S> data = TestData.generate();
    Path om = tmp.resolve("data.om");
    Files.writeString(om, TestData.openMetrics(data));
    Path promData = tmp.resolve("prometheus");
    Files.createDirectories(promData);
    Process create =
        new ProcessBuilder(
                "/usr/bin/promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                om.toString(),
                promData.toString())
            .redirectErrorStream(true)
            .start();
    String createOut = new String(create.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(create.waitFor()).as(createOut).isZero();
    Path cfg = tmp.resolve("prometheus.yml");
    Files.writeString(cfg, "global:\n  evaluation_interval: 1m\n");
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    base = "http://127.0.0.1:" + port;
    prometheus =
        new ProcessBuilder(
                bin.toString(),
                "--config.file=" + cfg,
                "--storage.tsdb.path=" + promData,
                "--storage.tsdb.retention.time=100y",
                "--web.listen-address=127.0.0.1:" + port,
                "--query.lookback-delta=5m")
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("prometheus.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(base + "/-/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          break;
        }
      } catch (IOException e) {
        // not up yet
      }
      if (System.nanoTime() > deadline || !prometheus.isAlive()) {
        throw new AssertionError(
            "Prometheus did not start: " + Files.readString(tmp.resolve("prometheus.log")));
      }
      Thread.sleep(200);
    }
    db = Tsdb.open(tmp.resolve("ours"), Tsdb.Options.defaults());
    TestData.appendTo(db, data);
    engine =
        new Engine(
            (mint, maxt, ms, budget) -> db.select(mint, maxt, ms, budget),
            Engine.Options.defaults());
  }

  @AfterAll
  static void stop() throws Exception {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
    if (db != null) {
      db.close();
    }
  }

  @Test
  void ourResultsEqualPrometheus() throws Exception {
    assertThat(QUERIES).hasSizeGreaterThanOrEqualTo(150).doesNotHaveDuplicates();
    List<String> mismatches = new ArrayList<>();
    int compared = 0;
    for (String q : QUERIES) {
      for (long t : TIMES) {
        compared++;
        JsonNode theirs = prom("/api/v1/query?query=" + enc(q) + "&time=" + secs(t));
        String ours;
        try {
          ours = render(engine.instant(q, t), q);
        } catch (ParseException | EvalException e) {
          ours = "error";
        }
        String want =
            theirs.path("status").asText().equals("success")
                ? render(theirs.get("data"), q)
                : "error";
        if (!same(want, ours)) {
          mismatches.add(
              q + " @ " + secs(t) + "\n  prometheus: " + want + "\n  ours:       " + ours);
        }
      }
      long start = TestData.START + 600_000;
      long step = 120_000;
      compared++;
      JsonNode theirs =
          prom(
              "/api/v1/query_range?query="
                  + enc(q)
                  + "&start="
                  + secs(start)
                  + "&end="
                  + secs(TestData.END)
                  + "&step="
                  + secs(step));
      String ours;
      try {
        ours = render(engine.range(q, start, TestData.END, step), q);
      } catch (ParseException | EvalException e) {
        ours = "error";
      }
      String want =
          theirs.path("status").asText().equals("success")
              ? render(theirs.get("data"), q)
              : "error";
      if (!same(want, ours)) {
        mismatches.add(q + " [range]\n  prometheus: " + want + "\n  ours:       " + ours);
      }
    }
    System.out.println(
        "PromQL compliance: "
            + (compared - mismatches.size())
            + " of "
            + compared
            + " evaluations equal");
    assertThat(mismatches).as(String.join("\n", mismatches)).isEmpty();
  }

  @Test
  void printedQueries_meanTheSameToPrometheus_andToUs() throws Exception {
    // What Condition sends to an external endpoint is a printed syntax tree: every query of the
    // suite, printed, must give Prometheus (and us) the same answer as its original text.
    List<String> mismatches = new ArrayList<>();
    int printed = 0;
    long t = TIMES.get(TIMES.size() / 2);
    for (String q : QUERIES) {
      Ast.Expr e;
      try {
        e = Parser.parse(q);
      } catch (ParseException x) {
        continue; // the suite's invalid queries: nothing to print
      }
      String p = Printer.print(e);
      printed++;
      JsonNode original = prom("/api/v1/query?query=" + enc(q) + "&time=" + secs(t));
      JsonNode again = prom("/api/v1/query?query=" + enc(p) + "&time=" + secs(t));
      String want =
          original.path("status").asText().equals("success")
              ? render(original.get("data"), q)
              : "error";
      String got =
          again.path("status").asText().equals("success") ? render(again.get("data"), q) : "error";
      String ours;
      try {
        ours = render(engine.instant(p, t), q);
      } catch (ParseException | EvalException x) {
        ours = "error";
      }
      if (!same(want, got) || !same(want, ours)) {
        mismatches.add(
            q + "\n  printed:    " + p + "\n  prometheus: " + got + "\n  ours:    " + ours);
      }
    }
    assertThat(printed).isGreaterThanOrEqualTo(140);
    assertThat(mismatches).as(String.join("\n", mismatches)).isEmpty();
  }

  static JsonNode prom(String path) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String secs(long ms) {
    return ms / 1000 + "." + String.format("%03d", ms % 1000);
  }

  // ---- canonical renderings: order-insensitive unless the query sorts

  static boolean sorted(String q) {
    return q.startsWith("sort(") || q.startsWith("sort_desc(");
  }

  static String render(Value v, String q) {
    return switch (v) {
      case Value.Scalar s -> "scalar " + num(s.v());
      case Value.Str s -> "string " + s.v();
      case Value.Vector vec -> {
        List<String> rows = new ArrayList<>();
        for (Value.Sample s : vec.samples()) {
          rows.add(labels(s.labels().toMap()) + " " + num(s.v()));
        }
        yield "vector " + order(rows, q);
      }
      case Value.Matrix m -> {
        List<String> rows = new ArrayList<>();
        for (Value.Points p : m.series()) {
          StringBuilder b = new StringBuilder(labels(p.labels().toMap())).append(" [");
          for (int i = 0; i < p.t().length; i++) {
            b.append(secs(p.t()[i])).append('=').append(num(p.v()[i])).append(' ');
          }
          rows.add(b.append(']').toString());
        }
        yield "matrix " + order(rows, q);
      }
    };
  }

  static String render(JsonNode data, String q) {
    String type = data.path("resultType").asText();
    JsonNode result = data.get("result");
    switch (type) {
      case "scalar" -> {
        return "scalar " + num(Value.parseFloat(result.get(1).asText()));
      }
      case "string" -> {
        return "string " + result.get(1).asText();
      }
      case "vector" -> {
        List<String> rows = new ArrayList<>();
        for (JsonNode s : result) {
          rows.add(
              labels(map(s.get("metric")))
                  + " "
                  + num(Value.parseFloat(s.get("value").get(1).asText())));
        }
        return "vector " + order(rows, q);
      }
      default -> {
        List<String> rows = new ArrayList<>();
        for (JsonNode s : result) {
          StringBuilder b = new StringBuilder(labels(map(s.get("metric")))).append(" [");
          for (JsonNode p : s.get("values")) {
            long ms = Math.round(p.get(0).asDouble() * 1000);
            b.append(secs(ms))
                .append('=')
                .append(num(Value.parseFloat(p.get(1).asText())))
                .append(' ');
          }
          rows.add(b.append(']').toString());
        }
        return "matrix " + order(rows, q);
      }
    }
  }

  static String order(List<String> rows, String q) {
    if (!sorted(q)) {
      rows = new ArrayList<>(rows);
      rows.sort(null);
      return rows.toString();
    }
    // Sorted queries: the order of values must match; ties may come in any order.
    List<String> values = rows.stream().map(r -> r.substring(r.lastIndexOf(' ') + 1)).toList();
    List<String> all = new ArrayList<>(rows);
    all.sort(null);
    return values + " " + all;
  }

  static Map<String, String> map(JsonNode metric) {
    Map<String, String> m = new TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = metric.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      m.put(e.getKey(), e.getValue().asText());
    }
    return m;
  }

  static String labels(Map<String, String> m) {
    return Labels.of(m).toString();
  }

  static String num(double v) {
    return v == 0 ? "0" : Double.toString(v);
  }

  /**
   * Equal renderings, numbers equal to a relative 1e-9 (summation order may differ in the last
   * bits; everything else must match exactly).
   */
  static boolean same(String a, String b) {
    if (a.equals(b)) {
      return true;
    }
    String[] x = a.split("[\\s=\\[\\],]+");
    String[] y = b.split("[\\s=\\[\\],]+");
    if (x.length != y.length) {
      return false;
    }
    for (int i = 0; i < x.length; i++) {
      if (x[i].equals(y[i])) {
        continue;
      }
      try {
        double p = Double.parseDouble(x[i]);
        double q = Double.parseDouble(y[i]);
        if (Math.abs(p - q) > 1e-9 * Math.max(Math.abs(p), Math.abs(q)) + 1e-12) {
          return false;
        }
      } catch (NumberFormatException e) {
        return false;
      }
    }
    return true;
  }
}
