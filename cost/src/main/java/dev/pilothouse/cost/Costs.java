package dev.pilothouse.cost;

import dev.pilothouse.core.spec.CostSpec;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The cost capability as the daemon runs it: the ledger of bills, the spec's allocation and host
 * cost, cost per request from the load balancer's counts, budgets with forecasts, spend anomalies,
 * and the series it writes to the store every 15 seconds ({@code pilothouse_cost_per_request_usd},
 * {@code pilothouse_cost_hourly_usd}, {@code pilothouse_cost_budget_*}, {@code
 * pilothouse_cost_anomaly}).
 */
public final class Costs {
  private final Ledger ledger;
  private final Supplier<CostSpec> spec;
  private final Usage usage;
  private final Clock clock;

  public Costs(Path dir, Supplier<CostSpec> spec, Usage usage, Clock clock) throws IOException {
    this.ledger = new Ledger(dir, clock);
    this.spec = spec;
    this.usage = usage;
    this.clock = clock;
  }

  public Ledger ledger() {
    return ledger;
  }

  public CostSpec spec() {
    return spec.get();
  }

  /** A bill report; by pilothouse-service adds the host's shares and its idle line. */
  public Report.Result report(String by, Report.Periods periods) throws IOException, BillException {
    CostSpec s = spec.get();
    return Report.run(
        ledger, periods, by, Report.dimension(by, new Allocation(s.allocate())), s.currency());
  }

  /** The host's shares over the billing periods of a report (up to now). */
  public HostShare.Result host(Report.Periods periods) throws IOException {
    Instant now = clock.instant();
    Instant from;
    Instant to;
    if (periods.from() == null) {
      List<Slice> all = ledger.slices();
      from =
          all.isEmpty()
              ? now.minus(Duration.ofDays(1))
              : Instant.ofEpochSecond(all.get(0).periodStart());
    } else {
      from = LocalDate.parse(periods.from() + "-01").atStartOfDay().toInstant(ZoneOffset.UTC);
    }
    if (periods.to() == null) {
      to = now;
    } else {
      to =
          LocalDate.parse(periods.to() + "-01")
              .plusMonths(1)
              .atStartOfDay()
              .toInstant(ZoneOffset.UTC);
    }
    if (to.isAfter(now)) {
      to = now;
    }
    if (from.isAfter(to)) {
      from = to;
    }
    return HostShare.of(spec.get().hostHourly(), from, to, usage);
  }

  /** Cost per request of one service or route over a window ending at a time. */
  public record PerRequest(
      String service,
      String route,
      BigDecimal cost,
      BigDecimal hostCost,
      BigDecimal billCost,
      double requests,
      BigDecimal perRequest) {}

  /** Cost per request per service and per route over a window ending at {@code to}. */
  public List<PerRequest> perRequest(Instant from, Instant to) throws IOException {
    CostSpec s = spec.get();
    HostShare.Result host = HostShare.of(s.hostHourly(), from, to, usage);
    Map<String, BigDecimal> bill = allocated(from.getEpochSecond(), to.getEpochSecond());
    long w = Math.max(60, Duration.between(from, to).getSeconds());
    List<Usage.Sample> byRoute = usage.query(requestsQuery(w), to);
    Map<String, Double> requests = new HashMap<>();
    Map<String, Map<String, Double>> routes = new HashMap<>();
    for (Usage.Sample x : byRoute) {
      String svc = x.labels().get("service");
      String route = x.labels().getOrDefault("route", "");
      if (svc == null || Double.isNaN(x.value())) {
        continue;
      }
      requests.merge(svc, x.value(), Double::sum);
      routes.computeIfAbsent(route, r -> new HashMap<>()).merge(svc, x.value(), Double::sum);
    }
    java.util.Set<String> services = new java.util.TreeSet<>(requests.keySet());
    services.addAll(bill.keySet());
    host.byService().keySet().stream()
        .filter(k -> !k.equals(HostShare.IDLE))
        .forEach(services::add);
    services.remove(Allocation.UNALLOCATED);
    List<PerRequest> out = new ArrayList<>();
    Map<String, BigDecimal> perService = new HashMap<>();
    for (String svc : services) {
      BigDecimal h = host.byService().getOrDefault(svc, BigDecimal.ZERO);
      BigDecimal b = bill.getOrDefault(svc, BigDecimal.ZERO);
      BigDecimal c = h.add(b);
      double n = requests.getOrDefault(svc, 0.0);
      BigDecimal per = n >= 0.5 ? c.divide(BigDecimal.valueOf(n), MathContext.DECIMAL64) : null;
      perService.put(svc, per == null ? BigDecimal.ZERO : per);
      out.add(new PerRequest(svc, null, c, h, b, n, per));
    }
    new java.util.TreeMap<>(routes)
        .forEach(
            (route, bySvc) -> {
              if (route.isEmpty()) {
                return;
              }
              double n = bySvc.values().stream().mapToDouble(Double::doubleValue).sum();
              BigDecimal c = BigDecimal.ZERO;
              for (Map.Entry<String, Double> e : bySvc.entrySet()) {
                c =
                    c.add(
                        perService
                            .getOrDefault(e.getKey(), BigDecimal.ZERO)
                            .multiply(BigDecimal.valueOf(e.getValue())));
              }
              out.add(
                  new PerRequest(
                      String.join(",", new java.util.TreeSet<>(bySvc.keySet())),
                      route,
                      c,
                      null,
                      null,
                      n,
                      n >= 0.5 ? c.divide(BigDecimal.valueOf(n), MathContext.DECIMAL64) : null));
            });
    return out;
  }

