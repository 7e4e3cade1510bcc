package dev.pilothouse.server;

import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.cost.BillException;
import dev.pilothouse.cost.Costs;
import dev.pilothouse.cost.HostShare;
import dev.pilothouse.cost.Ledger;
import dev.pilothouse.cost.Recommendations;
import dev.pilothouse.cost.Report;
import io.javalin.http.Context;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Maps cost to HTTP: {@code POST /api/v1/cost/ingest}, {@code GET /api/v1/cost/bills}, {@code
 * /report}, {@code /recommendations}, {@code /budgets} and {@code /anomalies} (docs/cost.md).
 */
final class CostApi {
  private final Costs costs;
  private final Supplier<Spec> spec;
  private final dev.pilothouse.scaling.Advisor advisor;
  private final java.time.InstantSource clock;

  CostApi(
      Costs costs,
      Supplier<Spec> spec,
      dev.pilothouse.scaling.Advisor advisor,
      java.time.InstantSource clock) {
    this.costs = costs;
    this.spec = spec;
    this.advisor = advisor;
    this.clock = clock;
  }

  record IngestRequest(List<String> paths, Map<String, String> rates, Boolean skipInvalid) {}

  void ingest(Context ctx) throws IOException {
    IngestRequest b = Api.body(ctx, IngestRequest.class);
    if (b.paths() == null || b.paths().isEmpty()) {
      throw new ApiError(
          400,
          "paths: name one or more bill files",
          "give absolute paths of FOCUS or CUR 2.0 exports on the daemon's host");
    }
    List<Path> files = new ArrayList<>();
    for (String p : b.paths()) {
      if (p == null || !Path.of(p).isAbsolute()) {
        throw new ApiError(
            400,
            "paths: '" + p + "' is not an absolute path",
            "the daemon reads the files: give absolute paths");
      }
      files.add(Path.of(p));
    }
    Map<String, BigDecimal> rates = new LinkedHashMap<>();
    if (b.rates() != null) {
      for (Map.Entry<String, String> e : b.rates().entrySet()) {
        if (!e.getKey().matches("[A-Z]{3}")) {
          throw new ApiError(
              400, "rates: '" + e.getKey() + "' is not a currency code", "write e.g. EUR=1.08");
        }
        try {
          BigDecimal r = new BigDecimal(e.getValue());
          if (r.signum() <= 0 || r.compareTo(BigDecimal.valueOf(1_000_000)) > 0) {
            throw new NumberFormatException();
          }
          rates.put(e.getKey(), r);
        } catch (NumberFormatException x) {
          throw new ApiError(
              400,
              "rates: " + e.getKey() + "='" + e.getValue() + "' is not a positive rate",
              "write units of the ledger's currency per unit of " + e.getKey() + ", e.g. EUR=1.08");
        }
      }
    }
    try {
      Ledger.Result r =
          costs
              .ledger()
              .ingest(
                  files,
                  new Ledger.Options(
                      costs.spec().currency(), rates, Boolean.TRUE.equals(b.skipInvalid())));
      Api.send(ctx, 200, r);
    } catch (BillException e) {
      throw new ApiError(400, e.getMessage(), e.hint());
    }
  }

  /** {@code GET /api/v1/cost/ingest}: how far the ingest under way is. */
  void progress(Context ctx) {
    Api.send(
        ctx,
        200,
        costs
            .ledger()
            .progress()
            .<Object>map(p -> Map.of("running", true, "progress", p))
            .orElse(Map.of("running", false)));
  }

  void bills(Context ctx) throws IOException {
    Api.send(
        ctx, 200, Map.of("currency", costs.spec().currency(), "bills", costs.ledger().slices()));
  }

