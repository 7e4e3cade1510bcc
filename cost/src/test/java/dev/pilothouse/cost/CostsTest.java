package dev.pilothouse.cost;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.CostSpec;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host shares, cost per request, budgets, anomalies and recommendations over known usage. */
class CostsTest {
  @TempDir Path dir;

  static final double GIB = 1L << 30;

  /** The store's answers for a host of 2 cores and 8 GiB running shop and search. */
  static final class FakeUsage implements Usage {
    final List<Sample> appended = new ArrayList<>();
    final List<String> queries = new ArrayList<>();

    @Override
    public List<Sample> query(String q, Instant at) {
      queries.add(q);
      if (q.contains("by (service, version)")) {
        // shop runs v1 on 0.4 cores and 768Mi and a v2 canary on 0.1 cores and 256Mi
        if (q.contains("pilothouse_instance_cpu_seconds_total")) {
          return List.of(
              new Sample(Map.of("service", "shop", "version", "v1"), 0.4),
              new Sample(Map.of("service", "shop", "version", "v2"), 0.1));
        }
        if (q.contains("pilothouse_instance_resident_memory_bytes")) {
          return List.of(
              new Sample(Map.of("service", "shop", "version", "v1"), 0.75 * GIB),
              new Sample(Map.of("service", "shop", "version", "v2"), 0.25 * GIB));
        }
        if (q.contains("pilothouse_proxy_requests_total")) { // 10 requests a second: 8 and 2
          return List.of(
              new Sample(Map.of("service", "shop", "version", "v1"), 8),
              new Sample(Map.of("service", "shop", "version", "v2"), 2));
        }
      }
      if (q.contains("pilothouse_instance_cpu_seconds_total")) {
        return List.of(
            new Sample(Map.of("service", "shop"), 0.5),
            new Sample(Map.of("service", "search"), 0.25));
      }
      if (q.contains("pilothouse_instance_resident_memory_bytes")) {
        return List.of(
            new Sample(Map.of("service", "shop"), GIB),
            new Sample(Map.of("service", "search"), GIB));
      }
      if (q.contains("node_cpu_seconds_total")) {
        return List.of(new Sample(Map.of(), 2));
      }
      if (q.contains("node_memory_MemTotal_bytes")) {
        return List.of(new Sample(Map.of(), 8 * GIB));
      }
      if (q.contains("rate(pilothouse_proxy_requests_total")) {
        return List.of(new Sample(Map.of("service", "shop"), 10));
      }
      if (q.contains("pilothouse_proxy_requests_total")) {
        return List.of(
            new Sample(Map.of("service", "shop", "route", "shop"), 1000),
            new Sample(Map.of("service", "search", "route", "search"), 500));
      }
      return List.of();
    }

    @Override
    public void append(List<Sample> samples, Instant at) {
      appended.addAll(samples);
    }
  }

  @Test
  void theHostIsSharedByMeasuredCpuAndMemory_andPricesRequests() throws Exception {
    Instant now = Instant.parse("2026-11-30T12:00:00Z");
    FakeUsage usage = new FakeUsage();
    CostSpec spec = new CostSpec("USD", new BigDecimal("1.00"), List.of(), List.of());
    Costs c = new Costs(dir, () -> spec, usage, Clock.fixed(now, ZoneOffset.UTC));
    HostShare.Result h = HostShare.of(spec.hostHourly(), now.minusSeconds(3600), now, usage);
    // shop: half of 0.5/2 cores + half of 1/8 GiB = 0.1875; search: 0.125; idle the rest
    assertThat(h.byService().get("shop")).isEqualByComparingTo("0.1875");
    assertThat(h.byService().get("search")).isEqualByComparingTo("0.125");
    assertThat(h.byService().get(HostShare.IDLE)).isEqualByComparingTo("0.6875");
    assertThat(h.byService().values().stream().reduce(BigDecimal.ZERO, BigDecimal::add))
        .isEqualByComparingTo("1.00");

    // A month's report: the usage subqueries stay within 11,000 points (the store's limit).
    usage.queries.clear();
    HostShare.of(spec.hostHourly(), now.minus(java.time.Duration.ofDays(62)), now, usage);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\\[(\\d+)s:(\\d+)s\\]")
            .matcher(String.join(" ", usage.queries));
    int subqueries = 0;
    while (m.find()) {
      subqueries++;
      assertThat(Long.parseLong(m.group(1)) / Long.parseLong(m.group(2)))
          .isLessThanOrEqualTo(11_000);
    }
    assertThat(subqueries).isEqualTo(2);

    Map<String, Costs.PerRequest> per =
        c.perRequest(now.minusSeconds(3600), now).stream()
            .collect(Collectors.toMap(p -> p.service() + "|" + p.route(), p -> p));
    assertThat(per.get("shop|null").requests()).isEqualTo(1000);
    assertThat(per.get("shop|null").perRequest()).isEqualByComparingTo("0.0001875");
    assertThat(per.get("search|null").perRequest()).isEqualByComparingTo("0.00025");
    assertThat(per.get("shop|shop").perRequest()).isEqualByComparingTo("0.0001875");

    c.tick();
    Map<String, Double> series =
        usage.appended.stream()
            .filter(s -> s.labels().get("__name__").equals("pilothouse_cost_per_request_usd"))
            .collect(Collectors.toMap(s -> s.labels().get("service"), Usage.Sample::value));
    // 0.1875 an hour over 10 requests a second
    assertThat(series.get("shop"))
        .isCloseTo(0.1875 / 3600 / 10, org.assertj.core.data.Offset.offset(1e-15));
    assertThat(series).doesNotContainKey(HostShare.IDLE);
    // by version: v1 takes 0.5·0.4/2 + 0.5·0.75/8 = 0.146875 of the host for 8 requests a second,
    // v2 0.5·0.1/2 + 0.5·0.25/8 = 0.040625 for 2
    Map<String, Double> byVersion =
        usage.appended.stream()
            .filter(
                s ->
                    s.labels().get("__name__").equals("pilothouse_cost_per_request_by_version_usd"))
            .collect(Collectors.toMap(s -> s.labels().get("version"), Usage.Sample::value));
    assertThat(byVersion.get("v1"))
        .isCloseTo(0.146875 / 3600 / 8, org.assertj.core.data.Offset.offset(1e-15));
    assertThat(byVersion.get("v2"))
        .isCloseTo(0.040625 / 3600 / 2, org.assertj.core.data.Offset.offset(1e-15));
    assertThat(usage.appended)
        .anyMatch(
            s ->
                s.labels().get("__name__").equals("pilothouse_cost_hourly_usd")
                    && s.labels().get("service").equals(HostShare.IDLE));
  }

