package dev.pilothouse.core.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Reconcile decisions in virtual time, against fakes of the runtime, prober and store. */
class InstanceControllerTest extends ControllerFixture {
  @Test
  void startsDeclaredReplicas_withOwnPortsSubstituted_andReadyAfterReadiness() {
    c.apply(new Spec(List.of(service("shop", 3, "v1"))));
    c.tick();
    assertThat(runtime.alive()).hasSize(3);
    assertThat(status("shop").instances())
        .allMatch(i -> !i.ready() && i.state().equals("starting"));
    Fakes.Proc p = runtime.alive().get(0);
    assertThat(p.launch.args()).containsExactly("--port", Integer.toString(p.launch.port()));
    assertThat(p.launch.env())
        .containsEntry("PORT", Integer.toString(p.launch.port()))
        .containsEntry("PORT_COPY", Integer.toString(p.launch.port()));
    run(Duration.ofMillis(300));
    assertThat(status("shop").readyReplicas()).isEqualTo(3);
    assertThat(status("shop").state()).isEqualTo("running");
    assertThat(events.count("InstanceReady")).isEqualTo(3);
    assertThat(repo.rows).hasSize(3);
    assertThat(repo.rows.values()).allMatch(InstanceRecord::ready);
  }

  @Test
  void crashedInstance_isRestartedAfterBackoff_notBefore() {
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    run(Duration.ofSeconds(1));
    runtime.alive().get(0).die(1);
    c.tick();
    assertThat(runtime.alive()).isEmpty();
    assertThat(events.types()).contains("InstanceExited", "RestartScheduled");
    run(Duration.ofMillis(800));
    assertThat(runtime.alive()).as("still in backoff").isEmpty();
    run(Duration.ofMillis(400));
    assertThat(runtime.alive()).hasSize(1);
    assertThat(status("shop").instances().get(0).restarts()).isEqualTo(1);
  }

  @Test
  void consecutiveCrashes_backOffExponentially_thenCrashLoop() {
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    List<Instant> starts = new java.util.ArrayList<>();
    for (int i = 0; i < 10 && !status("shop").state().equals("crash-loop"); i++) {
      run(Duration.ofMillis(100));
      while (runtime.alive().isEmpty() && !status("shop").state().equals("crash-loop")) {
        run(Duration.ofMillis(100));
      }
      if (!runtime.alive().isEmpty()) {
        starts.add(clock.instant());
        runtime.alive().get(0).die(2);
        c.tick();
      }
    }
    assertThat(status("shop").state()).isEqualTo("crash-loop");
    // 1 first start + 3 restarts allowed by maxRestarts: 3, then it gives up.
    assertThat(starts).hasSize(4);
    long gap1 = Duration.between(starts.get(0), starts.get(1)).toMillis();
    long gap2 = Duration.between(starts.get(1), starts.get(2)).toMillis();
    long gap3 = Duration.between(starts.get(2), starts.get(3)).toMillis();
    assertThat(gap2).isGreaterThan(gap1);
    assertThat(gap3).isGreaterThan(gap2);
    assertThat(events.count("CrashLoop")).isEqualTo(1);
    run(Duration.ofSeconds(60));
    assertThat(runtime.alive()).as("gave up").isEmpty();
  }

  @Test
  void restart_clearsCrashLoop_andStartsAgain() {
    ServiceSpec s = service("shop", 1, "v1");
    s =
        new ServiceSpec(
            s.name(),
            s.command(),
            s.args(),
            s.env(),
            s.workdir(),
            s.version(),
            1,
            null,
            null,
            restart(0),
            s.stop(),
            s.resources(),
            null);
    c.apply(new Spec(List.of(s)));
    c.tick();
    runtime.alive().get(0).die(1);
    c.tick();
    assertThat(status("shop").state()).isEqualTo("crash-loop");
    c.restart("shop");
    c.tick();
    assertThat(runtime.alive()).hasSize(1);
    assertThat(status("shop").state())
        .as("not ready before it has run 1s")
        .isEqualTo("progressing");
    run(Duration.ofSeconds(1));
    assertThat(status("shop").state()).isEqualTo("running");
  }

