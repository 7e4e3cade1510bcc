package dev.pilothouse.alerting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.AlertState.State;
import dev.pilothouse.core.alerting.AlertStateRepository;
import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.event.NewEvent;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Rule evaluation in virtual time, against a hand-written store. */
class RulesTest {
  /** A store whose query results are given per expression as a function of time. */
  static final class FakeStore implements RuleStore {
    final Map<String, Function<Instant, List<Sample>>> results = new HashMap<>();
    final List<Map.Entry<Instant, Sample>> appended = new ArrayList<>();

    @Override
    public List<Sample> query(String expression, Instant at) {
      var f = results.get(expression);
      if (f == null) {
        throw new IllegalArgumentException("unknown expression " + expression);
      }
      return f.apply(at);
    }

    @Override
    public void append(List<Sample> samples, Instant at) {
      samples.forEach(s -> appended.add(Map.entry(at, s)));
    }

    List<Sample> at(Instant t, String name) {
      return appended.stream()
          .filter(e -> e.getKey().equals(t) && name.equals(e.getValue().labels().get("__name__")))
          .map(Map.Entry::getValue)
          .toList();
    }
  }

  /** Keeps alerts in memory, as the store keeps them in SQLite. */
  static final class MemoryRepo implements AlertStateRepository {
    final Map<String, List<AlertState>> groups = new LinkedHashMap<>();
    int saves;

    @Override
    public Map<String, List<AlertState>> load() {
      return new LinkedHashMap<>(groups);
    }

    @Override
    public void save(String groupKey, List<AlertState> alerts) {
      saves++;
      if (alerts.isEmpty()) {
        groups.remove(groupKey);
      } else {
        groups.put(groupKey, List.copyOf(alerts));
      }
    }
  }

  static final class Clock implements InstantSource {
    Instant now = Instant.parse("2026-11-29T12:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }
  }

  final FakeStore store = new FakeStore();
  final MemoryRepo repo = new MemoryRepo();
  final List<NewEvent> events = new ArrayList<>();
  final Clock clock = new Clock();
  List<RuleGroup> groups = List.of();

  Rules rules() {
    return new Rules(() -> groups, store, repo, events::add, clock, Rules.Options.defaults());
  }

  static RuleStore.Sample sample(double v, String... kv) {
    Map<String, String> l = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      l.put(kv[i], kv[i + 1]);
    }
    return new RuleStore.Sample(l, v);
  }

  static RuleGroup group(Rule... rules) {
    return new RuleGroup("g", "rules.yml", Duration.ofSeconds(15), 0, List.of(rules));
  }

  /** Runs ticks every second for the given time. */
  void run(Rules r, Duration d) {
    Instant end = clock.now.plus(d);
    while (clock.now.isBefore(end)) {
      clock.now = clock.now.plusSeconds(1);
      r.tick();
    }
  }

  boolean down = true;

  void instanceDown() {
    store.results.put(
        "up == 0",
        t ->
            down
                ? List.of(sample(0, "__name__", "up", "instance", "a:9100", "job", "node"))
                : List.of());
  }

  static Rule.Alerting downRule(Duration holdFor, Duration keep) {
    return new Rule.Alerting(
        "InstanceDown",
        "up == 0",
        holdFor,
        keep,
        Map.of("severity", "page"),
        Map.of("summary", "{{ $labels.instance }} of {{ $labels.job }} is down ({{ $value }})"));
  }