  /**
   * Requests per service and route in the W seconds before a time: the load balancer's counters now
   * less their value W ago (0 for a series that did not exist then, so a new route's first requests
   * count, which increase() would leave out).
   */
  static String requestsQuery(long w) {
    String now = "sum by (service, route) (pilothouse_proxy_requests_total)";
    return "clamp_min("
        + now
        + " - (sum by (service, route) (pilothouse_proxy_requests_total offset "
        + w
        + "s) or "
        + now
        + " * 0), 0)";
  }

  /** The EffectiveCost of bill rows charged in [from, to) by the service they are allocated to. */
  public Map<String, BigDecimal> allocated(long from, long to) throws IOException {
    Allocation a = new Allocation(spec.get().allocate());
    Map<String, Money.Sum> sums = new HashMap<>();
    ledger.scan(
        s -> s.periodStart() < to && s.periodStart() + 32 * 86_400L > from,
        rows -> {
          long[] start = rows.longs(Focus.CHARGE_START);
          String[] labels = null;
          for (int i = 0; i < start.length; i++) {
            if (start[i] >= from && start[i] < to) {
              if (labels == null) {
                labels = a.labels(rows);
              }
              rows.addTo(sums.computeIfAbsent(labels[i], k -> new Money.Sum()), Focus.EFFECTIVE, i);
            }
          }
        });
    Map<String, BigDecimal> out = new LinkedHashMap<>();
    sums.forEach((k, v) -> out.put(k, v.value()));
    return out;
  }

  /** A budget's month: spent so far, the forecast for the whole month, and its state. */
  public record BudgetStatus(
      String name,
      String scope,
      String month,
      BigDecimal monthly,
      BigDecimal spent,
      BigDecimal forecast,
      double forecastRatio,
      double alertAt,
      String state,
      double daysCovered) {}

