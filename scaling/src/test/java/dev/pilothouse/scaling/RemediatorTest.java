package dev.pilothouse.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.Remediation;
import dev.pilothouse.core.spec.Remediation.Action;
import dev.pilothouse.core.spec.Remediation.Condition;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Remediation runbooks over a simulated fleet in virtual time. */
class RemediatorTest {
  static final Instant T0 = Instant.parse("2026-11-30T10:00:00Z");

  /** Instances by id: ready or not; replaced ones come back ready after a start delay. */
  static final class Fleet implements Remedies {
    Instant now = T0;
    final Map<String, Boolean> ready = new LinkedHashMap<>();
    final Map<String, Instant> starting = new LinkedHashMap<>();
    final List<String> quarantined = new ArrayList<>();
    final List<String> done = new ArrayList<>();
    final List<NewEvent> events = new ArrayList<>();
    final List<AlertState> alerts = new ArrayList<>();
    boolean replacementsHang; // a fresh instance hangs too, 3 s after it became ready
    final Map<String, Instant> hangAt = new LinkedHashMap<>();
    int next;
    String state = "running";
    int desired = 3;

    Fleet() {
      for (int k = 0; k < desired; k++) {
        ready.put("shop-" + next++, true);
      }
    }

    List<ServiceStatus> status() {
      List<InstanceStatus> l = new ArrayList<>();
      int readyCount = 0;
      for (var e : ready.entrySet()) {
        boolean r = e.getValue() && !starting.containsKey(e.getKey());
        readyCount += r ? 1 : 0;
        l.add(new InstanceStatus(e.getKey(), "shop", 0, 1, 1, "running", r, T0, 0, "t", "v1"));
      }
      for (String q : quarantined) {
        l.add(new InstanceStatus(q, "shop", 0, 1, 1, "quarantined", false, T0, 0, "t", "v1"));
      }
      return List.of(new ServiceStatus("shop", "v1", state, desired, readyCount, 1, l));
    }

    void second(Remediator r) {
      now = now.plusSeconds(1);
      for (var e : List.copyOf(starting.entrySet())) {
        if (!now.isBefore(e.getValue())) {
          starting.remove(e.getKey());
        }
      }
      for (var e : List.copyOf(hangAt.entrySet())) {
        if (!now.isBefore(e.getValue()) && ready.containsKey(e.getKey())) {
          ready.put(e.getKey(), false);
          hangAt.remove(e.getKey());
        }
      }
      r.tick();
    }

    void run(Remediator r, int seconds) {
      for (int s = 0; s < seconds; s++) {
        second(r);
      }
    }

    private void fresh() {
      String id = "shop-" + next++;
      ready.put(id, true);
      starting.put(id, now.plusSeconds(2));
      if (replacementsHang) {
        hangAt.put(id, now.plusSeconds(5));
      }
    }

    @Override
    public void replace(String instanceId, String reason) {
      done.add("replace " + instanceId);
      ready.remove(instanceId);
      fresh();
    }

    @Override
    public void quarantine(String instanceId, String reason, Duration keepFor) {
      done.add("quarantine " + instanceId);
      ready.remove(instanceId);
      quarantined.add(instanceId);
      fresh();
    }

    @Override
    public void restart(String service) {
      done.add("restart " + service);
    }

    @Override
    public void rollback(String service) {
      throw new IllegalStateException("shop has no earlier revision to go back to");
    }

    @Override
    public void scaleOut(String service, int by) {
      done.add("scaleOut " + by);
    }

    @Override
    public int run(List<String> argv, Map<String, String> env, Duration timeout) {
      done.add("run " + String.join(" ", argv) + " " + env.get("SERVICE"));
      return 0;
    }

    List<String> types() {
      return events.stream().map(NewEvent::type).toList();
    }
  }

  static Remediation runbook(Condition when, List<Action> actions, int maxPerHour, double blast) {
    return new Remediation(
        "heal",
        when,
        actions,
        Duration.ofSeconds(10),
        Duration.ofSeconds(5),
        maxPerHour,
        blast,
        true,
        Duration.ofHours(1));
  }

  static Remediator remediator(Fleet f, Remediation... r) {
    ServiceSpec s =
        new ServiceSpec(
                "shop",
                "./shop",
                List.of(),
                Map.of(),
                "/srv",
                "v1",
                3,
                null,
                null,
                RestartPolicy.defaults(),
                StopPolicy.defaults(),
                Resources.none(),
                null)
            .withRemediation(List.of(r));
    return new Remediator(
        new Remediator.Options(
            () -> new Spec(List.of(s)), f::status, () -> f.alerts, f, f.events::add, () -> f.now));
  }

  @Test
  void aHungInstance_isQuarantinedAfterItsDelay_andTheRunbookSucceedsOnceTheServiceRecovers() {
    Fleet f = new Fleet();
    Remediator r =
        remediator(
            f,
            runbook(
                new Condition.Unready(Duration.ofSeconds(20)),
                List.of(new Action.Quarantine(), new Action.Replace()),
                6,
                0.34));
    f.run(r, 3);
    f.ready.put("shop-1", false); // hangs: its readiness check times out
    f.run(r, 19);
    assertThat(f.done).isEmpty();
    f.run(r, 2);
    assertThat(f.done).containsExactly("quarantine shop-1");
    f.run(r, 5);
    assertThat(f.types()).containsExactly("RemediationStarted", "RemediationSucceeded");
    NewEvent started = f.events.get(0);
    assertThat(started.instance()).isEqualTo("shop-1");
    assertThat(started.message())
        .isEqualTo("heal: quarantine shop-1 because shop-1 not ready for 20s");
    assertThat(started.fields()).containsEntry("action", "quarantine");
  }

