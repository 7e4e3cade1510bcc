package dev.pilothouse.server;

import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.QueryLimitException;
import dev.pilothouse.tsdb.TsdbException;
import dev.pilothouse.tsdb.promql.Ast;
import dev.pilothouse.tsdb.promql.Engine;
import dev.pilothouse.tsdb.promql.EvalException;
import dev.pilothouse.tsdb.promql.ParseException;
import dev.pilothouse.tsdb.promql.Parser;
import dev.pilothouse.tsdb.promql.Value;
import dev.pilothouse.tsdb.remote.WriteRequest;
import dev.pilothouse.tsdb.scrape.Exposition;
import dev.pilothouse.tsdb.scrape.Scraper;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Prometheus's HTTP query API over the built-in store, so Grafana's Prometheus data source and
 * promtool work against the daemon: query, query_range, series, labels, label values, metadata,
 * targets and buildinfo. Answers and errors use Prometheus's JSON shapes.
 */
final class PromApi {
  /** The Prometheus API level this server answers as (for Grafana's feature detection). */
  static final String COMPATIBLE_VERSION = "2.42.0";

  private final Telemetry t;
  private final InstantSource clock;

  /** Remote-write senders repeat the same series: their labels are decoded once (up to 1M). */
  private final WriteRequest.Decoder decoder = new WriteRequest.Decoder(1 << 20);

  /**
   * Buffers of decompressed remote-write requests, used again (at most two, of at most 8 MiB): a
   * new one per request was a third of what ingestion allocated.
   */
  private final dev.pilothouse.tsdb.Spares<byte[]> bodies = new dev.pilothouse.tsdb.Spares<>(2);

  private static final int BODY_KEPT_BYTES = 8 << 20;

  PromApi(Telemetry telemetry, InstantSource clock) {
    this.t = telemetry;
    this.clock = clock;
  }

  /** A request Prometheus would answer with status "error". */
  static final class PromError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;
    final String type;