  @Test
  void budgetsForecastTheMonthFromTheBill() throws Exception {
    Path bill = dir.resolve("bill.csv");
    GeneratedBill.write(bill, 20_000, 3, "2024-09");
    CostSpec spec =
        new CostSpec(
            "USD",
            null,
            List.of(new CostSpec.Allocate("app", "shop", null, null, null, "shop")),
            List.of(
                new CostSpec.Budget("aws", new BigDecimal("100000"), null, null, "AWS", 0.8),
                new CostSpec.Budget("shop", new BigDecimal("1"), "shop", null, null, 0.8)));
    Costs c =
        new Costs(
            dir.resolve("cost"),
            () -> spec,
            Usage.NONE,
            Clock.fixed(Instant.parse("2024-10-05T00:00:00Z"), ZoneOffset.UTC));
    c.ledger().ingest(List.of(bill), LedgerTest.USD);
    Map<String, Costs.BudgetStatus> b =
        c.budgets("2024-09").stream().collect(Collectors.toMap(Costs.BudgetStatus::name, x -> x));
    Report.Line aws =
        Report.run(
                c.ledger(),
                Report.Periods.parse("2024-09"),
                "provider",
                Report.dimension("provider", null),
                "USD")
            .lines()
            .stream()
            .filter(l -> l.key().equals("AWS"))
            .findFirst()
            .orElseThrow();
    assertThat(b.get("aws").spent())
        .isEqualByComparingTo(aws.effectiveCost().setScale(2, java.math.RoundingMode.HALF_EVEN));
    assertThat(b.get("aws").daysCovered()).isEqualTo(30.0);
    assertThat(b.get("aws").forecast())
        .isEqualByComparingTo(b.get("aws").spent()); // the whole month is in
    assertThat(b.get("aws").state()).isEqualTo("ok");
    assertThat(b.get("shop").state()).isEqualTo("exceeded");
    assertThat(c.budgets("2024-08").get(0).spent()).isEqualByComparingTo("0");
  }

  @Test
  void aSpikeInDailyCostIsAnAnomaly_andOrdinaryNoiseIsNot() {
    TreeMap<Long, BigDecimal> days = new TreeMap<>();
    java.util.SplittableRandom r = new java.util.SplittableRandom(5);
    for (long d = 19_900; d < 19_930; d++) {
      days.put(d, BigDecimal.valueOf(100 + r.nextInt(-8, 9)));
    }
    days.put(19_925L, new BigDecimal("180"));
    List<Daily.Anomaly> a = Daily.anomalies(Map.of("AWS / EC2", days), BigDecimal.ONE);
    assertThat(a)
        .extracting(Daily.Anomaly::day)
        .containsExactly(java.time.LocalDate.ofEpochDay(19_925).toString());
    assertThat(a.get(0).expected().doubleValue()).isBetween(92.0, 108.0);
    assertThat(a.get(0).score()).isGreaterThan(3.5);
  }

  /** A FOCUS row in GeneratedBill's columns: these values, the rest empty. */
  static String row(Map<String, String> values) {
    List<String> out = new ArrayList<>();
    for (String c : GeneratedBill.HEADER.split(",")) {
      out.add(values.getOrDefault(c, ""));
    }
    return String.join(",", out);
  }