  @Test
  void anActionThatDoesNotHelp_isFollowedByTheNext_thenItEscalates_andRecoveryResolves() {
    Fleet f = new Fleet();
    Remediator r =
        remediator(
            f,
            runbook(
                new Condition.Alert("ShopErrorRateHigh"),
                List.of(new Action.Restart(), new Action.Rollback(), new Action.ScaleOut(2)),
                6,
                0.34));
    AlertState firing =
        new AlertState(
            "ShopErrorRateHigh",
            Map.of("alertname", "ShopErrorRateHigh", "service", "shop"),
            Map.of(),
            AlertState.State.FIRING,
            T0,
            T0,
            null,
            null,
            1);
    f.alerts.add(firing);
    f.run(r, 1);
    assertThat(f.done).containsExactly("restart shop");
    f.run(r, 10); // restart verified: still firing -> rollback, which cannot be taken
    f.run(r, 5); // cooldown, then scaleOut
    assertThat(f.done).containsExactly("restart shop", "scaleOut 2");
    f.run(r, 11);
    assertThat(f.types())
        .containsExactly(
            "RemediationStarted",
            "RemediationActionFailed", // restart did not help
            "RemediationActionFailed", // rollback could not be taken
            "RemediationStarted",
            "RemediationActionFailed", // scaleOut did not help
            "RemediationFailed",
            "RemediationEscalated");
    NewEvent escalated = f.events.get(6);
    assertThat(escalated.fields())
        .containsEntry("alertname", "RemediationFailed")
        .containsEntry("tried", "restart,rollback,scaleOut");
    assertThat(escalated.fields().get("labels")).contains("service=\"shop\"");
    assertThat(f.events.get(2).message()).contains("no earlier revision");
    f.run(r, 30);
    assertThat(f.events).hasSize(7); // escalated once, not again
    f.alerts.clear();
    f.run(r, 1);
    NewEvent recovered = f.events.get(7);
    assertThat(recovered.type()).isEqualTo("RemediationRecovered");
    assertThat(recovered.fields().get("labels")).isEqualTo(escalated.fields().get("labels"));
  }

  @Test
  void theBlastRadius_holdsBackASecondInstance_whileTheFirstIsOut() {
    Fleet f = new Fleet();
    Remediator r =
        remediator(
            f,
            new Remediation(
                "heal",
                new Condition.Unready(Duration.ofSeconds(5)),
                List.of(new Action.Replace()),
                Duration.ofSeconds(10),
                Duration.ZERO, // no cooldown: only the blast radius holds the second back
                6,
                0.34, // of 3 instances: one at a time
                true,
                Duration.ofHours(1)));
    f.run(r, 2);
    f.ready.put("shop-0", false);
    f.ready.put("shop-1", false);
    f.run(r, 6);
    assertThat(f.done).hasSize(1);
    assertThat(f.types()).contains("RemediationHeld");
  }

  @Test
  void maxPerHour_stopsTheActions_andEscalates() {
    Fleet f = new Fleet();
    f.replacementsHang = true; // every fresh instance hangs too
    Remediator r =
        remediator(
            f,
            runbook(
                new Condition.Unready(Duration.ofSeconds(3)),
                List.of(new Action.Replace()),
                2,
                1.0));
    f.run(r, 2);
    f.ready.put("shop-0", false);
    f.run(r, 120);
    assertThat(f.done.stream().filter(x -> x.startsWith("replace"))).hasSize(2);
    assertThat(f.types()).contains("RemediationEscalated");
    assertThat(f.events.stream().filter(e -> e.type().equals("RemediationFailed")))
        .anyMatch(e -> e.message().contains("limit of 2 actions per hour"));
  }

  @Test
  void aCommandGetsTheServiceInItsEnvironment() {
    Fleet f = new Fleet();
    f.state = "crash-loop";
    Remediator r =
        remediator(
            f,
            runbook(
                new Condition.CrashLoop(),
                List.of(new Action.Command(List.of("./flush.sh"), Duration.ofSeconds(5))),
                6,
                0.34));
    f.run(r, 1);
    assertThat(f.done).containsExactly("run ./flush.sh shop");
    f.state = "running";
    f.run(r, 1);
    assertThat(f.types()).containsExactly("RemediationStarted", "RemediationSucceeded");
  }

  @Test
  void restart_restartsTheInstanceForAnInstanceCondition_andTheServiceForAServiceCondition() {
    Fleet f = new Fleet();
    Remediator r =
        remediator(
            f,
            runbook(
                new Condition.Unready(Duration.ofSeconds(3)),
                List.of(new Action.Restart()),
                6,
                0.34));
    f.run(r, 2);
    f.ready.put("shop-2", false);
    f.run(r, 4);
    assertThat(f.done).containsExactly("replace shop-2");
    Fleet g = new Fleet();
    g.state = "crash-loop";
    Remediator rs =
        remediator(g, runbook(new Condition.CrashLoop(), List.of(new Action.Restart()), 6, 0.34));
    g.run(rs, 1);
    assertThat(g.done).containsExactly("restart shop");
  }
}
