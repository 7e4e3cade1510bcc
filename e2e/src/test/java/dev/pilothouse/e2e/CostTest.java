package dev.pilothouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cost through the daemon and the CLI: the FinOps Foundation's FOCUS sample ingested (twice, and a
 * bad copy refused by line), reports that reconcile to the cent in every format, real requests
 * through the load balancer priced per request (also as a series in the store), budgets,
 * recommendations and anomalies.
 */
class CostTest {
  @TempDir Path tmp;
  static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  static final Path SAMPLE =
      Path.of("../cost/src/test/resources/focus/focus_sample.csv").toAbsolutePath().normalize();
  static final BigDecimal SAMPLE_BILLED = new BigDecimal("20.52022672899");

  static String spec() {
    return "proxy: {port: 0}\n"
        + "metrics: {scrapeInterval: 1s, scrapeTimeout: 1s}\n"
        + "services:\n  shop:\n    "
        + Harness.demoCommand()
        + "    version: v1\n"
        + "    readiness: {http: /readyz, interval: 1s}\n"
        + "    route: /\n"
        + "cost:\n"
        + "  hostHourly: 3.60\n"
        + "  allocate:\n"
        + "    - match: {tag: environment=dev}\n"
        + "      service: shop\n"
        + "  budgets:\n"
        + "    - {name: aws, provider: AWS, monthly: 1.00, alertAt: 0.8}\n";
  }

  static JsonNode line(JsonNode report, String key) {
    for (JsonNode l : report.path("lines")) {
      if (l.path("key").asText().equals(key)) {
        return l;
      }
    }
    throw new AssertionError("no line " + key + " in " + report);
  }