  void report(Context ctx) throws IOException {
    String by = ctx.queryParam("by") == null ? "service" : ctx.queryParam("by");
    Report.Periods periods;
    try {
      periods = Report.Periods.parse(ctx.queryParam("period"));
      Costs.Statement st = costs.statement(by, periods);
      Report.Result r = st.report();
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("by", r.by());
      out.put("periods", r.periods());
      out.put("currency", r.currency());
      if (st.host() != null) {
        HostShare.Result h = st.host();
        out.put(
            "host", Map.of("cost", h.cost(), "cores", h.cores(), "memoryBytes", h.memoryBytes()));
      }
      out.put("lines", st.lines().stream().map(CostApi::line).toList());
      out.put("total", line(st.total()));
      out.put(
          "reconciliation",
          Map.of(
              "ingestedBilledCost", r.ledgerBilledCost(),
              "reportBilledCost", r.total().billedCost(),
              "difference", r.total().billedCost().subtract(r.ledgerBilledCost())));
      if ("true".equals(ctx.queryParam("perRequest"))) {
        String w = ctx.queryParam("window") == null ? "24h" : ctx.queryParam("window");
        Duration window = Since.duration(w);
        if (window == null
            || window.compareTo(Duration.ofMinutes(1)) < 0
            || window.compareTo(Duration.ofDays(62)) > 0) {
          throw new ApiError(
              400, "window: invalid '" + w + "'", "give a duration from 1m to 62d, e.g. 24h");
        }
        Instant now = clock.instant();
        List<Map<String, Object>> pr = new ArrayList<>();
        for (Costs.PerRequest p : costs.perRequest(now.minus(window), now)) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("service", p.service());
          if (p.route() != null) {
            m.put("route", p.route());
          }
          m.put("cost", p.cost());
          if (p.hostCost() != null) {
            m.put("hostCost", p.hostCost());
            m.put("billCost", p.billCost());
          }
          m.put("requests", Math.round(p.requests()));
          m.put("costPerRequest", p.perRequest());
          pr.add(m);
        }
        out.put("perRequest", Map.of("window", w, "lines", pr));
      }
      Api.send(ctx, 200, out);
    } catch (BillException e) {
      throw new ApiError(400, e.getMessage(), e.hint());
    }
  }

  private static Map<String, Object> line(Costs.StatementLine sl) {
    Report.Line l = sl.bill();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("key", l.key());
    m.put("billedCost", l.billedCost());
    m.put("effectiveCost", l.effectiveCost());
    m.put("listCost", l.listCost());
    m.put("contractedCost", l.contractedCost());
    m.put("savings", l.savings());
    m.put("commitmentSavings", l.commitmentSavings());
    m.put("rows", l.rows());
    if (sl.hostCost() != null) {
      m.put("hostCost", sl.hostCost());
      m.put("totalCost", sl.totalCost());
    }
    return m;
  }

  void recommendations(Context ctx) throws IOException {
    int days = 30;
    if (ctx.queryParam("days") != null) {
      try {
        days = Integer.parseInt(ctx.queryParam("days"));
      } catch (NumberFormatException e) {
        days = -1;
      }
      if (days < 1 || days > 366) {
        throw new ApiError(
            400, "days: '" + ctx.queryParam("days") + "' is not 1 to 366", "e.g. days=30");
      }
    }
    Map<String, Recommendations.Price> prices = Map.of();
    String catalogue = ctx.queryParam("prices");
    try {
      if (catalogue != null) {
        if (!Path.of(catalogue).isAbsolute()
            || !java.nio.file.Files.isRegularFile(Path.of(catalogue))) {
          throw new ApiError(
              400,
              "prices: no file '" + catalogue + "'",
              "give the absolute path of a price catalogue CSV");
        }
        prices = Recommendations.catalogue(Path.of(catalogue));
      }
      Instant now = clock.instant();
      List<Recommendations.Sizing> sizings = new ArrayList<>();
      for (ServiceSpec s : spec.get().services()) {
        var a = advisor.advise(s, Duration.ofDays(7), now);
        sizings.add(
            new Recommendations.Sizing(
                s.name(),
                s.replicas(),
                s.resources().cpu(),
                s.resources().memoryBytes(),
                a.cpu(),
                a.memory(),
                a.cpuP95(),
                a.memoryMax(),
                a.window()));
      }
      List<Recommendations.Recommendation> out = costs.recommend(days, prices, sizings);
      BigDecimal total =
          out.stream()
              .map(Recommendations.Recommendation::monthlySaving)
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      Api.send(
          ctx,
          200,
          Map.of(
              "currency",
              costs.spec().currency(),
              "days",
              days,
              "monthlySaving",
              total,
              "recommendations",
              out));
    } catch (BillException e) {
      throw new ApiError(400, e.getMessage(), e.hint());
    }
  }

  void budgets(Context ctx) throws IOException {
    String month = ctx.queryParam("month");
    if (month != null && !month.matches("\\d{4}-(0[1-9]|1[0-2])")) {
      throw new ApiError(400, "month: '" + month + "' is not a month", "write e.g. 2024-09");
    }
    Api.send(
        ctx, 200, Map.of("currency", costs.spec().currency(), "budgets", costs.budgets(month)));
  }

  void anomalies(Context ctx) throws IOException {
    try {
      Report.Periods p = Report.Periods.parse(ctx.queryParam("period"));
      Api.send(
          ctx,
          200,
          Map.of(
              "currency",
              costs.spec().currency(),
              "anomalies",
              costs.anomalies(p, Costs.ANOMALY_FLOOR)));
    } catch (BillException e) {
      throw new ApiError(400, e.getMessage(), e.hint());
    }
  }
}