  @Test
  void stableUptime_resetsFailureCount() {
    ServiceSpec s = service("shop", 1, "v1");
    s =
        new ServiceSpec(
            s.name(),
            s.command(),
            s.args(),
            s.env(),
            s.workdir(),
            s.version(),
            1,
            null,
            null,
            restart(1),
            s.stop(),
            s.resources(),
            null);
    c.apply(new Spec(List.of(s)));
    for (int i = 0; i < 4; i++) {
      run(Duration.ofSeconds(61)); // longer than resetAfter each time
      assertThat(runtime.alive()).hasSize(1);
      runtime.alive().get(0).die(1);
      c.tick();
    }
    run(Duration.ofSeconds(2));
    assertThat(status("shop").state()).isNotEqualTo("crash-loop");
    assertThat(runtime.alive()).hasSize(1);
  }

  @Test
  void livenessFailures_killAndReplaceInstance_escalatingToKillAfterStopTimeout() {
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    runtime.ignoreTerm = true;
    run(Duration.ofSeconds(1));
    Fakes.Proc hung = runtime.alive().get(0);
    hung.ignoresTerm = true;
    prober.liveness.put(hung.launch.port(), false);
    run(Duration.ofSeconds(7)); // three failed checks 2s apart
    assertThat(events.types()).contains("LivenessFailed");
    assertThat(hung.signals).containsExactly("TERM");
    assertThat(hung.alive).isTrue();
    run(Duration.ofSeconds(5)); // stop timeout
    assertThat(hung.signals).containsExactly("TERM", "KILL");
    assertThat(hung.alive).isFalse();
    run(Duration.ofSeconds(2)); // backoff 1s, then a replacement
    assertThat(runtime.alive()).hasSize(1).doesNotContain(hung);
  }

  @Test
  void notReadyInstance_isNeverLivenessKilledWhileStarting() {
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    c.tick();
    Fakes.Proc slow = runtime.alive().get(0);
    prober.results.put(slow.launch.port(), false);
    prober.liveness.put(slow.launch.port(), false);
    run(Duration.ofSeconds(30));
    assertThat(slow.alive).isTrue();
    assertThat(events.types()).doesNotContain("LivenessFailed");
    assertThat(status("shop").readyReplicas()).isZero();
  }

  @Test
  void scaleDown_stopsHighestSlots_scaleUpAddsInstances() {
    c.apply(new Spec(List.of(service("shop", 3, "v1"))));
    run(Duration.ofSeconds(1));
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    run(Duration.ofMillis(500));
    assertThat(runtime.alive()).hasSize(1);
    assertThat(status("shop").instances()).extracting(InstanceStatus::slot).containsExactly(0);
    assertThat(events.count("RestartScheduled")).isZero();
    c.apply(new Spec(List.of(service("shop", 4, "v1"))));
    run(Duration.ofSeconds(1));
    assertThat(runtime.alive()).hasSize(4);
    assertThat(status("shop").readyReplicas()).isEqualTo(4);
  }