  @Test
  void billsReconcile_requestsArePriced_andBudgetsAreWatched() throws Exception {
    try (Harness h = new Harness(tmp)) {
      h.up(h.writeSpec("shop.yaml", spec()));
      h.awaitReady("shop", 1, Duration.ofSeconds(30));

      Harness.Result first = h.ok("cost", "ingest", SAMPLE.toString());
      assertThat(first.out())
          .contains("FOCUS 1.0 CSV, 1000 rows")
          .contains("billed cost read: 20.52");
      assertThat(h.ok("cost", "ingest", SAMPLE.toString()).out())
          .contains("unchanged")
          .doesNotContain(" new ");

      // A copy with a bad amount on line 4: refused by line, nothing stored.
      List<String> lines = new ArrayList<>(Files.readAllLines(SAMPLE).subList(0, 6));
      lines.set(3, lines.get(3).replaceFirst("^NULL,[0-9.]+,", "NULL,12;5,"));
      Path bad = tmp.resolve("bad.csv");
      Files.write(bad, lines);
      Harness.Result refused = h.cli("cost", "ingest", bad.toString());
      assertThat(refused.exit()).isNotZero();
      assertThat(refused.err())
          .contains("bad.csv:4: BilledCost: '12;5' is not a decimal number")
          .contains("--skip-invalid");

      JsonNode report =
          JSON.readTree(h.ok("cost", "report", "--by", "provider", "-o", "json").out());
      assertThat(report.path("total").path("billedCost").decimalValue())
          .isEqualByComparingTo(SAMPLE_BILLED);
      assertThat(report.path("reconciliation").path("difference").decimalValue()).isZero();
      BigDecimal sum = BigDecimal.ZERO;
      for (JsonNode l : report.path("lines")) {
        sum = sum.add(l.path("billedCost").decimalValue());
      }
      assertThat(sum).isEqualByComparingTo(SAMPLE_BILLED);

      // CSV to the cent: lines add up to the total line exactly.
      List<String> csv =
          h.ok("cost", "report", "--by", "service", "-o", "csv").out().lines().toList();
      BigDecimal cents = BigDecimal.ZERO;
      for (String l : csv.subList(1, csv.size() - 1)) {
        String[] f = l.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)");
        cents = cents.add(new BigDecimal(f[1]));
      }
      String[] total = csv.get(csv.size() - 1).split(",");
      assertThat(total[0]).isEqualTo("TOTAL");
      assertThat(new BigDecimal(total[1]))
          .isEqualByComparingTo("20.52")
          .isEqualByComparingTo(cents);
      assertThat(h.ok("cost", "report", "-o", "html").out()).contains("<table>").contains("TOTAL");
      assertThat(h.ok("cost", "report", "--by", "tag:application").out()).contains("(untagged)");

      // Real requests through the load balancer, priced.
      int port = h.status().proxy().port();
      HttpClient http = HttpClient.newHttpClient();
      for (int i = 0; i < 200; i++) {
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
            HttpResponse.BodyHandlers.discarding());
      }
      // Two scrapes of the load balancer's counters (15 s apart) and the next 15-second cost
      // tick: up to 45 s, and the CLI's own start-up on a busy machine. Priced above zero: the
      // host's share needs the instance's CPU and memory measured at a step of the window (the
      // series can appear at 0 before that, and the report below would then price it at 0).
      await()
          .atMost(Duration.ofSeconds(75))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  h.ok("query", "pilothouse_cost_per_request_usd{service=\"shop\"} > 0")
                      .out()
                      .contains("shop"));
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () ->
                  h.ok(
                          "query",
                          "pilothouse_cost_per_request_by_version_usd{service=\"shop\",version=\"v1\"}")
                      .out()
                      .contains("v1"));
      JsonNode per =
          JSON.readTree(
              h.ok("cost", "report", "--per-request", "--window", "10m", "-o", "json").out());
      JsonNode shop = null;
      for (JsonNode p : per.path("perRequest").path("lines")) {
        if (p.path("service").asText().equals("shop") && !p.has("route")) {
          shop = p;
        }
      }
      assertThat(shop).isNotNull();
      assertThat(shop.path("requests").asLong()).isEqualTo(200);
      BigDecimal cost = shop.path("cost").decimalValue();
      assertThat(cost).isPositive(); // the host's share of 3.60 an hour, by measured CPU and memory
      assertThat(shop.path("costPerRequest").decimalValue())
          .isEqualByComparingTo(cost.divide(BigDecimal.valueOf(200), MathContext.DECIMAL64));
      assertThat(h.ok("cost", "report", "--per-request", "--window", "10m").out())
          .contains("COST/REQUEST");
      JsonNode hourly =
          JSON.readTree(h.ok("query", "pilothouse_cost_hourly_usd", "-o", "json").out());
      assertThat(hourly.path("result").toString()).contains("(host idle)").contains("shop");

      // Budgets: AWS spent 13.00 effective in 2024-09 against 1.00: exceeded, exit 1.
      Harness.Result budgets = h.cli("cost", "budgets", "--month", "2024-09");
      assertThat(budgets.exit()).isEqualTo(1);
      assertThat(budgets.out()).contains("aws").contains("exceeded");
      JsonNode rec = JSON.readTree(h.ok("cost", "recommend", "-o", "json").out());
      assertThat(rec.path("currency").asText()).isEqualTo("USD");
      assertThat(JSON.readTree(h.ok("cost", "anomalies", "-o", "json").out()).has("anomalies"))
          .isTrue();
      JsonNode bills = JSON.readTree(h.ok("cost", "bills", "-o", "json").out());
      assertThat(bills.path("bills")).hasSize(4);
      // Allocation: the lines tagged environment=dev are shop's, to the last digit.
      JsonNode byEnv =
          JSON.readTree(h.ok("cost", "report", "--by", "tag:environment", "-o", "json").out());
      JsonNode bySvc =
          JSON.readTree(h.ok("cost", "report", "--by", "pilothouse-service", "-o", "json").out());
      assertThat(line(bySvc, "shop").path("billedCost").decimalValue())
          .isEqualByComparingTo(line(byEnv, "dev").path("billedCost").decimalValue())
          .isPositive();
      assertThat(line(bySvc, "(host idle)").path("hostCost").decimalValue()).isPositive();
      assertThat(line(bySvc, "shop").path("hostCost").decimalValue()).isPositive();
      assertThat(h.ok("cost", "report", "--by", "pilothouse-service").out())
          .contains("(host idle)")
          .contains("HOST");
      Harness.Result unknown = h.cli("cost", "report", "--by", "colour");
      assertThat(unknown.exit()).isNotZero();
      assertThat(unknown.err()).contains("unknown dimension 'colour'").contains("tag:KEY");
    }
  }
}
