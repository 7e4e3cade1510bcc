package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pilothouse.alerting.Rules;
import dev.pilothouse.alerting.slo.SloRules;
import dev.pilothouse.alerting.slo.SloStatus;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.AlertStateRepository;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.slo.Slo;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.promql.Engine;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SLOs compiled into rules, evaluated by the rule engine in virtual time against the real metrics
 * store and PromQL engine, fed the load balancer's series as it writes them (a 15 s scrape of
 * cumulative counters). The alert thresholds follow the SRE workbook: a full outage pages within
 * minutes, a slow burn under the budget never alerts.
 */
class SloRulesTest {
  @TempDir Path dir;
  Tsdb db;
  TsdbRuleStore store;
  final List<NewEvent> events = new ArrayList<>();
  Instant now;
  final Instant start = Instant.now().minus(Duration.ofHours(8)).truncatedTo(ChronoUnit.MINUTES);

  /** Cumulative counters of one instance, as the proxy exports them. */
  double ok;

  double errors;
  double fast;

  final Slo availability =
      new Slo(
          "web",
          "availability",
          Slo.Sli.AVAILABILITY,
          0.999,
          Duration.ofDays(30),
          null,
          true,
          Map.of("team", "shop"));
  final Slo latency =
      new Slo(
          "web",
          "latency",
          Slo.Sli.LATENCY,
          0.99,
          Duration.ofDays(30),
          Duration.ofMillis(250),
          true,
          Map.of());