  @Test
  void changedTemplate_rollsOneInstanceAtATime_oldServesUntilNewIsReady() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> old = runtime.alive();
    prober.results.put(20003, false); // the first v2 instance is not ready yet
    c.apply(new Spec(List.of(service("shop", 2, "v2"))));
    run(Duration.ofSeconds(2));
    assertThat(runtime.alive()).hasSize(3).containsAll(old);
    prober.results.put(20003, true);
    run(Duration.ofSeconds(2));
    assertThat(runtime.alive()).hasSize(2).doesNotContainAnyElementsOf(old);
    assertThat(status("shop").readyReplicas()).isEqualTo(2);
    assertThat(old).allMatch(p -> p.signals.equals(List.of("TERM")));
  }

  @Test
  void restartPolicyNever_leavesExitedInstanceDown() {
    ServiceSpec s = service("job", 1, "v1");
    RestartPolicy never =
        new RestartPolicy(
            RestartPolicy.Mode.NEVER,
            Duration.ofSeconds(1),
            Duration.ofSeconds(1),
            1,
            0,
            Duration.ofSeconds(1),
            3);
    s =
        new ServiceSpec(
            s.name(),
            s.command(),
            s.args(),
            s.env(),
            s.workdir(),
            s.version(),
            1,
            null,
            null,
            never,
            s.stop(),
            s.resources(),
            null);
    c.apply(new Spec(List.of(s)));
    c.tick();
    runtime.alive().get(0).die(0);
    run(Duration.ofSeconds(10));
    assertThat(runtime.alive()).isEmpty();
    assertThat(events.types()).contains("InstanceNotRestarted");
  }

  @Test
  void launchFailure_isRecordedAndBackedOffIntoCrashLoop() {
    runtime.failStarts = true;
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    run(Duration.ofSeconds(30));
    assertThat(events.count("StartFailed")).isEqualTo(4);
    assertThat(status("shop").state()).isEqualTo("crash-loop");
    assertThat(
            events.list.stream()
                .filter(e -> e.type().equals("StartFailed"))
                .findFirst()
                .orElseThrow()
                .message())
        .contains("not found in PATH");
  }

  @Test
  void removedService_hasItsInstancesStopped() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"), service("api", 1, "v1"))));
    run(Duration.ofSeconds(1));
    c.apply(new Spec(List.of(service("api", 1, "v1"))));
    run(Duration.ofMillis(500));
    assertThat(runtime.alive()).hasSize(1);
    assertThat(c.status()).extracting(ServiceStatus::name).containsExactly("api");
  }

  @Test
  void recover_adoptsLiveInstances_forgetsDeadOnes_reapsOrphans_andStartsNoDuplicates() {
    c.apply(new Spec(List.of(service("shop", 3, "v1"))));
    run(Duration.ofSeconds(1));
    List<String> idsBefore = List.copyOf(repo.rows.keySet());
    // The daemon dies: a new controller over the same store. Two instances survived; one did not.
    runtime.adoptable.addAll(idsBefore.subList(0, 2));
    runtime.orphanIds.add("shop-orphan");
    long started = runtime.byId.size();
    c = controller();
    c.recover();
    c.apply(new Spec(List.of(service("shop", 3, "v1"))));
    run(Duration.ofSeconds(1));
    assertThat(events.count("InstanceAdopted")).isEqualTo(2);
    assertThat(events.count("InstanceLost")).isEqualTo(1);
    assertThat(runtime.reaped).containsExactly("shop-orphan");
    assertThat(status("shop").instances()).hasSize(3);
    assertThat(status("shop").instances())
        .extracting(InstanceStatus::slot)
        .containsExactlyInAnyOrder(0, 1, 2);
    assertThat(runtime.byId.size() - started).as("one replacement only").isEqualTo(1);
  }

  @Test
  void stopAll_stopsEveryInstanceAndStartsNothing() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    c.stopAll();
    run(Duration.ofSeconds(2));
    assertThat(c.idle()).isTrue();
    assertThat(runtime.alive()).isEmpty();
    assertThat(repo.rows).isEmpty();
  }

  @Test
  void intentionalStop_drainsInFlightRequestsBeforeTheSignal() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    InstanceStatus second =
        status("shop").instances().stream().filter(i -> i.slot() == 1).findFirst().orElseThrow();
    Fakes.Proc p = runtime.proc(second.id());
    inFlight.put(second.id(), 3);
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    run(Duration.ofSeconds(2));
    assertThat(p.signals).as("still draining").isEmpty();
    assertThat(status("shop").instances())
        .filteredOn(i -> i.id().equals(second.id()))
        .singleElement()
        .satisfies(i -> assertThat(i.ready()).isFalse());
    inFlight.put(second.id(), 0);
    run(Duration.ofMillis(300));
    assertThat(p.signals).containsExactly("TERM");
    assertThat(p.alive).isFalse();
  }

  @Test
  void drainTimeout_boundsTheWait() {
    c.apply(new Spec(List.of(service("shop", 1, "v1"))));
    run(Duration.ofSeconds(1));
    String id = status("shop").instances().get(0).id();
    inFlight.put(id, 99);
    c.apply(new Spec(List.of(service("shop", 0, "v1"))));
    run(Duration.ofSeconds(14));
    assertThat(runtime.proc(id).signals).isEmpty();
    run(Duration.ofSeconds(2)); // default drain timeout 15s
    assertThat(runtime.proc(id).signals).containsExactly("TERM");
  }

  @Test
  void canary_runsBesideStable_withItsOwnSpec_andIsRemovedWithDrain() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> stable = runtime.alive();
    ServiceSpec v2 = service("shop", 2, "v2");
    c.setCanary("shop", v2, 1);
    run(Duration.ofSeconds(1));
    assertThat(runtime.alive()).hasSize(3).containsAll(stable);
    InstanceStatus canary =
        status("shop").instances().stream()
            .filter(i -> i.slot() >= InstanceController.CANARY_SLOT_BASE)
            .findFirst()
            .orElseThrow();
    assertThat(canary.version()).isEqualTo("v2");
    assertThat(canary.template()).isEqualTo(c.canaryTemplate("shop").orElseThrow());
    assertThat(status("shop").readyReplicas()).isEqualTo(3);
    assertThat(status("shop").state()).isEqualTo("running");
    inFlight.put(canary.id(), 1);
    c.clearCanary("shop");
    run(Duration.ofSeconds(1));
    assertThat(runtime.proc(canary.id()).signals).as("drains first").isEmpty();
    inFlight.put(canary.id(), 0);
    run(Duration.ofMillis(500));
    assertThat(runtime.proc(canary.id()).alive).isFalse();
    assertThat(runtime.alive()).containsExactlyInAnyOrderElementsOf(stable);
  }

  @Test
  void crashingCanary_backsOffIntoCrashLoop_whileStableStaysUp() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> stable = runtime.alive();
    c.setCanary("shop", service("shop", 2, "v2-broken"), 1);
    for (int i = 0; i < 20 && !c.canaryCrashLooping("shop"); i++) {
      run(Duration.ofSeconds(1));
      runtime.alive().stream().filter(p -> !stable.contains(p)).forEach(p -> p.die(1));
      c.tick();
    }
    assertThat(c.canaryCrashLooping("shop")).isTrue();
    assertThat(runtime.alive()).containsExactlyInAnyOrderElementsOf(stable);
  }

  @Test
  void promotion_appliesTheNewSpec_rollingStableOntoIt() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    ServiceSpec v2 = service("shop", 2, "v2");
    c.setCanary("shop", v2, 1);
    run(Duration.ofSeconds(1));
    c.apply(new Spec(List.of(v2)));
    c.clearCanary("shop");
    run(Duration.ofSeconds(5));
    assertThat(status("shop").instances())
        .hasSize(2)
        .allSatisfy(i -> assertThat(i.version()).isEqualTo("v2"));
    assertThat(status("shop").readyReplicas()).isEqualTo(2);
  }

  static ServiceSpec rolling(ServiceSpec s, String surge, String unavailable) {
    return s.withPlan(
        Strategy.Rolling.of(
            new Strategy.Amount(Integer.parseInt(surge.replace("%", "")), surge.endsWith("%")),
            new Strategy.Amount(
                Integer.parseInt(unavailable.replace("%", "")), unavailable.endsWith("%"))));
  }

  /** Live (not stopping) and ready instances of shop. */
  long live() {
    return status("shop").instances().stream().filter(i -> !i.state().equals("stopping")).count();
  }

  long ready() {
    return status("shop").instances().stream()
        .filter(i -> i.ready() && !i.state().equals("stopping"))
        .count();
  }

  @Test
  void maxSurge_startsThatManyNewInstancesAtOnce_keepingEveryOldOneUntilReplaced() {
    c.apply(new Spec(List.of(rolling(service("shop", 4, "v1"), "50%", "0"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> old = runtime.alive();
    prober.defaultResult = false; // new instances stay not ready
    c.apply(new Spec(List.of(rolling(service("shop", 4, "v2"), "50%", "0"))));
    run(Duration.ofSeconds(2));
    assertThat(runtime.alive()).hasSize(6).containsAll(old);
    assertThat(ready()).isEqualTo(4);
    prober.defaultResult = true;
    run(Duration.ofSeconds(3));
    assertThat(runtime.alive()).hasSize(4).doesNotContainAnyElementsOf(old);
    assertThat(status("shop").instances()).allMatch(i -> i.version().equals("v2"));
  }

  @Test
  void maxUnavailable_stopsOldInstancesFirst_neverExceedingTheReplicaCount() {
    c.apply(new Spec(List.of(rolling(service("shop", 3, "v1"), "0", "1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> old = runtime.alive();
    c.apply(new Spec(List.of(rolling(service("shop", 3, "v2"), "0", "1"))));
    long minReady = Long.MAX_VALUE;
    long maxLive = 0;
    for (int t = 0; t < 100; t++) {
      c.tick();
      clock.advance(Duration.ofMillis(100));
      minReady = Math.min(minReady, ready());
      maxLive = Math.max(maxLive, live());
    }
    assertThat(maxLive).as("never more than the replica count").isEqualTo(3);
    assertThat(minReady).as("at most one missing").isEqualTo(2);
    assertThat(runtime.alive()).hasSize(3).doesNotContainAnyElementsOf(old);
    assertThat(status("shop").instances()).allMatch(i -> i.version().equals("v2") && i.ready());
  }

  @Test
  void promotion_adoptsTheCanaryInstances_withoutRestartingThem() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> stable = runtime.alive();
    ServiceSpec v2 = service("shop", 2, "v2");
    c.setCanary("shop", v2, 2);
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> canaries = runtime.alive().stream().filter(p -> !stable.contains(p)).toList();
    assertThat(canaries).hasSize(2);
    c.apply(new Spec(List.of(v2)));
    run(Duration.ofSeconds(2));
    assertThat(runtime.alive()).containsExactlyInAnyOrderElementsOf(canaries);
    assertThat(status("shop").instances())
        .extracting(InstanceStatus::slot)
        .containsExactlyInAnyOrder(0, 1);
    assertThat(events.count("CanaryAdopted")).isEqualTo(1);
    assertThat(events.count("InstanceStarted")).as("2 stable + 2 canary, none after").isEqualTo(4);
  }

  @Test
  void promoteCanary_adoptsTheCanaryInstances_andTheFollowingDesiredStateChangesNothing() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> stable = runtime.alive();
    ServiceSpec v2 = service("shop", 2, "v2");
    c.setCanary("shop", v2, 2);
    run(Duration.ofSeconds(1));
    List<Fakes.Proc> canaries = runtime.alive().stream().filter(p -> !stable.contains(p)).toList();

    c.promoteCanary("shop");
    c.clearCanary("shop");
    c.apply(new Spec(List.of(v2))); // the promoted revision arrives after the promotion
    run(Duration.ofSeconds(2));

    assertThat(runtime.alive()).containsExactlyInAnyOrderElementsOf(canaries);
    assertThat(status("shop").instances())
        .allSatisfy(i -> assertThat(i.version()).isEqualTo("v2"))
        .extracting(InstanceStatus::slot)
        .containsExactlyInAnyOrder(0, 1);
    assertThat(events.count("CanaryAdopted")).isEqualTo(1);
    assertThat(events.count("InstanceStarted")).as("2 stable + 2 canary, none after").isEqualTo(4);
  }

  @Test
  void restart_ofUnknownService_isRefused() {
    assertThatThrownBy(() -> c.restart("nope")).hasMessageContaining("no service named 'nope'");
  }

  @Test
  void aQuarantinedInstance_leavesTrafficAndTheCount_keepsRunning_andStopsWhenItsTimeIsUp() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    InstanceStatus sick = status("shop").instances().get(0);
    Fakes.Proc proc =
        runtime.alive().stream()
            .filter(p -> p.launch.port() == sick.port())
            .findFirst()
            .orElseThrow();
    c.quarantine(sick.id(), "remediation hung: not ready for 20s", Duration.ofMinutes(10));
    run(Duration.ofSeconds(1));
    ServiceStatus st = status("shop");
    assertThat(st.instances()).hasSize(3);
    assertThat(st.instances())
        .filteredOn(i -> i.id().equals(sick.id()))
        .singleElement()
        .satisfies(i -> assertThat(i.state()).isEqualTo("quarantined"))
        .satisfies(i -> assertThat(i.ready()).isFalse());
    assertThat(st.readyReplicas()).isEqualTo(2); // a fresh instance took its slot
    assertThat(st.state()).isEqualTo("running");
    assertThat(proc.alive).isTrue();
    assertThat(proc.signals).isEmpty();
    assertThat(events.types()).contains("InstanceQuarantined");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> c.quarantine(sick.id(), "again", Duration.ofMinutes(1)))
        .isInstanceOf(IllegalStateException.class);
    run(Duration.ofMinutes(10));
    assertThat(proc.alive).isFalse();
    assertThat(status("shop").instances()).hasSize(2);
  }

  @Test
  void replace_drainsTheInstance_whileAFreshOneStartsInItsSlot() {
    c.apply(new Spec(List.of(service("shop", 2, "v1"))));
    run(Duration.ofSeconds(1));
    InstanceStatus old = status("shop").instances().get(0);
    c.replace(old.id(), "remediation");
    run(Duration.ofSeconds(3));
    assertThat(status("shop").instances()).extracting(InstanceStatus::id).doesNotContain(old.id());
    assertThat(status("shop").readyReplicas()).isEqualTo(2);
  }
}
