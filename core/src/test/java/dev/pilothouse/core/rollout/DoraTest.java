package dev.pilothouse.core.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.pilothouse.core.event.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** DORA metrics from hand-made event histories whose figures are worked out in the comments. */
class DoraTest {
  static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
  final List<Event> events = new ArrayList<>();

  void add(Duration at, String type, String service, Map<String, String> fields) {
    events.add(new Event(events.size() + 1, T0.plus(at), type, service, "", "", fields, "", ""));
  }

  Dora.Report report(Duration period) {
    return Dora.compute(events, T0, T0.plus(period), Duration.ofHours(1));
  }

  @Test
  void fourDeploys_oneRolledBack_oneFollowedByAnIncident() {
    // Day 0: shop v2 committed 2 h before start, promoted 10 min after start: lead 2h10m.
    add(
        Duration.ofHours(10),
        "RolloutStarted",
        "shop",
        Map.of("commit_time", "2026-11-01T08:00:00Z"));
    add(Duration.ofHours(10).plusMinutes(10), "RolloutPromoted", "shop", Map.of());
    // Day 1: shop v3 (commit 30 min before), canary gets traffic at +1 min, rolled back at +2 min.
    add(
        Duration.ofHours(34),
        "RolloutStarted",
        "shop",
        Map.of("commit_time", "2026-11-02T09:30:00Z"));
    add(Duration.ofHours(34).plusSeconds(60), "RolloutStep", "shop", Map.of("weight", "10"));
    add(Duration.ofHours(34).plusSeconds(120), "RolloutRolledBack", "shop", Map.of());
    // Day 2: api v2 without commit time, promoted; crash loop 30 min later, ready again 5 min on.
    add(Duration.ofHours(58), "RolloutStarted", "api", Map.of());
    add(Duration.ofHours(58).plusMinutes(5), "RolloutPromoted", "api", Map.of());
    add(Duration.ofHours(58).plusMinutes(35), "CrashLoop", "api", Map.of());
    add(Duration.ofHours(58).plusMinutes(40), "InstanceReady", "api", Map.of());
    // Day 3: shop v4 committed 4 h before, promoted after 20 min: lead 4h20m.
    add(
        Duration.ofHours(82),
        "RolloutStarted",
        "shop",
        Map.of("commit_time", "2026-11-04T06:00:00Z"));
    add(Duration.ofHours(82).plusMinutes(20), "RolloutPromoted", "shop", Map.of());
    // Still running at the end.
    add(Duration.ofHours(90), "RolloutStarted", "shop", Map.of());

    Dora.Report r = report(Duration.ofDays(4));

    assertThat(r.deployments()).isEqualTo(4);
    assertThat(r.successful()).isEqualTo(3);
    assertThat(r.failed()).as("one rollback + one incident within the hour").isEqualTo(2);
    assertThat(r.inProgress()).isEqualTo(1);
    assertThat(r.deploymentsPerDay()).isCloseTo(0.75, within(1e-9));
    assertThat(r.changeFailureRate()).isCloseTo(0.5, within(1e-9));
    // Leads: 2h10m = 7800 s and 4h20m = 15600 s; median of two is their mean.
    assertThat(r.leadTime().samples()).isEqualTo(2);
    assertThat(r.leadTime().medianSeconds()).isCloseTo(11_700, within(1e-6));
    // Restores: rollback 60 s after first traffic; incident 300 s.
    assertThat(r.timeToRestore().samples()).isEqualTo(2);
    assertThat(r.timeToRestore().medianSeconds()).isCloseTo(180, within(1e-6));
    assertThat(r.perService()).containsOnlyKeys("shop", "api");
    assertThat(r.perService().get("shop").deployments()).isEqualTo(3);
    assertThat(r.perService().get("api").changeFailureRate()).isEqualTo(1.0);
    assertThat(r.levels())
        .containsEntry("lead_time", "elite")
        .containsEntry("time_to_restore", "elite")
        .containsEntry("change_failure_rate", "low")
        .containsEntry("deployment_frequency", "high");
  }

  @Test
  void incidentAfterTheWindow_orAfterTheNextDeploy_doesNotCountAgainstADeploy() {
    add(Duration.ZERO, "RolloutStarted", "shop", Map.of());
    add(Duration.ofMinutes(5), "RolloutPromoted", "shop", Map.of());
    add(Duration.ofHours(3), "CrashLoop", "shop", Map.of());
    add(Duration.ofHours(3).plusMinutes(1), "InstanceReady", "shop", Map.of());
    Dora.Report r = report(Duration.ofDays(1));
    assertThat(r.failed()).isZero();
    assertThat(r.changeFailureRate()).isEqualTo(0.0);
    assertThat(r.timeToRestore().medianSeconds())
        .as("the incident still has a restore")
        .isEqualTo(60.0);
  }

  @Test
  void deploysBeforeThePeriod_areLeftOut_andNoDataGivesNulls() {
    add(Duration.ZERO, "RolloutStarted", "shop", Map.of());
    add(Duration.ofMinutes(5), "RolloutPromoted", "shop", Map.of());
    Dora.Report r =
        Dora.compute(
            events, T0.plus(Duration.ofDays(1)), T0.plus(Duration.ofDays(2)), Duration.ofHours(1));
    assertThat(r.deployments()).isZero();
    assertThat(r.changeFailureRate()).isNull();
    assertThat(r.leadTime().medianSeconds()).isNull();
    assertThat(r.levels()).isEmpty();
  }

  @Test
  void anIncidentAfterADeploy_failsIt_andRestoresWhenResolved() {
    add(Duration.ofHours(1), "RolloutStarted", "shop", Map.of());
    add(Duration.ofHours(1).plusMinutes(5), "RolloutPromoted", "shop", Map.of());
    // 20 minutes after the promotion an alert opens incident 7; it is resolved 45 minutes later.
    add(Duration.ofHours(1).plusMinutes(25), "IncidentOpened", "shop", Map.of("incident", "7"));
    add(Duration.ofHours(1).plusMinutes(30), "InstanceReady", "shop", Map.of());
    add(Duration.ofHours(1).plusMinutes(40), "IncidentResolved", "shop", Map.of("incident", "6"));
    add(Duration.ofHours(2).plusMinutes(10), "IncidentResolved", "shop", Map.of("incident", "7"));
    Dora.Report r = report(Duration.ofDays(1));
    assertThat(r.changeFailureRate()).isEqualTo(1.0);
    assertThat(r.timeToRestore().samples()).isEqualTo(1);
    assertThat(r.timeToRestore().medianSeconds()).isEqualTo(45 * 60.0);
  }
}
