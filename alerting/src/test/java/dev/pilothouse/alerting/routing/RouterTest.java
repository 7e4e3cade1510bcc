package dev.pilothouse.alerting.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.routing.Fingerprints;
import dev.pilothouse.core.alerting.routing.InhibitRule;
import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Notification;
import dev.pilothouse.core.alerting.routing.Receiver;
import dev.pilothouse.core.alerting.routing.Route;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import dev.pilothouse.core.alerting.routing.RoutingRepository;
import dev.pilothouse.core.alerting.routing.Silence;
import dev.pilothouse.core.alerting.routing.TimeInterval;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The router in virtual time, with a hand-written sender and repository. */
class RouterTest {
  static final class Repo implements RoutingRepository {
    final Map<String, Silence> silences = new LinkedHashMap<>();
    final Map<String, Notified> log = new LinkedHashMap<>();

    @Override
    public List<Silence> silences() {
      return List.copyOf(silences.values());
    }

    @Override
    public void saveSilence(Silence s) {
      silences.put(s.id(), s);
    }

    @Override
    public void purgeSilences(Instant expiredBefore) {
      silences.values().removeIf(s -> s.endsAt().isBefore(expiredBefore));
    }

    @Override
    public Optional<Notified> notified(String key) {
      return Optional.ofNullable(log.get(key));
    }

    @Override
    public void saveNotified(Notified n) {
      log.put(n.key(), n);
    }

    @Override
    public void purgeNotified(Instant now) {
      log.values().removeIf(n -> n.expiresAt().isBefore(now));
    }
  }

  record Sent(Instant at, Receiver.Integration to, Notification n) {}

  final List<Sent> sent = new ArrayList<>();
  final Repo repo = new Repo();
  Instant now = Instant.parse("2026-11-29T12:00:00Z"); // a Sunday
  final InstantSource clock = () -> now;
  final List<AlertState> alerts = new ArrayList<>();
  RoutingConfig config;
  boolean failing;

  static final Receiver.Webhook HOOK = new Receiver.Webhook("http://127.0.0.1:1/hook", true, 0);
  static final Receiver.Webhook PAGER = new Receiver.Webhook("http://127.0.0.1:1/pager", true, 0);
  static final Receiver.Webhook QUIET = new Receiver.Webhook("http://127.0.0.1:1/q", false, 0);

  static Route route(String receiver, List<String> groupBy, List<Route> children) {
    return new Route(
        receiver,
        groupBy,
        Duration.ofSeconds(30),
        Duration.ofMinutes(5),
        Duration.ofHours(4),
        List.of(),
        false,
        List.of(),
        List.of(),
        children);
  }

  static Route child(String receiver, LabelMatcher m, boolean cont) {
    return new Route(
        receiver,
        List.of("alertname"),
        Duration.ofSeconds(30),
        Duration.ofMinutes(5),
        Duration.ofHours(4),
        List.of(m),
        cont,
        List.of(),
        List.of(),
        List.of());
  }

  Router router() {
    return new Router(
        () -> Optional.ofNullable(config),
        () -> List.copyOf(alerts),
        (in, n) -> {
          if (failing) {
            throw new java.io.IOException("receiver down");
          }
          sent.add(new Sent(now, in, n));
        },
        repo,
        clock,
        new Router.Options(() -> "http://pilothouse:9460", Runnable::run));
  }

  void config(Route root, Receiver... receivers) {
    config = new RoutingConfig(root, List.of(receivers), List.of(), List.of());
  }