  @BeforeEach
  void open() {
    db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground());
    store = store(db);
    now = start;
  }

  /** Rules' view of a store: the PromQL engine over it and its appender. */
  static TsdbRuleStore store(Tsdb db) {
    Engine engine =
        new Engine(
            (mint, maxt, ms, budget) -> db.select(mint, maxt, ms, budget),
            Engine.Options.defaults());
    return new TsdbRuleStore(() -> engine, () -> db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  /**
   * Scrapes every 15 s and evaluates rules every second for a while, at 100 requests/s.
   *
   * @param errorShare share of requests answered 5xx, as a function of minutes since start
   * @param slowShare share of requests slower than 250 ms
   */
  void run(Rules rules, Duration d, DoubleUnaryOperator errorShare, double slowShare) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      now = now.plusSeconds(1);
      if (errorShare != null && now.getEpochSecond() % 15 == 0) {
        double share = errorShare.applyAsDouble(Duration.between(start, now).toSeconds() / 60.0);
        errors += 1500 * share;
        ok += 1500 * (1 - share);
        fast += 1500 * (1 - slowShare);
        scrape();
      }
      if (rules != null) {
        rules.tick();
      }
    }
  }

  void scrape() {
    Tsdb.Appender a = db.appender(8);
    long t = now.toEpochMilli();
    Map<String, String> base =
        Map.of("service", "web", "route", "/", "instance", "i1", "version", "v1");
    a.add(labels("pilothouse_proxy_requests_total", base, "class", "2xx"), t, ok);
    a.add(labels("pilothouse_proxy_requests_total", base, "class", "5xx"), t, errors);
    a.add(labels("pilothouse_proxy_request_duration_seconds_bucket", base, "le", "0.25"), t, fast);
    a.add(labels("pilothouse_proxy_request_duration_seconds_count", base), t, ok + errors);
    a.commit();
  }

  static Labels labels(String name, Map<String, String> base, String... kv) {
    Map<String, String> m = new LinkedHashMap<>(base);
    m.put("__name__", name);
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Labels.of(m);
  }

  Rules rules(Slo... slos) {
    List<dev.pilothouse.core.alerting.RuleGroup> groups = SloRules.compile(List.of(slos));
    InstantSource clock = () -> now;
    return new Rules(
        () -> groups, store, new Memory(), events::add, clock, Rules.Options.defaults());
  }

  List<AlertState> firing(Rules r) {
    return r.alerts().stream().filter(a -> a.state() == AlertState.State.FIRING).toList();
  }

  @Test
  void steadyErrorsUnderBudget_giveTheSli_budgetAndBurnRate_andNeverAlert() {
    Rules r = rules(availability);
    // 0.05 % errors: half the 0.1 % budget.
    run(r, Duration.ofHours(3), m -> 0.0005, 0);
    SloStatus st = SloStatus.of(availability, store, now);
    assertThat(st.sli()).isCloseTo(0.9995, within(1e-6));
    assertThat(st.budgetRemaining()).isCloseTo(0.5, within(1e-3));
    assertThat(st.burnRates()).containsOnlyKeys(SloRules.ALERT_WINDOWS);
    assertThat(st.burnRates().get("1h")).isCloseTo(0.5, within(1e-3));
    assertThat(st.met()).isTrue();
    assertThat(firing(r)).isEmpty();
    // The recording rules wrote Sloth's series.
    var recorded =
        store.query(
            "slo:period_error_budget_remaining:ratio{service=\"web\",slo=\"availability\"}", now);
    assertThat(recorded)
        .singleElement()
        .satisfies(s -> assertThat(s.value()).isCloseTo(0.5, within(1e-3)));
    assertThat(store.query("slo:objective:ratio", now).get(0).value()).isEqualTo(0.999);
  }

  @Test
  void anOutage_pagesWithinTwoMinutes_andThePageResolvesWhenItEnds() {
    Rules r = rules(availability);
    run(r, Duration.ofHours(2), m -> 0.0002, 0);
    assertThat(firing(r)).isEmpty();
    Instant outage = now;
    run(r, Duration.ofMinutes(10), m -> 1.0, 0);
    AlertState page =
        firing(r).stream()
            .filter(a -> "page".equals(a.labels().get("severity")))
            .findFirst()
            .orElseThrow();
    assertThat(page.labels())
        .containsEntry("alertname", "ErrorBudgetBurn")
        .containsEntry("service", "web")
        .containsEntry("slo", "availability")
        .containsEntry("team", "shop");
    assertThat(Duration.between(outage, page.activeAt()))
        .isLessThanOrEqualTo(Duration.ofMinutes(2));
    // 1000× the allowed burn rate over the short window.
    assertThat(page.value()).isGreaterThan(14.4);
    assertThat(page.annotations().get("summary"))
        .contains("web burns its availability error budget");
    assertThat(page.annotations())
        .containsEntry("runbook_url", "docs/runbooks/error-budget-burn.md");
    // Back to normal: each long window is confirmed by a short one (5 m for 1 h, 30 m for 6 h), so
    // the page resolves once the outage has left the 30 m window, while the 1 h and 6 h windows
    // still show it.
    run(r, Duration.ofMinutes(25), m -> 0.0, 0);
    assertThat(firing(r)).anyMatch(a -> "page".equals(a.labels().get("severity")));
    run(r, Duration.ofMinutes(10), m -> 0.0, 0);
    assertThat(firing(r)).noneMatch(a -> "page".equals(a.labels().get("severity")));
    assertThat(events.stream().map(NewEvent::type).filter("AlertFiring"::equals)).isNotEmpty();
  }

  @Test
  void aSlowBurn_opensATicket_notAPage() {
    Rules r = rules(availability);
    // 0.5 % errors: 5× the budget — spends it in six days. Above 3× (1 d / 2 h), below 6× (page).
    run(r, Duration.ofHours(3), m -> 0.005, 0);
    // Both ticket pairs: 5× is over 3× (1 d and 2 h) and over 1× (3 d and 6 h).
    assertThat(firing(r))
        .extracting(a -> a.labels().get("severity") + " " + a.labels().get("long"))
        .containsExactlyInAnyOrder("ticket 1d", "ticket 3d");
  }

  @Test
  void aLatencySlo_countsRequestsOverTheThresholdAsBad() {
    Rules r = rules(latency);
    // 0.5 % of requests are slow against a 1 % budget: half the allowed burn.
    run(r, Duration.ofHours(3), m -> 0, 0.005);
    SloStatus st = SloStatus.of(latency, store, now);
    assertThat(st.sli()).isCloseTo(0.995, within(1e-6));
    assertThat(st.budgetRemaining()).isCloseTo(0.5, within(1e-3));
    assertThat(st.met()).isTrue();
    assertThat(st.burnRates().get("5m")).isCloseTo(0.5, within(1e-3));
    assertThat(firing(r)).isEmpty();
    // 2 %: twice the allowed burn, over the ticket's 1× on three days and six hours.
    run(r, Duration.ofHours(3), m -> 0, 0.02);
    assertThat(SloStatus.of(latency, store, now).burnRates().get("5m")).isCloseTo(2, within(1e-3));
    assertThat(firing(r))
        .extracting(a -> a.labels().get("severity") + " " + a.labels().get("long"))
        .containsExactly("ticket 3d");
  }

  @Test
  void withoutTraffic_theStatusIsUnknown_andNothingFires() {
    Rules r = rules(availability, latency);
    run(r, Duration.ofMinutes(5), null, 0);
    SloStatus st = SloStatus.of(availability, store, now);
    assertThat(st.sli()).isNull();
    assertThat(st.budgetRemaining()).isNull();
    assertThat(st.met()).isNull();
    assertThat(st.burnRates()).isEmpty();
    assertThat(r.alerts()).isEmpty();
  }

  @Test
  void availabilityOverAnyPeriod_isWhatDoraReports() {
    run(null, Duration.ofHours(2), m -> m < 60 ? 0.0 : 0.01, 0);
    // Half the period at 1 % errors.
    assertThat(SloStatus.availability("service=\"web\"", Duration.ofHours(2), store, now))
        .isCloseTo(0.995, within(2e-4));
    assertThat(SloStatus.availability("service=\"api\"", Duration.ofHours(2), store, now)).isNull();
  }

  static final class Memory implements AlertStateRepository {
    final Map<String, List<AlertState>> groups = new LinkedHashMap<>();

    @Override
    public Map<String, List<AlertState>> load() {
      return new LinkedHashMap<>(groups);
    }

    @Override
    public void save(String key, List<AlertState> alerts) {
      groups.put(key, List.copyOf(alerts));
    }
  }
}
