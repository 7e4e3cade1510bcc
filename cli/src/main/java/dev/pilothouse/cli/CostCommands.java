package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse cost ingest|report|recommend|budgets|anomalies|bills} (docs/cost.md). */
final class CostCommands {
  private CostCommands() {}

  /** Amounts stay exact decimals from the daemon's JSON to the table. */
  static final ObjectMapper EXACT =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
          .enable(com.fasterxml.jackson.core.JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
          .build();

  static JsonNode read(String json) {
    try {
      return EXACT.readTree(json);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new CliException(
          ExitCodes.FAILURE, "the daemon's answer is not JSON", "check the daemon's log");
    }
  }

  static String json(JsonNode n) {
    try {
      return EXACT.writeValueAsString(n);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static BigDecimal dec(JsonNode n) {
    return n == null || n.isNull() || n.isMissingNode() ? BigDecimal.ZERO : n.decimalValue();
  }

  static String money(BigDecimal v) {
    return String.format(java.util.Locale.ROOT, "%,.2f", v.setScale(2, RoundingMode.HALF_EVEN));
  }

  @Command(
      name = "cost",
      description =
          "Cloud bills (FOCUS, AWS CUR 2.0) and the host's cost: ingest, report, cost per request,"
              + " recommendations, budgets and spend anomalies.",
      subcommands = {
        Ingest.class,
        ReportCmd.class,
        Recommend.class,
        Budgets.class,
        Anomalies.class,
        Bills.class
      })
  static final class Group extends GroupCommand {}

  @Command(
      name = "ingest",
      description =
          "Read bill exports (FOCUS 1.0–1.2 CSV or Parquet, gzip or not; AWS CUR 2.0) into the"
              + " ledger; give every part of an export at once. Exit 1 when rows cannot be used.")
  static final class Ingest implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Bill files on this host.")
    List<Path> files;

    @Option(
        names = "--rate",
        paramLabel = "CUR=RATE",
        description = "Convert rows billed in CUR at RATE units of the ledger's currency (repeat).")
    Map<String, String> rates = new LinkedHashMap<>();

    @Option(
        names = "--skip-invalid",
        description = "Store the usable rows and count the others (else nothing is stored).")
    boolean skipInvalid;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      List<String> paths = files.stream().map(p -> p.toAbsolutePath().toString()).toList();
      Thread bar = System.console() == null ? null : progressBar(spec.commandLine().getErr());
      JsonNode r;
      try {
        r = read(common.client().costIngest(paths, rates, skipInvalid));
      } finally {
        if (bar != null) {
          bar.interrupt();
          try {
            bar.join(1000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      }
      if (output.json()) {
        out.println(json(r));
        return r.path("refused").asLong() > 0 ? ExitCodes.FAILURE : ExitCodes.OK;
      }
      for (JsonNode f : r.path("files")) {
        out.printf(
            "%s: %s %s, %d rows%s%s%s%n",
            f.path("file").asText(),
            f.path("format").asText(),
            f.path("kind").asText(),
            f.path("rows").asLong(),
            f.path("refused").asLong() > 0 ? ", " + f.path("refused").asLong() + " refused" : "",
            f.path("converted").asLong() > 0
                ? ", " + f.path("converted").asLong() + " converted"
                : "",
            f.path("unusedColumns").size() > 0
                ? " (" + f.path("unusedColumns").size() + " columns not kept)"
                : "");
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("BILLING PERIOD", "STATUS", "ROWS", "BILLED COST"));
      for (JsonNode s : r.path("slices")) {
        String billed = money(new BigDecimal(s.path("billedCost").asText()));
        if (s.path("status").asText().equals("restated")) {
          billed += " (was " + money(new BigDecimal(s.path("previousBilledCost").asText())) + ")";
        }
        t.add(
            List.of(
                s.path("key").asText(),
                s.path("status").asText(),
                s.path("rows").asText(),
                billed));
      }
      out.print(Output.table(t));
      out.println("billed cost read: " + money(new BigDecimal(r.path("billedCost").asText())));
      if (r.path("refused").asLong() > 0) {
        out.println(r.path("refused").asLong() + " rows refused: " + r.path("refusedBy"));
        r.path("errors").forEach(e -> out.println("  " + e.asText()));
        return ExitCodes.FAILURE;
      }
      return ExitCodes.OK;
    }

    /** The ingest's progress on one line of the terminal, asked of the daemon twice a second. */
    private Thread progressBar(PrintWriter err) {
      return Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                boolean drawn = false;
                try {
                  while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(500);
                    JsonNode p = read(common.client().cost("ingest", Map.of())).path("progress");
                    if (p.isMissingNode()) {
                      continue;
                    }
                    long bytes = Math.max(1, p.path("bytes").asLong());
                    int pct = (int) Math.min(100, p.path("bytesRead").asLong() * 100 / bytes);
                    err.print(
                        "\r"
                            + Progress.meter(pct, 100, 20)
                            + String.format(
                                java.util.Locale.ROOT,
                                " %3d%% %s (%d/%d) %,d rows ",
                                pct,
                                p.path("file").asText(),
                                p.path("index").asInt(),
                                p.path("files").asInt(),
                                p.path("rows").asLong()));
                    err.flush();
                    drawn = true;
                  }
                } catch (InterruptedException e) {
                  // the ingest has answered
                } catch (RuntimeException e) {
                  // progress is best effort; the ingest's answer says what happened
                }
                if (drawn) {
                  err.print("\r" + " ".repeat(79) + "\r");
                  err.flush();
                }
              });
    }
  }

  enum Format {
    table,
    json,
    csv,
    html
  }

  @Command(
      name = "report",
      description =
          "Costs by a dimension: BilledCost, EffectiveCost and ListCost side by side, savings, and"
              + " totals that reconcile to the cent with what was ingested.")
  static final class ReportCmd implements Callable<Integer> {
    @Mixin Common common;

    @Option(
        names = "--by",
        paramLabel = "DIMENSION",
        defaultValue = "service",
        description =
            "service (default), provider, region, account, billing-account, charge-category,"
                + " service-category, pricing-category, resource, sku, period, day, currency,"
                + " pilothouse-service (allocation and the host's cost) or tag:KEY.")
    String by;

    @Option(
        names = "--period",
        paramLabel = "MONTH",
        description = "2024-09, or 2024-07..2024-09 (default: all).")
    String period;

    @Option(names = "--per-request", description = "Cost per request per service and route.")
    boolean perRequest;

    @Option(
        names = "--window",
        paramLabel = "DURATION",
        defaultValue = "24h",
        description = "The --per-request window ending now (default 24h).")
    String window;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        defaultValue = "table",
        description = "table (default), json, csv or html.")
    Format format;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (!perRequest && spec.commandLine().getParseResult().hasMatchedOption("--window")) {
        throw new CliException(
            ExitCodes.USAGE,
            "--window applies only with --per-request",
            "add --per-request, or leave --window out");
      }
      Map<String, String> q = new LinkedHashMap<>();
      q.put("by", by);
      q.put("period", period);
      if (perRequest) {
        q.put("perRequest", "true");
        q.put("window", window);
      }
      JsonNode r = read(common.client().cost("report", q));
      if (format == Format.json) {
        out.println(json(r));
        return ExitCodes.OK;
      }
      List<List<String>> rows = rows(r);
      switch (format) {
        case csv ->
            rows.forEach(
                row -> out.println(String.join(",", row.stream().map(CostCommands::csv).toList())));
        case html -> out.print(html(r, rows));
        default -> {
          out.println(
              "periods "
                  + (r.path("periods").isEmpty()
                      ? "(none: ingest a bill with 'pilothouse cost ingest FILE')"
                      : r.path("periods").toString())
                  + ", "
                  + r.path("currency").asText()
                  + ", by "
                  + r.path("by").asText());
          out.print(Output.table(rows));
          JsonNode rec = r.path("reconciliation");
          out.println(
              "reconciles: billed cost "
                  + money(dec(rec.path("reportBilledCost")))
                  + " = ingested "
                  + money(dec(rec.path("ingestedBilledCost")))
                  + (dec(rec.path("difference")).signum() == 0
                      ? ""
                      : " (DIFFERENCE " + dec(rec.path("difference")).toPlainString() + ")"));
        }
      }
      if (perRequest && format != Format.csv) {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("SERVICE", "ROUTE", "COST", "REQUESTS", "COST/REQUEST", "COST/1K REQUESTS"));
        for (JsonNode p : r.path("perRequest").path("lines")) {
          BigDecimal per = p.path("costPerRequest").isNull() ? null : dec(p.path("costPerRequest"));
          t.add(
              List.of(
                  p.path("service").asText(),
                  p.path("route").asText("-"),
                  money(dec(p.path("cost"))),
                  p.path("requests").asText(),
                  per == null ? "-" : per.round(new java.math.MathContext(3)).toPlainString(),
                  per == null ? "-" : money(per.multiply(BigDecimal.valueOf(1000)))));
        }
        out.println(
            "cost per request over the last " + r.path("perRequest").path("window").asText() + ":");
        out.print(Output.table(t));
      }
      return ExitCodes.OK;
    }
  }

  /** The report's lines, to the cent, adding up exactly to the total line. */
  static List<List<String>> rows(JsonNode r) {
    boolean host = r.path("total").has("hostCost");
    List<String> columns =
        new ArrayList<>(
            List.of("billedCost", "effectiveCost", "listCost", "savings", "commitmentSavings"));
    List<String> head =
        new ArrayList<>(
            List.of(
                r.path("by").asText().toUpperCase(java.util.Locale.ROOT),
                "BILLED",
                "EFFECTIVE",
                "LIST",
                "SAVINGS",
                "COMMITMENT SAVINGS"));
    if (host) {
      columns.add("hostCost");
      columns.add("totalCost");
      head.add("HOST");
      head.add("TOTAL");
    }
    List<List<String>> out = new ArrayList<>();
    out.add(head);
    List<JsonNode> lines = new ArrayList<>();
    r.path("lines").forEach(lines::add);
    List<List<BigDecimal>> cents = new ArrayList<>();
    for (String c : columns) {
      cents.add(
          cents(lines.stream().map(l -> dec(l.path(c))).toList(), dec(r.path("total").path(c))));
    }
    for (int i = 0; i < lines.size(); i++) {
      List<String> row = new ArrayList<>();
      row.add(lines.get(i).path("key").asText());
      for (List<BigDecimal> c : cents) {
        row.add(money(c.get(i)));
      }
      out.add(row);
    }
    List<String> total = new ArrayList<>();
    total.add("TOTAL");
    for (String c : columns) {
      total.add(money(dec(r.path("total").path(c))));
    }
    out.add(total);
    return out;
  }

  /** Values to the cent adding up to their total to the cent (largest remainder). */
  static List<BigDecimal> cents(List<BigDecimal> values, BigDecimal total) {
    BigDecimal target = total.setScale(2, RoundingMode.HALF_EVEN);
    List<BigDecimal> down = new ArrayList<>();
    BigDecimal sum = BigDecimal.ZERO;
    for (BigDecimal v : values) {
      BigDecimal d = v.setScale(2, RoundingMode.FLOOR);
      down.add(d);
      sum = sum.add(d);
    }
    long missing = target.subtract(sum).movePointRight(2).longValue();
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      order.add(i);
    }
    order.sort(
        (a, b) ->
            values.get(b).subtract(down.get(b)).compareTo(values.get(a).subtract(down.get(a))));
    BigDecimal cent = new BigDecimal("0.01");
    for (int k = 0; k < order.size() && missing > 0; k++, missing--) {
      down.set(order.get(k), down.get(order.get(k)).add(cent));
    }
    return down;
  }

  static String csv(String v) {
    String plain = v.replace(",", "");
    boolean number = plain.matches("-?[0-9]+(\\.[0-9]+)?");
    if (number) {
      return plain;
    }
    return v.contains(",") || v.contains("\"") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
  }

  static String html(JsonNode r, List<List<String>> rows) {
    StringBuilder b = new StringBuilder();
    b.append(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pilothouse cost report</title>\n")
        .append(
            "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}")
        .append(
            "td,th{padding:.3em .8em;border-bottom:1px solid #ccc}td:not(:first-child){text-align:right}")
        .append(
            "@media (prefers-color-scheme:dark){body{background:#111;color:#eee}}</style></head><body>\n")
        .append("<h1>Cost by ")
        .append(esc(r.path("by").asText()))
        .append("</h1>\n<p>Periods ")
        .append(esc(r.path("periods").toString()))
        .append(", ")
        .append(esc(r.path("currency").asText()))
        .append(". Billed cost reconciles with the ingested bills: difference ")
        .append(esc(dec(r.path("reconciliation").path("difference")).toPlainString()))
        .append(".</p>\n<table>\n");
    for (int i = 0; i < rows.size(); i++) {
      String cell = i == 0 ? "th" : "td";
      b.append("<tr>");
      for (String v : rows.get(i)) {
        b.append('<')
            .append(cell)
            .append(i == 0 ? " scope=\"col\"" : "")
            .append('>')
            .append(esc(v))
            .append("</")
            .append(cell)
            .append('>');
      }
      b.append("</tr>\n");
    }
    return b.append("</table>\n</body></html>\n").toString();
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  @Command(
      name = "recommend",
      description =
          "What could cost less (right-sizing, idle resources, commitments, spot, storage tiers,"
              + " network), each with its monthly saving, evidence and risk.")
  static final class Recommend implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(
        names = "--days",
        paramLabel = "N",
        defaultValue = "30",
        description = "Days of the bill to read (default 30).")
    int days;

    @Option(
        names = "--prices",
        paramLabel = "FILE",
        description = "A price catalogue CSV: SkuId,OnDemand,Committed,Spot,ColdRatio.")
    Path prices;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, String> q = new LinkedHashMap<>();
      q.put("days", Integer.toString(days));
      q.put("prices", prices == null ? null : prices.toAbsolutePath().toString());
      JsonNode r = read(common.client().cost("recommendations", q));
      if (output.json()) {
        out.println(json(r));
        return ExitCodes.OK;
      }
      if (r.path("recommendations").isEmpty()) {
        out.println(
            "no recommendations: nothing in the bill or the measured usage suggests a saving");
        return ExitCodes.OK;
      }
      for (JsonNode x : r.path("recommendations")) {
        out.printf(
            "%s %s  %s/month  %s%n    evidence: %s%n    risk: %s%n",
            x.path("kind").asText(),
            x.path("target").asText(),
            money(dec(x.path("monthlySaving"))),
            x.path("action").asText(),
            x.path("evidence").asText(),
            x.path("risk").asText());
      }
      out.println(
          "total: "
              + money(dec(r.path("monthlySaving")))
              + " "
              + r.path("currency").asText()
              + " a month");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "budgets",
      description = "Each budget's month: spent, forecast and state; exit 1 when one is over.")
  static final class Budgets implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(
        names = "--month",
        paramLabel = "MONTH",
        description = "e.g. 2024-09 (default: this month).")
    String month;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, String> q = new LinkedHashMap<>();
      q.put("month", month);
      JsonNode r = read(common.client().cost("budgets", q));
      boolean over = false;
      for (JsonNode b : r.path("budgets")) {
        over |= !b.path("state").asText().equals("ok");
      }
      if (output.json()) {
        out.println(json(r));
        return over ? ExitCodes.FAILURE : ExitCodes.OK;
      }
      if (r.path("budgets").isEmpty()) {
        out.println("no budgets: declare them under cost.budgets in the spec");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(
          List.of(
              "BUDGET", "SCOPE", "MONTH", "BUDGET", "SPENT", "FORECAST", "FORECAST %", "STATE"));
      for (JsonNode b : r.path("budgets")) {
        t.add(
            List.of(
                b.path("name").asText(),
                b.path("scope").asText(),
                b.path("month").asText(),
                money(dec(b.path("monthly"))),
                money(dec(b.path("spent"))),
                money(dec(b.path("forecast"))),
                String.format(
                    java.util.Locale.ROOT, "%.0f%%", b.path("forecastRatio").asDouble() * 100),
                b.path("state").asText()));
      }
      out.print(Output.table(t));
      return over ? ExitCodes.FAILURE : ExitCodes.OK;
    }
  }

  @Command(
      name = "anomalies",
      description =
          "Days whose cost is far above the usual (robust z-score over the 14 days before).")
  static final class Anomalies implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(
        names = "--period",
        paramLabel = "MONTH",
        description = "2024-09, or 2024-07..2024-09 (default: all).")
    String period;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Map<String, String> q = new LinkedHashMap<>();
      q.put("period", period);
      JsonNode r = read(common.client().cost("anomalies", q));
      if (output.json()) {
        out.println(json(r));
        return ExitCodes.OK;
      }
      if (r.path("anomalies").isEmpty()) {
        out.println("no spend anomalies");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("DAY", "SCOPE", "COST", "USUAL", "EXCESS", "SCORE"));
      for (JsonNode a : r.path("anomalies")) {
        t.add(
            List.of(
                a.path("day").asText(),
                a.path("scope").asText(),
                money(dec(a.path("cost"))),
                money(dec(a.path("expected"))),
                money(dec(a.path("excess"))),
                a.path("score").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "bills",
      description = "The billing periods the ledger holds, and where each came from.")
  static final class Bills implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode r = read(common.client().cost("bills", Map.of()));
      if (output.json()) {
        out.println(json(r));
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("PROVIDER", "ACCOUNT", "PERIOD", "ROWS", "BILLED COST", "FORMAT", "INGESTED"));
      for (JsonNode b : r.path("bills")) {
        t.add(
            List.of(
                b.path("provider").asText(),
                b.path("account").asText(),
                b.path("period").asText(),
                b.path("rows").asText(),
                money(new BigDecimal(b.path("billedCost").asText())),
                b.path("format").asText(),
                b.path("ingestedAt").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }
}