  /** Every budget of the spec for a month (2024-09; null: the month of now). */
  public List<BudgetStatus> budgets(String month) throws IOException {
    CostSpec s = spec.get();
    String m = month == null ? clock.instant().toString().substring(0, 7) : month;
    LocalDate first = LocalDate.parse(m + "-01");
    long from = first.atStartOfDay().toEpochSecond(ZoneOffset.UTC);
    long to = first.plusMonths(1).atStartOfDay().toEpochSecond(ZoneOffset.UTC);
    int days = first.lengthOfMonth();
    List<BudgetStatus> out = new ArrayList<>();
    if (s.budgets().isEmpty()) {
      return out;
    }
    Allocation a = new Allocation(s.allocate());
    Map<String, Money.Sum> spent = new HashMap<>();
    long[] last = {from};
    ledger.scan(
        x -> x.periodStart() < to && x.periodStart() + 32 * 86_400L > from,
        rows -> {
          long[] start = rows.longs(Focus.CHARGE_START);
          long[] end = rows.longs(Focus.CHARGE_END);
          String[] services = null;
          for (int i = 0; i < start.length; i++) {
            if (start[i] < from || start[i] >= to) {
              continue;
            }
            last[0] = Math.max(last[0], Math.min(to, end[i]));
            if (services == null) {
              services = a.labels(rows);
            }
            for (CostSpec.Budget b : s.budgets()) {
              boolean in =
                  b.service() != null
                      ? b.service().equals(services[i])
                      : b.account() != null
                          ? b.account().equals(rows.text(Focus.SUB_ACCOUNT, i))
                              || b.account().equals(rows.text(Focus.ACCOUNT, i))
                          : b.provider() == null
                              || b.provider().equals(rows.text(Focus.PROVIDER, i));
              if (in) {
                rows.addTo(
                    spent.computeIfAbsent(b.name(), k -> new Money.Sum()), Focus.EFFECTIVE, i);
              }
            }
          }
        });
    double covered = (last[0] - from) / 86_400.0;
    for (CostSpec.Budget b : s.budgets()) {
      BigDecimal sp = spent.containsKey(b.name()) ? spent.get(b.name()).value() : BigDecimal.ZERO;
      BigDecimal forecast =
          covered >= 1
              ? sp.multiply(BigDecimal.valueOf(days / covered), MathContext.DECIMAL64)
              : sp;
      double ratio = forecast.divide(b.monthly(), MathContext.DECIMAL64).doubleValue();
      String state =
          sp.compareTo(b.monthly()) >= 0
              ? "exceeded"
              : ratio >= b.alertAt() ? "forecast-over" : "ok";
      String scope =
          b.service() != null
              ? "service " + b.service()
              : b.account() != null
                  ? "account " + b.account()
                  : b.provider() != null ? "provider " + b.provider() : "everything";
      out.add(
          new BudgetStatus(
              b.name(),
              scope,
              m,
              b.monthly(),
              Recommendations.money(sp),
              Recommendations.money(forecast),
              Math.round(ratio * 1000) / 1000.0,
              b.alertAt(),
              state,
              Math.round(covered * 10) / 10.0));
    }
    return out;
  }

  /** Spend anomalies on daily cost by provider and cloud service, and by allocated service. */
  public List<Daily.Anomaly> anomalies(Report.Periods periods, BigDecimal floor)
      throws IOException {
    List<Daily.Anomaly> out = new ArrayList<>();
    Report.Dimension cloud =
        rows -> {
          String[] out2 = new String[rows.size()];
          for (int i = 0; i < out2.length; i++) {
            out2[i] = rows.text(Focus.PROVIDER, i) + " / " + rows.text(Focus.SERVICE, i);
          }
          return out2;
        };
    out.addAll(
        Daily.anomalies(Daily.costs(ledger, s -> periods.contains(s.period()), cloud), floor));
    if (!spec.get().allocate().isEmpty()) {
      Allocation a = new Allocation(spec.get().allocate());
      for (Daily.Anomaly x :
          Daily.anomalies(
              Daily.costs(ledger, s -> periods.contains(s.period()), a::labels), floor)) {
        out.add(
            new Daily.Anomaly(
                "service " + x.scope(), x.day(), x.cost(), x.expected(), x.excess(), x.score()));
      }
    }
    out.sort(
        java.util.Comparator.comparing(Daily.Anomaly::day).thenComparing(Daily.Anomaly::scope));
    return out;
  }

  /** Smallest excess over the usual daily cost that is an anomaly. */
  public static final BigDecimal ANOMALY_FLOOR = BigDecimal.ONE;

