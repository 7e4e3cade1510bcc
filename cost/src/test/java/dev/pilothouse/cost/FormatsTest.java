package dev.pilothouse.cost;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parquet exports (written by DuckDB, as a warehouse would) and AWS CUR 2.0 mapped to FOCUS. */
class FormatsTest {
  @TempDir Path dir;

  Ledger ledger() throws Exception {
    return new Ledger(
        dir.resolve("cost-" + System.nanoTime()),
        Clock.fixed(Instant.parse("2024-11-01T00:00:00Z"), ZoneOffset.UTC));
  }

  static void duckdb(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void parquetWithDoublesOrDecimalsReconcilesWithTheCsv() throws Exception {
    Path csv = LedgerTest.SAMPLE.toAbsolutePath();
    Path doubles = dir.resolve("doubles.parquet");
    Path decimals = dir.resolve("decimals.parquet");
    // Costs as DOUBLE and timestamps as TIMESTAMP, as AWS's FOCUS Parquet export types them.
    duckdb(
        "COPY (SELECT * FROM read_csv('"
            + csv
            + "', nullstr='NULL')) TO '"
            + doubles
            + "' (FORMAT parquet)");
    duckdb(
        "COPY (SELECT * REPLACE (CAST(BilledCost AS DECIMAL(38,12)) AS BilledCost,"
            + " CAST(EffectiveCost AS DECIMAL(38,12)) AS EffectiveCost,"
            + " CAST(BillingPeriodStart AS TIMESTAMPTZ) AS BillingPeriodStart)"
            + " FROM read_csv('"
            + csv
            + "', nullstr='NULL', types={'BilledCost': 'VARCHAR', 'EffectiveCost': 'VARCHAR'}))"
            + " TO '"
            + decimals
            + "' (FORMAT parquet, COMPRESSION zstd)");
    for (Path p : List.of(doubles, decimals)) {
      Ledger l = ledger();
      Ledger.Result r = l.ingest(List.of(p), LedgerTest.USD);
      assertThat(r.files().get(0).kind()).isEqualTo("Parquet");
      assertThat(r.rows()).isEqualTo(1000);
      assertThat(new BigDecimal(r.billedCost()))
          .as(p.toString())
          .isEqualByComparingTo("20.52022672899");
      assertThat(LedgerTest.total(l, "2024-09"))
          .isEqualByComparingTo(LedgerTest.total(csvLedger(), "2024-09"));
      assertThat(l.slices()).extracting(Slice::period).contains("2024-09", "2024-10");
    }
  }

  Ledger csvLedger() throws Exception {
    Ledger l = ledger();
    l.ingest(List.of(LedgerTest.SAMPLE), LedgerTest.USD);
    return l;
  }

  @Test
  void aDamagedParquetFileIsRefusedWithItsName() throws Exception {
    Path p = dir.resolve("cut.parquet");
    Files.write(p, new byte[] {'P', 'A', 'R', '1', 0, 0, 0, 0});
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ledger().ingest(List.of(p), LedgerTest.USD))
        .isInstanceOf(BillException.class)
        .hasMessageContaining("cannot read the Parquet file");
  }

  static final String CUR_HEADER =
      "identity_line_item_id,bill_payer_account_id,bill_billing_period_start_date,bill_billing_period_end_date,"
          + "line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,"
          + "line_item_product_code,line_item_availability_zone,line_item_resource_id,line_item_usage_amount,"
          + "line_item_currency_code,line_item_unblended_cost,line_item_line_item_description,product_product_family,"
          + "product_region_code,product_servicecode,product_sku,pricing_unit,pricing_public_on_demand_cost,"
          + "pricing_public_on_demand_rate,pricing_term,resource_tags,reservation_reservation_a_r_n,"
          + "reservation_effective_cost,reservation_unused_amortized_upfront_fee_for_billing_period,"
          + "reservation_unused_recurring_fee,savings_plan_savings_plan_a_r_n,savings_plan_savings_plan_effective_cost,"
          + "savings_plan_total_commitment_to_date,savings_plan_used_commitment";