    PromError(int status, String type, String message) {
      super(message);
      this.status = status;
      this.type = type;
    }
  }

  void handle(Context ctx, Handler h) {
    try {
      Api.send(ctx, 200, Map.of("status", "success", "data", h.run(ctx)));
    } catch (PromError e) {
      error(ctx, e.status, e.type, e.getMessage());
    } catch (ParseException e) {
      error(ctx, 400, "bad_data", e.getMessage());
    } catch (EvalException e) {
      error(ctx, 422, "execution", e.getMessage());
    } catch (QueryLimitException e) {
      switch (e.kind()) {
        case TIMEOUT -> error(ctx, 422, "timeout", e.getMessage());
        case BUSY, MEMORY -> error(ctx, 429, "unavailable", e.getMessage());
        case RESOLUTION -> error(ctx, 400, "bad_data", e.getMessage());
        case SAMPLES -> error(ctx, 422, "execution", e.getMessage());
      }
    } catch (TsdbException e) {
      error(ctx, 422, "execution", e.getMessage());
    }
  }

  /** One endpoint's work: the "data" of a successful answer. */
  interface Handler {
    Object run(Context ctx);
  }

  private static void error(Context ctx, int status, String type, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", "error");
    m.put("errorType", type);
    m.put("error", message);
    Api.send(ctx, status, m);
  }

  /** A parameter from the query string or a form body (POST). */
  private static String param(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null && ctx.method().name().equals("POST")) {
      v = ctx.formParam(name);
    }
    return v;
  }

  private static List<String> params(Context ctx, String name) {
    List<String> v = new ArrayList<>(ctx.queryParams(name));
    if (v.isEmpty() && ctx.method().name().equals("POST")) {
      v.addAll(ctx.formParams(name));
    }
    return v;
  }

  /**
   * RFC 3339 or Unix seconds (with a fraction), as Prometheus accepts, within the engine's range.
   */
  static long time(String s, String name) {
    long ms;
    try {
      double secs = Double.parseDouble(s);
      if (!(Math.abs(secs * 1000) <= Engine.MAX_TIME_MS)) {
        throw outOfRange(s, name);
      }
      ms = Math.round(secs * 1000);
    } catch (NumberFormatException e) {
      try {
        ms = OffsetDateTime.parse(s).toInstant().toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException e2) {
        throw new PromError(
            400,
            "bad_data",
            "invalid parameter \"" + name + "\": cannot parse \"" + s + "\" to a valid timestamp");
      }
      if (Math.abs(ms) > Engine.MAX_TIME_MS) {
        throw outOfRange(s, name);
      }
    }
    return ms;
  }

  private static PromError outOfRange(String s, String name) {
    return new PromError(
        400,
        "bad_data",
        "invalid parameter \""
            + name
            + "\": "
            + s
            + " is out of range; give Unix seconds within ±"
            + Engine.MAX_TIME_MS / 1000
            + " or an RFC 3339 time");
  }

  /** Seconds (with a fraction) or a Prometheus duration such as 15s or 1m30s. */
  static long duration(String s, String name) {
    try {
      double secs = Double.parseDouble(s);
      if (!(secs * 1000 <= Parser.MAX_DURATION_MS && secs * 1000 >= -Parser.MAX_DURATION_MS)) {
        throw new NumberFormatException("out of range");
      }
      return Math.round(secs * 1000);
    } catch (NumberFormatException e) {
      if (s.matches("(\\d+(ms|[smhdwy]))+")) {
        try {
          return Parser.duration(s);
        } catch (IllegalArgumentException tooLong) {
          throw new PromError(
              400, "bad_data", "invalid parameter \"" + name + "\": " + tooLong.getMessage());
        }
      }
      throw new PromError(
          400,
          "bad_data",
          "invalid parameter \"" + name + "\": cannot parse \"" + s + "\" to a valid duration");
    }
  }

  private static String required(Context ctx, String name) {
    String v = param(ctx, name);
    if (v == null || v.isEmpty()) {
      throw new PromError(400, "bad_data", "invalid parameter \"" + name + "\": missing");
    }
    return v;
  }

  Object query(Context ctx) {
    String q = required(ctx, "query");
    String ts = param(ctx, "time");
    long at = ts == null || ts.isEmpty() ? clock.millis() : time(ts, "time");
    return result(t.engine().instant(q, at), at);
  }

  Object queryRange(Context ctx) {
    String q = required(ctx, "query");
    long start = time(required(ctx, "start"), "start");
    long end = time(required(ctx, "end"), "end");
    long step = duration(required(ctx, "step"), "step");
    ordered(start, end);
    if (step <= 0) {
      throw new PromError(
          400,
          "bad_data",
          "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer");
    }
    return result(t.engine().range(q, start, end, step), end);
  }

  /** The "data" of a query answer; instant vectors are reported at the evaluation time at. */
  static Map<String, Object> result(Value v, long at) {
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("resultType", v.resultType());
    data.put(
        "result",
        switch (v) {
          case Value.Scalar s -> List.of(secs(s.t()), num(s.v()));
          case Value.Str s -> List.of(secs(s.t()), s.v());
          case Value.Vector vec -> {
            List<Object> out = new ArrayList<>();
            for (Value.Sample s : vec.samples()) {
              out.add(Map.of("metric", s.labels().toMap(), "value", List.of(secs(at), num(s.v()))));
            }
            yield out;
          }
          case Value.Matrix m -> {
            List<Object> out = new ArrayList<>();
            for (Value.Points p : m.series()) {
              List<Object> values = new ArrayList<>(p.t().length);
              for (int i = 0; i < p.t().length; i++) {
                values.add(List.of(secs(p.t()[i]), num(p.v()[i])));
              }
              out.add(Map.of("metric", p.labels().toMap(), "values", values));
            }
            yield out;
          }
        });
    return data;
  }

  /** Unix seconds with milliseconds, written plainly (1700000000.123, as Prometheus does). */
  static java.math.BigDecimal secs(long ms) {
    return java.math.BigDecimal.valueOf(ms, 3);
  }

  static String num(double v) {
    return Value.formatFloat(v);
  }

  /** The selectors of match[] parameters; each is a set of matchers (ORed). */
  private static List<List<Matcher>> matchers(Context ctx, boolean required) {
    List<String> ms = params(ctx, "match[]");
    if (ms.isEmpty() && required) {
      throw new PromError(400, "bad_data", "no match[] parameter provided");
    }
    List<List<Matcher>> out = new ArrayList<>();
    for (String m : ms) {
      Ast.Expr e = Parser.parse(m);
      if (!(e instanceof Ast.VectorSelector v)) {
        throw new PromError(
            400, "bad_data", "invalid parameter \"match[]\": " + m + " is not a series selector");
      }
      out.add(v.matchers());
    }
    return out;
  }

  /** The optional start and end of series, labels and label values: all time when absent. */
  private static long[] range(Context ctx) {
    String from = param(ctx, "start");
    String to = param(ctx, "end");
    long start = from == null || from.isEmpty() ? Long.MIN_VALUE : time(from, "start");
    long end = to == null || to.isEmpty() ? Long.MAX_VALUE : time(to, "end");
    ordered(start, end);
    return new long[] {start, end};
  }

  private static void ordered(long start, long end) {
    if (end < start) {
      throw new PromError(
          400,
          "bad_data",
          "invalid parameter \"end\": end timestamp must not be before start time");
    }
  }

  Object series(Context ctx) {
    long[] r = range(ctx);
    List<Map<String, String>> out = new ArrayList<>();
    TreeSet<Labels> seen = new TreeSet<>();
    for (List<Matcher> ms : matchers(ctx, true)) {
      seen.addAll(t.db().series(ms, r[0], r[1]));
    }
    seen.forEach(l -> out.add(l.toMap()));
    return out;
  }

  Object labels(Context ctx) {
    long[] r = range(ctx);
    List<List<Matcher>> sel = matchers(ctx, false);
    if (sel.isEmpty()) {
      return t.db().labelNames(r[0], r[1]);
    }
    TreeSet<String> names = new TreeSet<>();
    for (List<Matcher> ms : sel) {
      for (Labels l : t.db().series(ms, r[0], r[1])) {
        for (int i = 0; i < l.size(); i++) {
          names.add(l.name(i));
        }
      }
    }
    return List.copyOf(names);
  }

  Object labelValues(Context ctx) {
    long[] r = range(ctx);
    String name = ctx.pathParam("name");
    List<List<Matcher>> sel = matchers(ctx, false);
    if (sel.isEmpty()) {
      return t.db().labelValues(name, r[0], r[1]);
    }
    TreeSet<String> values = new TreeSet<>();
    for (List<Matcher> ms : sel) {
      for (Labels l : t.db().series(ms, r[0], r[1])) {
        if (!l.get(name).isEmpty()) {
          values.add(l.get(name));
        }
      }
    }
    return List.copyOf(values);
  }

  Object metadata(Context ctx) {
    String metric = param(ctx, "metric");
    Map<String, Object> out = new java.util.TreeMap<>();
    for (Map.Entry<String, Exposition.Metadata> e : t.scraper().metadata().entrySet()) {
      if (metric != null && !metric.isEmpty() && !metric.equals(e.getKey())) {
        continue;
      }
      Exposition.Metadata m = e.getValue();
      out.put(e.getKey(), List.of(Map.of("type", m.type(), "help", m.help(), "unit", m.unit())));
    }
    return out;
  }

  Object targets(Context ctx) {
    List<Object> active = new ArrayList<>();
    for (Scraper.Health h : t.scraper().health()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("labels", h.labels().toMap());
      m.put("scrapePool", h.labels().get("job"));
      m.put("health", h.lastScrapeMs() == 0 ? "unknown" : h.up() ? "up" : "down");
      m.put("lastError", h.lastError());
      m.put("lastScrape", Instant.ofEpochMilli(h.lastScrapeMs()).toString());
      m.put("lastScrapeDuration", h.durationS());
      active.add(m);
    }
    return Map.of("activeTargets", active, "droppedTargets", List.of());
  }

  /**
   * {@code POST /api/v1/write}: a Prometheus remote-write request (snappy-framed protobuf). Answers
   * 204; 400 when the body is malformed or every sample was refused (so senders do not retry).
   */
  void write(Context ctx) {
    MetricsSpec.Limits limits = t.limits();
    byte[] raw = ctx.bodyAsBytes();
    String refused = "";
    dev.pilothouse.tsdb.Tsdb.Appender a;
    WriteRequest.Decoder.Result decoded;
    try {
      int size = org.xerial.snappy.Snappy.uncompressedLength(raw);
      if (size < 0 || size > limits.bodySizeLimit()) {
        t.countRefusedWrite("body_too_large");
        ctx.status(413)
            .result(
                "remote-write request decompresses to "
                    + Integer.toUnsignedString(size)
                    + " bytes, more than the limit of "
                    + limits.bodySizeLimit()
                    + "; send smaller batches or raise metrics.bodySizeLimit\n");
        return;
      }
      byte[] body = bodies.take();
      if (body == null || body.length < size) {
        body = new byte[size];
      }
      try {
        int length = org.xerial.snappy.Snappy.uncompress(raw, 0, raw.length, body, 0);
        a = t.db().appender(length / 16); // a sample takes 16-20 bytes of protobuf
        try {
          decoded =
              decoder.decode(
                  body,
                  length,
                  (labels, ts, vs, n) -> a.add(labels, ts, vs, 0, n),
                  t.labelLimits(),
                  limits.seriesPerRequest());
        } catch (TsdbException e) {
          decoded = null;
          refused = e.getMessage();
        }
      } finally {
        if (body.length <= BODY_KEPT_BYTES) {
          bodies.give(body); // decoding keeps nothing of it
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // nothing is committed from a request that cannot be read to its end
      t.countRefusedWrite("malformed");
      ctx.status(400).result("malformed remote-write request: " + e.getMessage() + "\n");
      return;
    }
    dev.pilothouse.tsdb.Tsdb.CommitResult r = a.commit();
    if (decoded != null && decoded.invalid() > 0) {
      // Prometheus's answer: the valid series are stored, the request is refused (not retried).
      t.countRefusedWrite("invalid_labels");
      ctx.status(400)
          .result(
              decoded.invalid()
                  + " series refused for their labels (the rest stored): "
                  + decoded.firstInvalid()
                  + "\n");
      return;
    }
    if (r.appended() == 0 && (r.rejected() > 0 || !refused.isEmpty())) {
      ctx.status(400).result((refused.isEmpty() ? r.firstError() : refused) + "\n");
      return;
    }
    ctx.status(204);
  }

  Object buildinfo(Context ctx) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", COMPATIBLE_VERSION);
    m.put("revision", "pilothouse");
    m.put("branch", "");
    m.put("buildUser", "");
    m.put("buildDate", "");
    m.put("goVersion", "");
    return m;
  }
}