  /**
   * Every 15 seconds: cost per request now (host share and the allocated bill's average hourly cost
   * over its last 7 days, over the last 5 minutes' request rate), budgets and anomalies, written to
   * the store.
   */
  public void tick() {
    Instant now = clock.instant();
    List<Usage.Sample> out = new ArrayList<>();
    CostSpec s = spec.get();
    try {
      HostShare.Result host =
          HostShare.of(s.hostHourly(), now.minus(Duration.ofMinutes(5)), now, usage);
      long hostSeconds = 300;
      Map<String, BigDecimal> billHourly = billHourly();
      Map<String, Double> rps = new HashMap<>();
      for (Usage.Sample x :
          usage.query("sum by (service) (rate(pilothouse_proxy_requests_total[5m]))", now)) {
        if (x.labels().get("service") != null) {
          rps.put(x.labels().get("service"), x.value());
        }
      }
      java.util.Set<String> services = new java.util.TreeSet<>(host.byService().keySet());
      services.addAll(billHourly.keySet());
      services.remove(Allocation.UNALLOCATED);
      for (String svc : services) {
        double hourly =
            host.byService().getOrDefault(svc, BigDecimal.ZERO).doubleValue() * 3600.0 / hostSeconds
                + billHourly.getOrDefault(svc, BigDecimal.ZERO).doubleValue();
        Map<String, String> l =
            Map.of(
                "__name__", "pilothouse_cost_hourly_usd", "service", svc, "currency", s.currency());
        out.add(new Usage.Sample(l, hourly));
        Double r = rps.get(svc);
        if (r != null && r > 0 && !svc.equals(HostShare.IDLE)) {
          out.add(
              new Usage.Sample(
                  Map.of(
                      "__name__",
                      "pilothouse_cost_per_request_usd",
                      "service",
                      svc,
                      "currency",
                      s.currency()),
                  hourly / 3600.0 / r));
        }
      }
      // By version (the load balancer's and the instances' version label): what a request of
      // each version costs, so a canary can be compared with the stable version. The bill's
      // share of a service is split by the versions' requests.
      HostShare.Result byVersion =
          HostShare.of(s.hostHourly(), now.minus(Duration.ofMinutes(5)), now, usage, true);
      for (Usage.Sample x :
          usage.query(
              "sum by (service, version) (rate(pilothouse_proxy_requests_total[5m]))", now)) {
        String svc = x.labels().get("service");
        String version = x.labels().get("version");
        Double all = rps.get(svc);
        if (svc == null || version == null || !(x.value() > 0) || all == null || !(all > 0)) {
          continue;
        }
        double hourly =
            byVersion
                        .byService()
                        .getOrDefault(svc + "\u0000" + version, BigDecimal.ZERO)
                        .doubleValue()
                    * 3600.0
                    / hostSeconds
                + billHourly.getOrDefault(svc, BigDecimal.ZERO).doubleValue() * x.value() / all;
        out.add(
            new Usage.Sample(
                Map.of(
                    "__name__",
                    "pilothouse_cost_per_request_by_version_usd",
                    "service",
                    svc,
                    "version",
                    version,
                    "currency",
                    s.currency()),
                hourly / 3600.0 / x.value()));
      }
      for (BudgetStatus b : currentBudgets()) {
        out.add(
            new Usage.Sample(
                Map.of("__name__", "pilothouse_cost_budget_forecast_ratio", "budget", b.name()),
                b.forecastRatio()));
        out.add(
            new Usage.Sample(
                Map.of("__name__", "pilothouse_cost_budget_alert_ratio", "budget", b.name()),
                b.alertAt()));
        out.add(
            new Usage.Sample(
                Map.of("__name__", "pilothouse_cost_budget_spent", "budget", b.name()),
                b.spent().doubleValue()));
      }
      for (Daily.Anomaly a : currentAnomalies()) {
        out.add(
            new Usage.Sample(
                Map.of(
                    "__name__",
                    "pilothouse_cost_anomaly_excess",
                    "scope",
                    a.scope(),
                    "day",
                    a.day()),
                a.excess().doubleValue()));
      }
    } catch (IOException | RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(Costs.class).warn("cost: {}", e.toString());
    }
    if (!out.isEmpty()) {
      usage.append(out, now);
    }
  }

  /** What the caches below hold depends on: the ledger's content and the allocation rules. */
  private String cacheKey() {
    return ledger.version() + "|" + spec.get().allocate();
  }

  private volatile String anomalyKey = "";
  private volatile List<Daily.Anomaly> anomalyCache = List.of();

  /**
   * Spend anomalies on the last two days of the bill's data (computed again only when the ledger or
   * the allocation changes): these are the ones an alert is about.
   */
  List<Daily.Anomaly> currentAnomalies() throws IOException {
    String key = cacheKey();
    if (key.equals(anomalyKey)) {
      return anomalyCache;
    }
    long end = ledger.lastChargeEnd();
    List<Daily.Anomaly> current = List.of();
    if (end != Long.MIN_VALUE) {
      String since = java.time.LocalDate.ofEpochDay(Math.floorDiv(end - 1, 86_400L) - 1).toString();
      current =
          anomalies(new Report.Periods(null, null), ANOMALY_FLOOR).stream()
              .filter(a -> a.day().compareTo(since) >= 0)
              .toList();
    }
    anomalyCache = current;
    anomalyKey = key;
    return current;
  }