  @Test
  void aSpikeOnTheBillsLastDayIsWrittenForTheAlert() throws Exception {
    Path bill = dir.resolve("bill.csv");
    GeneratedBill.write(bill, 30_000, 4, "2024-09");
    Path spike = dir.resolve("spike.csv");
    List<String> lines = new ArrayList<>(List.of(GeneratedBill.HEADER));
    for (int i = 0; i < 10; i++) {
      lines.add(
          row(
              Map.ofEntries(
                  Map.entry("BilledCost", "500"),
                  Map.entry("EffectiveCost", "500"),
                  Map.entry("ListCost", "500"),
                  Map.entry("BillingAccountId", "123456789000"),
                  Map.entry("BillingCurrency", "USD"),
                  Map.entry("BillingPeriodStart", "2024-09-01T00:00:00Z"),
                  Map.entry("BillingPeriodEnd", "2024-10-01T00:00:00Z"),
                  Map.entry("ChargeCategory", "Usage"),
                  Map.entry("ChargePeriodStart", "2024-09-30T0" + i + ":00:00Z"),
                  Map.entry("ChargePeriodEnd", String.format("2024-09-30T%02d:00:00Z", i + 1)),
                  Map.entry("ProviderName", "AWS"),
                  Map.entry("ServiceName", "Amazon Elastic Compute Cloud"))));
    }
    java.nio.file.Files.write(spike, lines);
    FakeUsage usage = new FakeUsage();
    CostSpec spec = CostSpec.none();
    Costs c =
        new Costs(
            dir.resolve("cost"),
            () -> spec,
            usage,
            Clock.fixed(Instant.parse("2024-10-02T00:00:00Z"), ZoneOffset.UTC));
    c.ledger().ingest(List.of(bill, spike), LedgerTest.USD);
    List<Daily.Anomaly> now = c.currentAnomalies();
    assertThat(now)
        .extracting(Daily.Anomaly::scope, Daily.Anomaly::day)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "AWS / Amazon Elastic Compute Cloud", "2024-09-30"));
    assertThat(now.get(0).excess()).isGreaterThan(new BigDecimal("4000"));
    c.tick();
    assertThat(usage.appended)
        .anyMatch(
            x ->
                x.labels().get("__name__").equals("pilothouse_cost_anomaly_excess")
                    && x.labels().get("day").equals("2024-09-30")
                    && x.value() > 4000);
  }

  @Test
  void theBillSuggestsCommitmentsTiersAndTransfer_eachWithSavingEvidenceAndRisk() throws Exception {
    Path bill = dir.resolve("bill.csv");
    GeneratedBill.write(bill, 60_000, 9, "2024-09");
    Ledger l = new Ledger(dir.resolve("cost"), Clock.systemUTC());
    l.ingest(List.of(bill), LedgerTest.USD);
    long from = Instant.parse("2024-09-01T00:00:00Z").getEpochSecond();
    long to = Instant.parse("2024-10-01T00:00:00Z").getEpochSecond();
    List<Recommendations.Recommendation> rec =
        Recommendations.fromBill(
            l,
            from,
            to,
            Map.of(
                "SKU0",
                new Recommendations.Price(
                    "SKU0", new BigDecimal("0.096"), null, new BigDecimal("0.03"), null)));
    Map<String, List<Recommendations.Recommendation>> byKind =
        rec.stream().collect(Collectors.groupingBy(Recommendations.Recommendation::kind));
    assertThat(byKind.keySet())
        .contains("commitment-utilisation", "commitment", "network", "storage-tier");
    for (Recommendations.Recommendation x : rec) {
      assertThat(x.monthlySaving().signum()).as(x.toString()).isGreaterThanOrEqualTo(0);
      assertThat(x.evidence()).isNotBlank();
      assertThat(x.risk()).isNotBlank();
    }
    // the generator covers 15% of compute at 62% of list: the discount the bill shows is 38%
    assertThat(byKind.get("commitment").get(0).evidence())
        .contains("discount 38.0% from the bill's covered usage");

    List<Recommendations.Recommendation> size =
        Recommendations.rightSize(
            List.of(
                new Recommendations.Sizing(
                    "shop", 2, 1.0, 1L << 30, 0.25, 256L << 20, 0.2, 200 << 20, "7d")),
            new BigDecimal("0.10"),
            2,
            8 * GIB);
    // frees 0.75 of 2 cores and 768Mi of 8GiB per instance: (0.1875 + 0.046875) × 0.10 × 730 × 2
    assertThat(size.get(0).monthlySaving())
        .isEqualByComparingTo(
            new BigDecimal("0.234375")
                .multiply(new BigDecimal("146"), MathContext.DECIMAL64)
                .setScale(2, java.math.RoundingMode.HALF_EVEN));
  }
}
