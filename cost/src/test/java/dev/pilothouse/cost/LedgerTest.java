package dev.pilothouse.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerTest {
  @TempDir Path dir;

  static final Path SAMPLE = Path.of("src/test/resources/focus/focus_sample.csv");
  static final Ledger.Options USD = new Ledger.Options("USD", Map.of(), false);

  Ledger ledger() throws IOException {
    return new Ledger(
        dir.resolve("cost"), Clock.fixed(Instant.parse("2024-11-01T00:00:00Z"), ZoneOffset.UTC));
  }

  /** The sum of BilledCost of a CSV file, read apart from the ledger (BigDecimal per field). */
  static BigDecimal billedCostOf(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv);
    List<String> header = List.of(lines.get(0).replace("\"", "").split(","));
    int col = header.indexOf("BilledCost");
    BigDecimal sum = BigDecimal.ZERO;
    for (String l : lines.subList(1, lines.size())) {
      // the sample quotes text and never quotes numbers; no number holds a comma
      String[] f = splitCsv(l);
      sum = sum.add(new BigDecimal(f[col]));
    }
    return sum;
  }

  static String[] splitCsv(String line) {
    List<String> out = new java.util.ArrayList<>();
    StringBuilder b = new StringBuilder();
    boolean q = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (q) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          b.append('"');
          i++;
        } else if (c == '"') {
          q = false;
        } else {
          b.append(c);
        }
      } else if (c == '"') {
        q = true;
      } else if (c == ',') {
        out.add(b.toString());
        b.setLength(0);
      } else {
        b.append(c);
      }
    }
    out.add(b.toString());
    return out.toArray(new String[0]);
  }

  @Test
  void theSampleReconcilesToTheCent() throws Exception {
    Ledger l = ledger();
    Ledger.Result r = l.ingest(List.of(SAMPLE), USD);
    assertThat(r.rows()).isEqualTo(1000);
    assertThat(r.refused()).isZero();
    assertThat(r.files().get(0).format()).isEqualTo("FOCUS 1.0");
    assertThat(r.slices()).extracting(Ledger.SliceResult::status).containsOnly("new");
    BigDecimal expected = billedCostOf(SAMPLE);
    assertThat(expected).isEqualByComparingTo("20.52022672899");
    assertThat(new BigDecimal(r.billedCost())).isEqualByComparingTo(expected);

    for (String by :
        List.of("service", "provider", "region", "account", "charge-category", "tag:application")) {
      Report.Result rep =
          Report.run(
              l,
              Report.Periods.parse(null),
              by,
              Report.dimension(by, new Allocation(List.of())),
              "USD");
      assertThat(rep.total().billedCost()).as(by).isEqualByComparingTo(expected);
      assertThat(rep.ledgerBilledCost()).isEqualByComparingTo(expected);
      BigDecimal lines =
          rep.lines().stream()
              .map(Report.Line::billedCost)
              .reduce(BigDecimal.ZERO, BigDecimal::add);
      assertThat(lines).as(by).isEqualByComparingTo(expected);
    }
    Report.Result byProvider =
        Report.run(
            l, Report.Periods.parse(null), "provider", Report.dimension("provider", null), "USD");
    assertThat(byProvider.lines())
        .extracting(Report.Line::key)
        .containsExactlyInAnyOrder("AWS", "Microsoft", "Oracle");
    assertThat(byProvider.lines().stream().mapToLong(Report.Line::rows).sum()).isEqualTo(1000);
    assertThat(byProvider.periods()).containsExactly("2024-09", "2024-10");
  }

  @Test
  void theSameFileTwiceIsNotCountedTwiceAndARestatementReplacesThePeriod() throws Exception {
    Ledger l = ledger();
    l.ingest(List.of(SAMPLE), USD);
    Ledger.Result again = l.ingest(List.of(SAMPLE), USD);
    assertThat(again.slices()).extracting(Ledger.SliceResult::status).containsOnly("unchanged");
    assertThat(total(l, null)).isEqualByComparingTo("20.52022672899");

    // The provider restates September: the same export without its first 100 rows.
    List<String> lines = Files.readAllLines(SAMPLE);
    Path restated = dir.resolve("restated.csv");
    List<String> kept = new java.util.ArrayList<>(lines.subList(0, 1));
    kept.addAll(lines.subList(101, lines.size()));
    Files.write(restated, kept);
    Ledger.Result r = l.ingest(List.of(restated), USD);
    Map<String, String> status =
        r.slices().stream()
            .collect(Collectors.toMap(Ledger.SliceResult::key, Ledger.SliceResult::status));
    assertThat(status.values()).contains("restated");
    assertThat(total(l, null)).isEqualByComparingTo(billedCostOf(restated));
  }

  static BigDecimal total(Ledger l, String period) throws Exception {
    return Report.run(
            l, Report.Periods.parse(period), "provider", Report.dimension("provider", null), "USD")
        .total()
        .billedCost();
  }

  @Test
  void aGeneratedGzipBillReconcilesExactly() throws Exception {
    Path bill = dir.resolve("bill.csv.gz");
    BigDecimal expected = GeneratedBill.write(bill, 150_000, 7, "2024-09");
    Ledger l = ledger();
    Ledger.Result r = l.ingest(List.of(bill), USD);
    assertThat(r.files().get(0).kind()).isEqualTo("CSV (gzip)");
    assertThat(r.rows()).isEqualTo(150_000);
    assertThat(new BigDecimal(r.billedCost())).isEqualByComparingTo(expected);
    assertThat(total(l, "2024-09")).isEqualByComparingTo(expected);
    assertThat(total(l, "2024-10")).isEqualByComparingTo("0");
    Report.Result byApp =
        Report.run(l, Report.Periods.parse("2024-09"), "tag:app", Report.tag("app"), "USD");
    assertThat(byApp.lines())
        .extracting(Report.Line::key)
        .contains("shop", "search", Report.UNTAGGED);
    assertThat(
            byApp.lines().stream()
                .map(Report.Line::billedCost)
                .reduce(BigDecimal.ZERO, BigDecimal::add))
        .isEqualByComparingTo(expected);
    // commitments: covered usage saves (list − effective) > 0
    assertThat(byApp.total().commitmentSavings()).isPositive();
    // several files of one export in one ingest are one period, not a restatement of each other
    Path a = dir.resolve("a.csv");
    Path b = dir.resolve("b.csv");
    BigDecimal sa = GeneratedBill.write(a, 1000, 1, "2024-10");
    BigDecimal sb = GeneratedBill.write(b, 1000, 2, "2024-10");
    l.ingest(List.of(a, b), USD);
    assertThat(total(l, "2024-10")).isEqualByComparingTo(sa.add(sb));
  }

  @Test
  void badRowsAreNamedByLineAndNothingIsStored() throws Exception {
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(SAMPLE).subList(0, 10));
    lines.set(3, lines.get(3).replaceFirst("^NULL,[0-9.]+,", "NULL,abc,"));
    lines.set(5, lines.get(5).replace(",\"2024-09-01 00:00:00\",", ",\"2024-09-31 00:00:00\","));
    Path bad = dir.resolve("bad.csv");
    Files.write(bad, lines);
    Ledger l = ledger();
    assertThatThrownBy(() -> l.ingest(List.of(bad), USD))
        .isInstanceOf(BillException.class)
        .hasMessageContaining("2 of 9 rows cannot be used, so nothing was stored")
        .hasMessageContaining("bad.csv:4: BilledCost: 'abc' is not a decimal number")
        .hasMessageContaining(
            "bad.csv:6: BillingPeriodStart: '2024-09-31 00:00:00' is not a timestamp");
    assertThat(l.slices()).isEmpty();
    Ledger.Result r = l.ingest(List.of(bad), new Ledger.Options("USD", Map.of(), true));
    assertThat(r.rows()).isEqualTo(9);
    assertThat(r.refused()).isEqualTo(2);
    assertThat(r.refusedBy()).containsEntry("BilledCost", 1L);
    assertThat(l.slices().stream().mapToLong(Slice::rows).sum()).isEqualTo(7);
  }

  @Test
  void missingColumnsAndOtherFormatsAreNamed() throws Exception {
    Path f = dir.resolve("x.csv");
    Files.writeString(f, "BilledCost,ProviderName\n1.0,AWS\n");
    assertThatThrownBy(() -> ledger().ingest(List.of(f), USD))
        .isInstanceOf(BillException.class)
        .hasMessageContaining(
            "x.csv: missing FOCUS columns BillingAccountId, ChargeCategory, BillingCurrency");
    Files.writeString(f, "lineItem/UnblendedCost,bill/PayerAccountId\n1.0,1\n");
    assertThatThrownBy(() -> ledger().ingest(List.of(f), USD))
        .hasMessageContaining("legacy AWS Cost and Usage Report");
    Files.writeString(f, "");
    assertThatThrownBy(() -> ledger().ingest(List.of(f), USD))
        .hasMessageContaining("the file is empty");
    Files.writeString(f, GeneratedBill.HEADER + "\n1,2\n");
    assertThatThrownBy(() -> ledger().ingest(List.of(f), USD))
        .hasMessageContaining("line 2: 2 fields where the header has 43");
  }

  @Test
  void anotherCurrencyIsRefusedUnlessARateConvertsIt() throws Exception {
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(SAMPLE).subList(0, 3));
    lines.set(2, lines.get(2).replace("\"USD\"", "\"EUR\""));
    Path eur = dir.resolve("eur.csv");
    Files.write(eur, lines);
    Ledger l = ledger();
    assertThatThrownBy(() -> l.ingest(List.of(eur), USD))
        .hasMessageContaining("eur.csv:3: BillingCurrency: EUR where the ledger keeps USD");
    Ledger.Result r =
        l.ingest(
            List.of(eur), new Ledger.Options("USD", Map.of("EUR", new BigDecimal("1.1")), false));
    assertThat(r.files().get(0).converted()).isEqualTo(1);
    assertThat(l.slices().get(0).rates()).containsEntry("EUR", "1.1");
    BigDecimal first = new BigDecimal(splitCsv(lines.get(1))[1]);
    BigDecimal second = new BigDecimal(splitCsv(lines.get(2))[1]).multiply(new BigDecimal("1.1"));
    assertThat(total(l, null)).isEqualByComparingTo(first.add(second));
    assertThat(
            Report.run(
                    l,
                    Report.Periods.parse(null),
                    "currency",
                    Report.dimension("currency", null),
                    "USD")
                .lines())
        .extracting(Report.Line::key)
        .containsExactly("USD");
  }

  @Test
  void focusOneOneAndOneTwoExportsAreToldByTheirColumns() throws Exception {
    List<String> lines = Files.readAllLines(SAMPLE).subList(0, 4);
    for (String[] v :
        List.of(
            new String[] {"ServiceSubcategory,SkuMeter", "\"Storage\",\"Requests\"", "FOCUS 1.1"},
            new String[] {
              "BillingAccountType,InvoiceId,ServiceSubcategory",
              "\"Billing Profile\",\"I-1\",",
              "FOCUS 1.2"
            })) {
      List<String> out = new java.util.ArrayList<>();
      out.add(lines.get(0) + "," + v[0]);
      for (String l : lines.subList(1, lines.size())) {
        out.add(l + "," + v[1]);
      }
      Path f = dir.resolve(v[2].replace(' ', '_') + ".csv");
      Files.write(f, out);
      Ledger.Result r = ledger().ingest(List.of(f), USD);
      assertThat(r.files().get(0).format()).isEqualTo(v[2]);
      assertThat(r.files().get(0).unusedColumns()).contains(v[0].split(",")[0]);
      assertThat(new BigDecimal(r.billedCost())).isEqualByComparingTo(billedCostOf(f));
    }
  }

  @Test
  void moneyIsExact() throws Exception {
    assertThat(Money.parse("0.00000080000")).isEqualTo(800_000);
    assertThat(Money.parse("-12.5")).isEqualTo(-12_500_000_000_000L);
    assertThat(Money.parse("1.2E-7")).isEqualTo(120_000);
    assertThat(Money.parse("0.0000000000049")).isEqualTo(Money.BIG);
    assertThat(Money.parse("12345678.5")).isEqualTo(Money.BIG);
    assertThat(Money.parse("1234567.5")).isEqualTo(1_234_567_500_000_000_000L);
    assertThatThrownBy(() -> Money.parse("12,5")).hasMessageContaining("not a decimal number");
    Money.Sum s = new Money.Sum();
    for (int i = 0; i < 20; i++) {
      s.add(Long.MAX_VALUE / 2);
    }
    s.add(new BigDecimal("0.0000000000001"));
    assertThat(s.value())
        .isEqualByComparingTo(
            Money.decimal(Long.MAX_VALUE / 2)
                .multiply(BigDecimal.valueOf(20))
                .add(new BigDecimal("1e-13")));
  }

  @Test
  void amountsBeyondALongAreKeptExactly() throws Exception {
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(SAMPLE).subList(0, 4));
    lines.set(1, lines.get(1).replaceFirst("^NULL,[0-9.]+,", "NULL,12345678901.123456789012345,"));
    lines.set(2, lines.get(2).replaceFirst("^NULL,[0-9.]+,", "NULL,0.0000000000000001,"));
    Path wide = dir.resolve("wide.csv");
    Files.write(wide, lines);
    Ledger l = ledger();
    Ledger.Result r = l.ingest(List.of(wide), USD);
    assertThat(r.files().get(0).wide()).isGreaterThanOrEqualTo(2);
    assertThat(total(l, null)).isEqualByComparingTo(billedCostOf(wide));
  }
}