  private volatile String billKey = "";
  private volatile Map<String, BigDecimal> billHourlyCache = Map.of();

  /** Each service's average hourly EffectiveCost over the last 7 days of bill data. */
  Map<String, BigDecimal> billHourly() throws IOException {
    String key = cacheKey();
    if (key.equals(billKey)) {
      return billHourlyCache;
    }
    Map<String, BigDecimal> out = new HashMap<>();
    long end = ledger.lastChargeEnd();
    if (end != Long.MIN_VALUE && !spec.get().allocate().isEmpty()) {
      allocated(end - 7 * 86_400L, end)
          .forEach(
              (svc, c) ->
                  out.put(svc, c.divide(BigDecimal.valueOf(7 * 24), MathContext.DECIMAL64)));
    }
    billHourlyCache = out;
    billKey = key;
    return out;
  }

  private volatile String budgetKey = "";
  private volatile List<BudgetStatus> budgetCache = List.of();

  /**
   * This month's budgets, read from the ledger again only when it, the spec or the month change.
   */
  List<BudgetStatus> currentBudgets() throws IOException {
    String key =
        cacheKey() + "|" + spec.get().budgets() + "|" + clock.instant().toString().substring(0, 7);
    if (!key.equals(budgetKey)) {
      budgetCache = budgets(null);
      budgetKey = key;
    }
    return budgetCache;
  }

  /**
   * What could cost less: right-sizing from the autoscaler's advice (sizings) and what the last
   * {@code days} of the bill show, with a price catalogue; largest monthly saving first, those
   * under a cent a month left out.
   */
  public List<Recommendations.Recommendation> recommend(
      int days, Map<String, Recommendations.Price> prices, List<Recommendations.Sizing> sizings)
      throws IOException {
    CostSpec s = spec.get();
    HostShare.Capacity host = HostShare.capacity(usage, clock.instant());
    List<Recommendations.Recommendation> out =
        new ArrayList<>(
            Recommendations.rightSize(sizings, s.hostHourly(), host.cores(), host.memoryBytes()));
    long end = ledger.lastChargeEnd();
    if (end != Long.MIN_VALUE) {
      out.addAll(Recommendations.fromBill(ledger, end - days * 86_400L, end, prices));
    }
    out.removeIf(x -> x.monthlySaving().compareTo(new BigDecimal("0.01")) < 0);
    out.sort((a, b) -> b.monthlySaving().compareTo(a.monthlySaving()));
    return out;
  }

  /** A report line with the host's share of it (null without cost.hostHourly). */
  public record StatementLine(Report.Line bill, BigDecimal hostCost) {
    /** EffectiveCost and the host's share. */
    public BigDecimal totalCost() {
      return hostCost == null ? null : bill.effectiveCost().add(hostCost);
    }
  }

  /**
   * A report as people read it: by pilothouse-service with cost.hostHourly, each line gets its host
   * share, services that only use the host get lines of their own, and the total the host's cost;
   * host is null otherwise.
   */
  public record Statement(
      Report.Result report,
      HostShare.Result host,
      List<StatementLine> lines,
      StatementLine total) {}

  public Statement statement(String by, Report.Periods periods) throws IOException, BillException {
    Report.Result r = report(by, periods);
    if (!by.equals("pilothouse-service") || spec.get().hostHourly() == null) {
      return new Statement(
          r,
          null,
          r.lines().stream().map(l -> new StatementLine(l, null)).toList(),
          new StatementLine(r.total(), null));
    }
    HostShare.Result h = host(periods);
    List<StatementLine> lines = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Report.Line l : r.lines()) {
      lines.add(new StatementLine(l, h.byService().getOrDefault(l.key(), BigDecimal.ZERO)));
      seen.add(l.key());
    }
    BigDecimal zero = BigDecimal.ZERO;
    h.byService()
        .forEach(
            (k, v) -> {
              if (!seen.contains(k)) {
                lines.add(
                    new StatementLine(
                        new Report.Line(k, zero, zero, zero, zero, zero, zero, 0), v));
              }
            });
    return new Statement(r, h, lines, new StatementLine(r.total(), h.cost()));
  }
}