  AlertState fire(String name, String... kv) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put("alertname", name);
    for (int i = 0; i < kv.length; i += 2) {
      l.put(kv[i], kv[i + 1]);
    }
    AlertState a =
        new AlertState(
            name,
            l,
            Map.of("summary", name + " fires"),
            AlertState.State.FIRING,
            now,
            now,
            null,
            null,
            1);
    alerts.add(a);
    return a;
  }

  void resolve(AlertState a) {
    alerts.remove(a);
    alerts.add(
        new AlertState(
            a.rule(),
            a.labels(),
            a.annotations(),
            AlertState.State.INACTIVE,
            a.activeAt(),
            a.firedAt(),
            now,
            null,
            0));
  }

  void run(Router r, Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      now = now.plusSeconds(1);
      r.tick();
    }
  }

  @Test
  void aGroup_isNotifiedAfterGroupWait_once_withAlertmanagersWebhookFields() {
    config(route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK)));
    fire("Backlog", "queue", "orders", "job", "worker");
    fire("Backlog", "queue", "billing", "job", "worker");
    Router r = router();
    run(r, Duration.ofSeconds(29));
    assertThat(sent).isEmpty();
    run(r, Duration.ofSeconds(3));
    assertThat(sent)
        .singleElement()
        .satisfies(
            s -> {
              Notification n = s.n();
              assertThat(n.groupKey()).isEqualTo("{}:{alertname=\"Backlog\"}");
              assertThat(n.status()).isEqualTo("firing");
              assertThat(n.groupLabels()).isEqualTo(Map.of("alertname", "Backlog"));
              assertThat(n.commonLabels())
                  .containsEntry("job", "worker")
                  .doesNotContainKey("queue");
              assertThat(n.alerts())
                  .extracting(a -> a.labels().get("queue"))
                  .containsExactly("billing", "orders");
              assertThat(n.alerts().get(0).endsAt()).isNull();
              assertThat(n.alerts().get(0).fingerprint()).hasSize(16);
            });
    run(r, Duration.ofHours(1));
    assertThat(sent).hasSize(1);
  }

  @Test
  void nothingChanged_isRepeatedOnlyAfterRepeatInterval() {
    config(route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK)));
    fire("Backlog");
    Router r = router();
    run(r, Duration.ofHours(4).plusMinutes(6));
    assertThat(sent).hasSize(2);
    assertThat(Duration.between(sent.get(0).at(), sent.get(1).at()))
        .isBetween(Duration.ofHours(4), Duration.ofHours(4).plusMinutes(5));
  }

  @Test
  void aNewAlertInAGroup_waitsForGroupInterval_aResolvedOneIsSentOnlyWhereSendResolved() {
    config(
        route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK, QUIET)));
    AlertState first = fire("Backlog", "queue", "orders");
    Router r = router();
    run(r, Duration.ofSeconds(31));
    assertThat(sent).hasSize(2);
    fire("Backlog", "queue", "billing");
    run(r, Duration.ofMinutes(4));
    assertThat(sent).hasSize(2);
    run(r, Duration.ofMinutes(1));
    assertThat(sent).hasSize(4);
    assertThat(sent.get(2).n().alerts()).hasSize(2);
    resolve(first);
    run(r, Duration.ofMinutes(5));
    List<Sent> last = sent.subList(4, sent.size());
    assertThat(last)
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.to()).isEqualTo(HOOK);
              assertThat(s.n().alerts())
                  .extracting(a -> a.labels().get("queue") + "=" + a.status())
                  .containsExactly("billing=firing", "orders=resolved");
              assertThat(s.n().alerts().get(1).endsAt()).isNotNull();
            });
  }

  @Test
  void routes_sendToTheFirstMatchingChild_andOnWithContinue() {
    config(
        route(
            "team",
            List.of(),
            List.of(
                child("pager", new LabelMatcher("severity", LabelMatcher.Op.EQUAL, "page"), true),
                child(
                    "team2",
                    new LabelMatcher("severity", LabelMatcher.Op.REGEX, "page|ticket"),
                    false),
                child("never", new LabelMatcher("severity", LabelMatcher.Op.REGEX, ".+"), false))),
        new Receiver("team", List.of(HOOK)),
        new Receiver("pager", List.of(PAGER)),
        new Receiver("team2", List.of(HOOK)),
        new Receiver("never", List.of(QUIET)));
    fire("Down", "severity", "page");
    fire("Slow", "severity", "none");
    Router r = router();
    run(r, Duration.ofSeconds(31));
    assertThat(sent)
        .extracting(s -> s.n().receiver() + " " + s.n().groupKey())
        .containsExactlyInAnyOrder(
            "pager {}/{severity=\"page\"}:{alertname=\"Down\"}",
            "team2 {}/{severity=~\"page|ticket\"}:{alertname=\"Down\"}",
            "never {}/{severity=~\".+\"}:{alertname=\"Slow\"}");
  }

  @Test
  void aSilence_mutesMatchingAlerts_untilItIsExpired() {
    config(route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK)));
    fire("Backlog", "queue", "orders");
    Router r = router();
    Silence s =
        r.silence(
            null,
            List.of(new LabelMatcher("queue", LabelMatcher.Op.EQUAL, "orders")),
            now,
            now.plus(Duration.ofHours(2)),
            "alice",
            "maintenance");
    run(r, Duration.ofMinutes(10));
    assertThat(sent).isEmpty();
    assertThat(r.status(alerts.get(0).labels()).silencedBy()).containsExactly(s.id());
    r.expire(s.id());
    run(r, Duration.ofMinutes(5));
    assertThat(sent).hasSize(1);
    assertThat(r.silence(s.id()).orElseThrow().state(now)).isEqualTo("expired");
  }

  @Test
  void silences_thatWouldMuteEverything_orAreMalformed_areRefused() {
    config(route("team", List.of(), List.of()), new Receiver("team", List.of(HOOK)));
    Router r = router();
    assertThatThrownBy(
            () ->
                r.silence(
                    null,
                    List.of(new LabelMatcher("a", LabelMatcher.Op.REGEX, ".*")),
                    now,
                    now.plusSeconds(60),
                    "x",
                    "y"))
        .hasMessageContaining("must not match the empty string");
    assertThatThrownBy(
            () ->
                r.silence(
                    null,
                    List.of(new LabelMatcher("a", LabelMatcher.Op.REGEX, "(")),
                    now,
                    now.plusSeconds(60),
                    "x",
                    "y"))
        .hasMessageContaining("invalid regular expression");
    assertThatThrownBy(
            () ->
                r.silence(
                    null,
                    List.of(new LabelMatcher("a", LabelMatcher.Op.EQUAL, "b")),
                    now,
                    now.minusSeconds(1),
                    "x",
                    "y"))
        .hasMessageContaining("endsAt");
    assertThat(r.silences()).isEmpty();
  }

  @Test
  void aFiringCriticalAlert_inhibitsWarningsWithTheSameLabels() {
    config =
        new RoutingConfig(
            route("team", List.of("alertname", "cluster"), List.of()),
            List.of(new Receiver("team", List.of(HOOK))),
            List.of(
                new InhibitRule(
                    List.of(new LabelMatcher("severity", LabelMatcher.Op.EQUAL, "critical")),
                    List.of(new LabelMatcher("severity", LabelMatcher.Op.EQUAL, "warning")),
                    List.of("cluster"))),
            List.of());
    fire("DiskFull", "severity", "critical", "cluster", "a");
    fire("DiskFilling", "severity", "warning", "cluster", "a");
    fire("DiskFilling", "severity", "warning", "cluster", "b");
    Router r = router();
    run(r, Duration.ofSeconds(31));
    assertThat(sent)
        .extracting(s -> s.n().groupKey())
        .containsExactlyInAnyOrder(
            "{}:{alertname=\"DiskFull\", cluster=\"a\"}",
            "{}:{alertname=\"DiskFilling\", cluster=\"b\"}");
    assertThat(r.status(alerts.get(1).labels()).inhibitedBy()).hasSize(1);
  }

  @Test
  void aRestart_doesNotNotifyAgain_whatTheLogSaysWasSent() {
    config(route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK)));
    fire("Backlog");
    run(router(), Duration.ofSeconds(31));
    assertThat(sent).hasSize(1);
    Router second = router(); // a new daemon over the same repository
    run(second, Duration.ofMinutes(30));
    assertThat(sent).hasSize(1);
  }

  @Test
  void aFailedDelivery_isNotLogged_andIsTriedAgainAtTheNextFlush() {
    config(route("team", List.of("alertname"), List.of()), new Receiver("team", List.of(HOOK)));
    fire("Backlog");
    failing = true;
    Router r = router();
    run(r, Duration.ofSeconds(31));
    assertThat(sent).isEmpty();
    assertThat(repo.log).isEmpty();
    failing = false;
    run(r, Duration.ofMinutes(5));
    assertThat(sent).hasSize(1);
  }

  @Test
  void muteTimeIntervals_holdNotifications_untilTheIntervalEnds() {
    TimeInterval weekend =
        new TimeInterval(
            "weekend",
            List.of(
                new TimeInterval.Period(
                    List.of(),
                    List.of(new TimeInterval.Range(0, 0)),
                    List.of(),
                    List.of(),
                    List.of(),
                    "UTC")));
    Route root =
        new Route(
            "team",
            List.of("alertname"),
            Duration.ofSeconds(30),
            Duration.ofMinutes(5),
            Duration.ofHours(4),
            List.of(),
            false,
            List.of("weekend"),
            List.of(),
            List.of());
    config =
        new RoutingConfig(
            root, List.of(new Receiver("team", List.of(HOOK))), List.of(), List.of(weekend));
    fire("Backlog");
    Router r = router();
    run(r, Duration.ofHours(11)); // Sunday 12:00 to 23:00
    assertThat(sent).isEmpty();
    run(r, Duration.ofHours(1).plusMinutes(6)); // into Monday
    assertThat(sent).hasSize(1);
  }

  @Test
  void theEmptyLabelSetsFingerprint_isFnvsOffsetBasis() {
    // The empty set's is FNV-1a's offset basis, as in Prometheus's model; the fingerprints of
    // real label sets are compared with a real Alertmanager's in AlertmanagerComplianceTest.
    assertThat(Fingerprints.of(Map.of())).isEqualTo("cbf29ce484222325");
  }
}