  @Test
  void alert_isPendingForItsHoldTime_thenFiresOnce_withExpandedAnnotations() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ofMinutes(1), Duration.ZERO)));
    Rules r = rules();
    run(r, Duration.ofSeconds(20));
    assertThat(r.alerts()).singleElement().extracting(AlertState::state).isEqualTo(State.PENDING);
    assertThat(events).isEmpty();
    run(r, Duration.ofSeconds(60));
    AlertState a = r.alerts().get(0);
    assertThat(a.state()).isEqualTo(State.FIRING);
    assertThat(Duration.between(a.activeAt(), a.firedAt()))
        .isBetween(Duration.ofSeconds(60), Duration.ofSeconds(75));
    assertThat(a.labels())
        .containsEntry("alertname", "InstanceDown")
        .containsEntry("severity", "page")
        .containsEntry("instance", "a:9100")
        .doesNotContainKey("__name__");
    assertThat(a.annotations()).containsEntry("summary", "a:9100 of node is down (0)");
    run(r, Duration.ofMinutes(5));
    assertThat(events).extracting(NewEvent::type).containsExactly("AlertFiring");
  }

  @Test
  void alert_resolvesWhenTheConditionEnds_andIsForgotten15MinutesLater() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ZERO, Duration.ZERO)));
    Rules r = rules();
    run(r, Duration.ofSeconds(31));
    assertThat(r.alerts()).singleElement().extracting(AlertState::state).isEqualTo(State.FIRING);
    down = false;
    run(r, Duration.ofSeconds(15));
    assertThat(r.alerts()).isEmpty();
    assertThat(events).extracting(NewEvent::type).containsExactly("AlertFiring", "AlertResolved");
    assertThat(r.groups().get(0).rules().get(0).alerts())
        .singleElement()
        .extracting(AlertState::state)
        .isEqualTo(State.INACTIVE);
    run(r, Duration.ofMinutes(16));
    assertThat(r.groups().get(0).rules().get(0).alerts()).isEmpty();
  }

  @Test
  void keepFiringFor_holdsAFiringAlert_afterItsConditionEnds() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ZERO, Duration.ofMinutes(1))));
    Rules r = rules();
    run(r, Duration.ofSeconds(31));
    down = false;
    run(r, Duration.ofSeconds(50));
    assertThat(r.alerts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.state()).isEqualTo(State.FIRING);
              assertThat(a.keepFiringSince()).isNotNull();
            });
    run(r, Duration.ofSeconds(30));
    assertThat(r.alerts()).isEmpty();
    assertThat(events).extracting(NewEvent::type).containsExactly("AlertFiring", "AlertResolved");
  }

  @Test
  void aRestart_neitherFiresAgainNorForgets() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ofMinutes(1), Duration.ZERO)));
    Rules first = rules();
    run(first, Duration.ofSeconds(100));
    AlertState before = first.alerts().get(0);
    assertThat(before.state()).isEqualTo(State.FIRING);
    assertThat(events).hasSize(1);
    // A new daemon over the same store: the alert is firing since the same moment, no new event.
    Rules second = rules();
    run(second, Duration.ofSeconds(60));
    AlertState after = second.alerts().get(0);
    assertThat(after.state()).isEqualTo(State.FIRING);
    assertThat(after.activeAt()).isEqualTo(before.activeAt());
    assertThat(after.firedAt()).isEqualTo(before.firedAt());
    assertThat(events).hasSize(1);
  }

  @Test
  void aRestartDuringPending_keepsActiveAt_soTheHoldTimeIsNotStartedAgain() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ofMinutes(2), Duration.ZERO)));
    Rules first = rules();
    run(first, Duration.ofSeconds(90));
    Instant activeAt = first.alerts().get(0).activeAt();
    Rules second = rules();
    run(second, Duration.ofSeconds(60));
    assertThat(second.alerts().get(0).state()).isEqualTo(State.FIRING);
    assertThat(second.alerts().get(0).activeAt()).isEqualTo(activeAt);
  }

  @Test
  void alertsSeries_areWrittenAsPrometheusWritesThem_andEndWithAStalenessMarker() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ofSeconds(30), Duration.ZERO)));
    Rules r = rules();
    run(r, Duration.ofSeconds(16));
    Instant first = r.alerts().get(0).activeAt(); // the evaluation that made it pending
    assertThat(store.at(first, "ALERTS"))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.labels()).containsEntry("alertstate", "pending");
              assertThat(s.value()).isEqualTo(1);
            });
    assertThat(store.at(first, "ALERTS_FOR_STATE"))
        .singleElement()
        .extracting(RuleStore.Sample::value)
        .isEqualTo((double) first.getEpochSecond());
    run(r, Duration.ofSeconds(30));
    Instant firing = r.groups().get(0).lastEvaluation();
    assertThat(store.at(firing, "ALERTS"))
        .extracting(
            s ->
                s.labels().get("alertstate")
                    + "="
                    + (Double.isNaN(s.value()) ? "stale" : s.value()))
        .containsExactlyInAnyOrder("firing=1.0", "pending=stale");
  }

  @Test
  void recordingRule_writesItsSeries_andEndsThoseItNoLongerProduces() {
    List<RuleStore.Sample> result = new ArrayList<>();
    result.add(sample(3, "job", "node"));
    result.add(sample(2, "job", "api"));
    store.results.put("sum by (job) (up)", t -> List.copyOf(result));
    groups =
        List.of(
            group(new Rule.Recording("job:up:sum", "sum by (job) (up)", Map.of("team", "infra"))));
    Rules r = rules();
    run(r, Duration.ofSeconds(16));
    Instant t1 = r.groups().get(0).lastEvaluation();
    assertThat(store.at(t1, "job:up:sum"))
        .extracting(s -> s.labels().get("job") + "/" + s.labels().get("team") + "=" + s.value())
        .containsExactlyInAnyOrder("node/infra=3.0", "api/infra=2.0");
    result.remove(1);
    run(r, Duration.ofSeconds(15));
    Instant t2 = r.groups().get(0).lastEvaluation();
    assertThat(store.at(t2, "job:up:sum"))
        .extracting(
            s -> s.labels().get("job") + "=" + (Double.isNaN(s.value()) ? "stale" : s.value()))
        .containsExactlyInAnyOrder("node=3.0", "api=stale");
  }

  @Test
  void aFailingRule_isUnhealthy_andTheOthersStillRun() {
    instanceDown();
    store.results.put(
        "dup", t -> List.of(sample(1, "a", "1", "x", "1"), sample(1, "a", "1", "x", "2")));
    groups =
        List.of(
            group(
                new Rule.Alerting(
                    "Dup", "dup", Duration.ZERO, Duration.ZERO, Map.of("x", "same"), Map.of()),
                new Rule.Alerting(
                    "Bad", "nonsense(", Duration.ZERO, Duration.ZERO, Map.of(), Map.of()),
                downRule(Duration.ZERO, Duration.ZERO)));
    Rules r = rules();
    run(r, Duration.ofSeconds(16));
    var statuses = r.groups().get(0).rules();
    assertThat(statuses.get(0).health()).isEqualTo("err");
    assertThat(statuses.get(0).lastError()).contains("same labelset");
    assertThat(statuses.get(1).health()).isEqualTo("err");
    assertThat(statuses.get(2).health()).isEqualTo("ok");
    assertThat(r.alerts()).extracting(a -> a.rule()).containsExactly("InstanceDown");
  }

  @Test
  void aGroupLimit_failsTheRule_whenMoreAlertsWouldBeActive() {
    store.results.put(
        "many", t -> List.of(sample(1, "i", "1"), sample(1, "i", "2"), sample(1, "i", "3")));
    groups =
        List.of(
            new RuleGroup(
                "g",
                "rules.yml",
                Duration.ofSeconds(15),
                2,
                List.of(new Rule.Alerting("Many", "many", null, null, Map.of(), Map.of()))));
    Rules r = rules();
    run(r, Duration.ofSeconds(16));
    assertThat(r.groups().get(0).rules().get(0).lastError())
        .isEqualTo("exceeded limit of 2 with 3 alerts");
    assertThat(r.alerts()).isEmpty();
  }

  @Test
  void groups_areEvaluatedOnTheirInterval_andStateIsKeptOnlyWhenItChanges() {
    instanceDown();
    groups = List.of(group(downRule(Duration.ZERO, Duration.ZERO)));
    Rules r = rules();
    run(r, Duration.ofMinutes(5));
    // One evaluation at once, then 20 in 5 minutes at 15 s; the alert changed once (new, firing).
    long evaluations =
        store.appended.stream()
            .filter(e -> e.getValue().labels().get("__name__").equals("ALERTS"))
            .count();
    assertThat(evaluations).isBetween(20L, 21L);
    assertThat(repo.saves).isEqualTo(1);
  }

  @Test
  void aReload_keepsTheAlertsOfUnchangedRules_andEndsTheSeriesOfRemovedOnes() {
    instanceDown();
    store.results.put("vector(1)", t -> List.of(sample(1)));
    Rule.Recording rec = new Rule.Recording("one", "vector(1)", Map.of());
    groups = List.of(group(downRule(Duration.ZERO, Duration.ZERO), rec));
    Rules r = rules();
    run(r, Duration.ofSeconds(16));
    Instant activeAt = r.alerts().get(0).activeAt();
    groups = List.of(group(downRule(Duration.ZERO, Duration.ZERO)));
    run(r, Duration.ofSeconds(15));
    assertThat(r.alerts().get(0).activeAt()).isEqualTo(activeAt);
    assertThat(store.appended)
        .anySatisfy(
            e -> {
              assertThat(e.getValue().labels()).containsEntry("__name__", "one");
              assertThat(Double.doubleToRawLongBits(e.getValue().value()))
                  .isEqualTo(Double.doubleToRawLongBits(RuleRun.STALE));
            });
    assertThat(events).extracting(NewEvent::type).containsExactly("AlertFiring");
  }
}