  static String cur(String type, String unblended, String list, String usage, String extra) {
    // extra: reservation arn, ri effective, ri unused upfront, ri unused recurring, sp arn, sp
    // effective, sp total, sp used
    return "id,"
        + "111122223333,2024-09-01T00:00:00Z,2024-10-01T00:00:00Z,444455556666,"
        + type
        + ",2024-09-02T10:00:00Z,2024-09-02T11:00:00Z,AmazonEC2,us-east-1a,i-0abc,"
        + usage
        + ",USD,"
        + unblended
        + ",desc,Compute Instance,us-east-1,AmazonEC2,SKU1,Hrs,"
        + list
        + ",0.096,OnDemand,\"{\"\"user_app\"\": \"\"shop\"\"}\","
        + extra;
  }

  @Test
  void curTwoIsMappedToFocus() throws Exception {
    List<String> rows =
        List.of(
            CUR_HEADER,
            cur("Usage", "0.096", "0.096", "1", ",,,,,,,"),
            cur("SavingsPlanCoveredUsage", "0.096", "0.096", "1", ",,,,arn:sp,0.06,,"),
            cur("SavingsPlanNegation", "-0.096", "", "1", ",,,,arn:sp,,,"),
            cur("SavingsPlanRecurringFee", "0.07", "", "1", ",,,,arn:sp,,0.07,0.06"),
            cur("DiscountedUsage", "0", "0.096", "1", "arn:ri,0.05,,,,,,"),
            cur("RIFee", "0.055", "", "1", "arn:ri,,0.003,0.002,,,,"),
            cur("Tax", "0.02", "", "", ",,,,,,,"),
            cur("Credit", "-0.01", "", "", ",,,,,,,"));
    Path f = dir.resolve("cur.csv");
    Files.write(f, rows);
    Ledger l = ledger();
    Ledger.Result r = l.ingest(List.of(f), LedgerTest.USD);
    assertThat(r.files().get(0).format()).isEqualTo("AWS CUR 2.0");
    assertThat(r.refused()).isZero();
    // BilledCost is the unblended cost: 0.096+0.096-0.096+0.07+0+0.055+0.02-0.01
    assertThat(new BigDecimal(r.billedCost())).isEqualByComparingTo("0.231");
    Report.Result byCategory =
        Report.run(
            l,
            Report.Periods.parse("2024-09"),
            "charge-category",
            Report.dimension("charge-category", null),
            "USD");
    Map<String, Report.Line> c =
        byCategory.lines().stream().collect(Collectors.toMap(Report.Line::key, x -> x));
    assertThat(c.keySet()).containsExactlyInAnyOrder("Usage", "Purchase", "Tax", "Credit");
    // EffectiveCost: on demand 0.096 + covered 0.06 + negation 0 + discounted 0.05 (usage) …
    assertThat(c.get("Usage").effectiveCost()).isEqualByComparingTo("0.206");
    // … and the unused parts of the commitments' fees (0.07 − 0.06; 0.003 + 0.002)
    assertThat(c.get("Purchase").effectiveCost()).isEqualByComparingTo("0.015");
    // commitment savings: list − effective of covered usage: (0.096 − 0.06) + (0.096 − 0.05)
    assertThat(c.get("Usage").commitmentSavings()).isEqualByComparingTo("0.082");
    Report.Result byApp =
        Report.run(l, Report.Periods.parse(null), "tag:app", Report.tag("app"), "USD");
    assertThat(byApp.lines()).extracting(Report.Line::key).containsExactly("shop");
    Report.Result byAccount =
        Report.run(
            l, Report.Periods.parse(null), "account", Report.dimension("account", null), "USD");
    assertThat(byAccount.lines()).extracting(Report.Line::key).containsExactly("444455556666");
  }
}
