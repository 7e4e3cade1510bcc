package dev.pilothouse.core.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.AnalysisTemplate;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Canary rollouts in virtual time against small fakes of the fleet, traffic and metrics. */
class RolloutControllerTest {
  Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final FakeFleet fleet = new FakeFleet();
  final List<String> splits = new ArrayList<>();
  final List<Rollout> saved = new ArrayList<>();
  final List<NewEvent> events = new ArrayList<>();
  final SplittableRandom random = new SplittableRandom(3);
  double canaryErrorRate;
  double stableErrorRate = 0.002;
  double canaryExtraMs;
  int requestsPerWindow = 500;
  Split lastSplit;
  final FakeChecks checks = new FakeChecks();

  final TrafficSplitter traffic =
      new TrafficSplitter() {
        @Override
        public void split(String service, Split split) {
          splits.add(service + ":" + split.canaryWeight());
          lastSplit = split;
        }

        @Override
        public void clear(String service) {
          splits.add(service + ":clear");
        }
      };

  final Ports.Measurements measurements =
      (ids, since) -> {
        boolean canary =
            ids.stream().anyMatch(id -> id.startsWith("canary") || id.startsWith("v2-"));
        int n = requestsPerWindow;
        long failures = 0;
        double[] lat = new double[n];
        for (int i = 0; i < n; i++) {
          lat[i] = 5 + random.nextDouble() * 5 + (canary ? canaryExtraMs : 0);
          boolean baseline = ids.stream().anyMatch(id -> id.startsWith("baseline"));
          double rate = canary ? canaryErrorRate : baseline ? 0.002 : stableErrorRate;
          if (random.nextDouble() < rate) {
            failures++;
          }
        }
        return new Ports.Sample(n, failures, lat);
      };

  final Ports.RolloutStore store =
      new Ports.RolloutStore() {
        @Override
        public void saveRollout(Rollout rollout) {
          saved.add(rollout);
        }

        @Override
        public List<Rollout> rollouts() {
          return saved.isEmpty() ? List.of() : List.of(saved.get(saved.size() - 1));
        }
      };

  RolloutController controller() {
    return RolloutController.create(
        new RolloutController.Options(
            fleet, traffic, measurements, store, events::add, () -> now, random, checks));
  }

  static ServiceSpec svc(String version) {
    return new ServiceSpec(
        "shop",
        "./s",
        List.of(),
        Map.of(),
        "/",
        version,
        3,
        null,
        null,
        RestartPolicy.defaults(),
        StopPolicy.defaults(),
        Resources.none(),
        null);
  }

  static final Spec V1 = new Spec(List.of(svc("v1")));
  static final Spec V2 = new Spec(List.of(svc("v2")));

  static Strategy.Canary plan(Strategy.Step... steps) {
    return new Strategy.Canary(
        List.of(steps),
        1,
        List.of(),
        false,
        Strategy.Analysis.DEFAULT,
        Duration.ofMinutes(1),
        List.of(),
        null,
        List.of(),
        Duration.ZERO,
        Duration.ofMinutes(2));
  }

  static final Strategy.Canary STANDARD =
      plan(
          Strategy.Step.weight(10),
          Strategy.Step.analysis(Duration.ofSeconds(30)),
          Strategy.Step.weight(50),
          Strategy.Step.analysis(Duration.ofSeconds(30)));

  void run(RolloutController c, Duration d) {
    for (long t = 0; t <= d.toMillis(); t += 1000) {
      c.tick();
      now = now.plusSeconds(1);
    }
  }

  @Test
  void goodCanary_isPromotedAfterEveryStep() {
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(90));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(splits).containsExactly("shop:0", "shop:10", "shop:50", "shop:clear");
    assertThat(fleet.applied).isEqualTo(V2);
    assertThat(fleet.canaryCount).isZero();
    assertThat(r.verdicts()).allSatisfy(v -> assertThat(v.outcome().wire()).isEqualTo("pass"));
    assertThat(events)
        .extracting(NewEvent::type)
        .contains("RolloutStarted", "RolloutStep", "RolloutPromoted");
  }

  static Strategy.Canary autoSized(Strategy.Amount maxSurge, Strategy.Step... steps) {
    Strategy.Canary p = plan(steps);
    return new Strategy.Canary(
        p.steps(),
        1,
        p.match(),
        false,
        p.analysis(),
        p.maxAnalysisWait(),
        p.checks(),
        null,
        p.smoke(),
        Duration.ZERO,
        p.progressDeadline(),
        List.of(),
        null,
        maxSurge,
        false);
  }

  @Test
  void autoSizedCanary_growsBeforeItsWeight_andTheWeightWaitsForTheNewInstances() {
    RolloutController c = controller();
    c.start(
        "shop",
        V1,
        V2,
        autoSized(
            new Strategy.Amount(100, true),
            Strategy.Step.weight(10),
            Strategy.Step.analysis(Duration.ofSeconds(30)),
            Strategy.Step.weight(50),
            Strategy.Step.analysis(Duration.ofSeconds(30)),
            Strategy.Step.weight(100),
            Strategy.Step.analysis(Duration.ofSeconds(30))));
    fleet.readyCanaries = 1;
    run(c, Duration.ofSeconds(45));
    // 10 % of 3 replicas needs one instance; 50 % needs two, of which one is still starting.
    assertThat(splits).containsExactly("shop:0", "shop:10");
    assertThat(fleet.canarySizes).containsExactly(1, 2);
    Rollout waiting = c.status("shop").orElseThrow();
    assertThat(waiting.reason()).isEqualTo("canary growing to 2 instances for 50%");
    assertThat(events).extracting(NewEvent::type).containsOnlyOnce("RolloutScaling");
    fleet.readyCanaries = Integer.MAX_VALUE;
    run(c, Duration.ofSeconds(90));
    assertThat(splits).containsExactly("shop:0", "shop:10", "shop:50", "shop:100", "shop:clear");
    assertThat(fleet.canarySizes).containsExactly(1, 2, 3);
    assertThat(fleet.canaryCount).isZero();
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
  }

  @Test
  void autoSizedCanary_staysWithinMaxSurge_andIsRolledBackWhenItCannotGrowInTime() {
    RolloutController c = controller();
    c.start(
        "shop",
        V1,
        V2,
        autoSized(
            Strategy.Amount.of(2),
            Strategy.Step.weight(100),
            Strategy.Step.analysis(Duration.ofSeconds(10))));
    fleet.readyCanaries = 1;
    run(c, Duration.ofMinutes(3));
    assertThat(fleet.canarySizes).containsExactly(1, 2); // 100 % of 3 is 3, capped at 2
    assertThat(fleet.canaryCount).isZero();
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason())
        .isEqualTo(
            "the canary's 2 instances for 100% were not ready within the progress deadline of"
                + " 120s");
    assertThat(splits).doesNotContain("shop:100");
  }

  static Strategy.Canary templated(int count, int failureLimit, int inconclusiveLimit) {
    AnalysisTemplate template =
        new AnalysisTemplate(
            "error-ratio",
            Map.of("max", "0.05"),
            List.of(
                new AnalysisTemplate.Metric(
                    "errors",
                    "promql",
                    "ratio{service=\"{{args.service}}\",version=\"{{args.canaryVersion}}\"}"
                        + " < {{args.max}} unless on() stable{version=\"{{args.stableVersion}}\"}",
                    Duration.ofSeconds(10),
                    count,
                    failureLimit,
                    inconclusiveLimit,
                    Duration.ofSeconds(5))));
    return plan(
        Strategy.Step.weight(20),
        Strategy.Step.analysis(template.bind(Map.of("max", "0.02"))),
        Strategy.Step.weight(60));
  }

  @Test
  void templateAnalysis_measuresCountTimesAnIntervalApart_withTheRolloutsVersionsFilledIn() {
    RolloutController c = controller();
    c.start("shop", V1, V2, templated(3, 0, 0));
    run(c, Duration.ofSeconds(25));
    assertThat(checks.customTargets)
        .hasSize(2)
        .first()
        .isEqualTo(
            "ratio{service=\"shop\",version=\"v2\"} < 0.02 unless on() stable{version=\"v1\"}");
    assertThat(c.status("shop").orElseThrow().verdicts().get(0).reason())
        .startsWith("errors: 2 of 3 measured, 0 failed (limit 0), 0 inconclusive (limit 0)");
    assertThat(splits).containsExactly("shop:0", "shop:20");
    run(c, Duration.ofSeconds(10));
    assertThat(checks.customTargets).hasSize(3);
    run(c, Duration.ofSeconds(5));
    assertThat(splits).containsExactly("shop:0", "shop:20", "shop:60", "shop:clear");
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
  }

  @Test
  void templateAnalysis_failsOnlyPastItsFailureLimit() {
    RolloutController c = controller();
    checks.customNext.addAll(
        List.of(Verdict.Outcome.FAIL, Verdict.Outcome.PASS, Verdict.Outcome.FAIL));
    c.start("shop", V1, V2, templated(5, 1, 0));
    run(c, Duration.ofSeconds(25));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROGRESSING);
    run(c, Duration.ofSeconds(10));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason())
        .startsWith(
            "analysis 'error-ratio' failed: errors: 3 of 5 measured, 2 failed (limit 1), 0"
                + " inconclusive (limit 0); last: errors: FAIL");
    assertThat(checks.customTargets).hasSize(3);
  }

  @Test
  void templateAnalysis_pausesPastItsInconclusiveLimit() {
    RolloutController c = controller();
    checks.customNext.addAll(List.of(Verdict.Outcome.INCONCLUSIVE, Verdict.Outcome.INCONCLUSIVE));
    c.start("shop", V1, V2, templated(3, 0, 1));
    run(c, Duration.ofSeconds(40));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.PAUSED);
    assertThat(r.reason())
        .startsWith("analysis 'error-ratio' inconclusive: errors: 2 of 3 measured")
        .endsWith("— promote or abort by hand");
    assertThat(splits).containsExactly("shop:0", "shop:20");
  }

  static Strategy.Canary withBaseline(Strategy.Canary p) {
    return new Strategy.Canary(
        p.steps(),
        p.canaryReplicas(),
        p.match(),
        p.sticky(),
        p.analysis(),
        p.maxAnalysisWait(),
        p.checks(),
        p.load(),
        p.smoke(),
        p.validation(),
        p.progressDeadline(),
        p.gates(),
        p.mirror(),
        p.autoSurge(),
        true);
  }

  @Test
  void baseline_waitsForItsFreshInstances_takesAsMuchTrafficAsTheCanary_andIsTheComparison() {
    // The long-running stable instances fail as often as the canary (5 %); fresh instances of the
    // stable version fail 0.2 %. Against the stable instances the canary would pass.
    stableErrorRate = 0.05;
    canaryErrorRate = 0.05;
    RolloutController c = controller();
    c.start("shop", V1, V2, withBaseline(STANDARD));
    run(c, Duration.ofSeconds(5));
    assertThat(splits).as("no traffic before the baseline is ready").containsExactly("shop:0");
    fleet.baselineReady = 1;
    run(c, Duration.ofSeconds(60));
    assertThat(lastSplit.baselineService()).isEqualTo("shop--baseline");
    assertThat(lastSplit.baselineWeight()).isEqualTo(lastSplit.canaryWeight());
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).startsWith("error rate higher: canary ");
  }

  @Test
  void withoutABaseline_theSameCanaryPassesAgainstTheStableInstances() {
    stableErrorRate = 0.05;
    canaryErrorRate = 0.05;
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(90));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
  }

  @Test
  void canaryWith30PercentErrors_isRolledBack_withTheFigures() {
    canaryErrorRate = 0.3;
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(60));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.phase().wire()).isEqualTo("RolledBack");
    assertThat(r.reason()).startsWith("error rate higher: canary ");
    assertThat(splits).containsSubsequence("shop:10", "shop:0", "shop:clear");
    assertThat(fleet.applied).as("stable spec never replaced").isNull();
    assertThat(r.before().service("shop").orElseThrow().version())
        .as("the stable spec the desired state returns to")
        .isEqualTo("v1");
    NewEvent e =
        events.stream().filter(x -> x.type().equals("RolloutRolledBack")).findFirst().orElseThrow();
    assertThat(e.fields()).containsKeys("error-rate_p", "error-rate_effect");
    assertThat(e.message()).contains("rolled back: error rate higher");
    NewEvent started =
        events.stream().filter(x -> x.type().equals("RolloutStarted")).findFirst().orElseThrow();
    assertThat(Duration.between(started.at(), e.at()))
        .as("the error rate is watched during the 30 s window, not judged at its end")
        .isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void duringAnAnalysisWindow_theLatestLookIsShownLive_andGoneOnceDone() {
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(10));
    assertThat(c.liveVerdict("shop"))
        .hasValueSatisfying(
            v -> {
              assertThat(v.metric()).isEqualTo("error-rate");
              assertThat(v.outcome()).isEqualTo(Verdict.Outcome.PASS);
              assertThat(v.reason()).startsWith("error rate within tolerance: canary ");
            });
    run(c, Duration.ofSeconds(90));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(c.liveVerdict("shop")).isEmpty();
  }

  @Test
  void canary300msSlower_isRolledBackOnLatency() {
    canaryExtraMs = 300;
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(60));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).startsWith("latency higher: ");
  }

  @Test
  void tooLittleTraffic_waitsThenPauses_neverPassesSilently() {
    requestsPerWindow = 10;
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(60));
    assertThat(c.status("shop").orElseThrow().phase())
        .as("still waiting for traffic")
        .isEqualTo(Rollout.Phase.PROGRESSING);
    run(c, Duration.ofSeconds(40));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.PAUSED);
    assertThat(r.reason()).startsWith("analysis inconclusive: too little traffic");
    assertThat(fleet.applied).isNull();
  }

  @Test
  void crashLoopingCanary_isRolledBack() {
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(5));
    fleet.crashLooping = true;
    run(c, Duration.ofSeconds(1));
    assertThat(c.status("shop").orElseThrow().reason()).isEqualTo("the new version keeps crashing");
  }

  @Test
  void canaryNeverReady_isRolledBackAtTheProgressDeadline() {
    fleet.canaryReady = false;
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    run(c, Duration.ofSeconds(100));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROGRESSING);
    assertThat(splits).containsExactly("shop:0");
    run(c, Duration.ofSeconds(30));
    assertThat(c.status("shop").orElseThrow().reason())
        .contains("not ready within the progress deadline");
  }

  @Test
  void secondDeploy_isRefusedWhileOneIsUnderWay() {
    RolloutController c = controller();
    c.start("shop", V1, V2, STANDARD);
    assertThatThrownBy(() -> c.start("shop", V1, V2, STANDARD))
        .isInstanceOf(RolloutController.RefusedException.class)
        .hasMessageContaining("already progressing");
  }

  @Test
  void indefinitePause_waitsForPromote_andAbortRollsBack() {
    RolloutController c = controller();
    c.start(
        "shop",
        V1,
        V2,
        plan(Strategy.Step.weight(20), Strategy.Step.pause(null), Strategy.Step.weight(100)));
    run(c, Duration.ofSeconds(300));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PAUSED);
    assertThat(c.promote("shop").phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(fleet.applied).isEqualTo(V2);
    RolloutController c2 = controller();
    c2.start("shop", V2, V1, plan(Strategy.Step.weight(20), Strategy.Step.pause(null)));
    run(c2, Duration.ofSeconds(5));
    assertThat(c2.abort("shop").reason()).isEqualTo("aborted by hand");
    assertThat(c2.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
  }

  @Test
  void restartedController_resumesFromTheStoredStep() {
    RolloutController first = controller();
    first.start("shop", V1, V2, STANDARD);
    run(first, Duration.ofSeconds(10)); // at 10%, analysing
    assertThat(saved.get(saved.size() - 1).step()).isEqualTo(1);
    RolloutController second = controller(); // the daemon was killed and started again
    assertThat(second.status("shop").orElseThrow().step()).isEqualTo(1);
    run(second, Duration.ofSeconds(90));
    assertThat(second.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
  }

  /** The standard canary steps with these smoke tests, checks, load and validation. */
  static Strategy.Canary canary(
      List<Strategy.SmokeTest> smoke,
      List<Strategy.Check> custom,
      Strategy.Load load,
      Duration validation) {
    Strategy.Canary p = STANDARD;
    return new Strategy.Canary(
        p.steps(),
        1,
        p.match(),
        false,
        p.analysis(),
        p.maxAnalysisWait(),
        custom,
        load,
        smoke,
        validation,
        p.progressDeadline());
  }

  /** A blue-green plan: a set of three, these smoke tests, this rollback window. */
  static Strategy.BlueGreen blueGreen(List<Strategy.SmokeTest> smoke, Duration rollbackWindow) {
    return new Strategy.BlueGreen(
        3, List.of(), Strategy.Analysis.DEFAULT, smoke, rollbackWindow, Duration.ofMinutes(2));
  }

  static final List<Strategy.SmokeTest> SMOKE =
      List.of(new Strategy.SmokeTest("GET", "/health", 200, "ok", Duration.ofSeconds(1)));

  @Test
  void rollingDeploy_isPromotedOnceEveryInstanceRunsTheNewVersion_withoutTouchingTraffic() {
    RolloutController c = controller();
    c.start("shop", V1, V2, Strategy.rolling());
    run(c, Duration.ofSeconds(10));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROGRESSING);
    assertThat(fleet.canaryCount).isZero();
    fleet.stableVersion = "v2"; // the instance controller replaced them
    run(c, Duration.ofSeconds(1));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(r.reason()).isEqualTo("all 3 instances run v2 and are ready");
    assertThat(splits).isEmpty();
    assertThatCode(() -> c.start("shop", V2, V1, Strategy.rolling()))
        .as("the deploy lock is free again")
        .doesNotThrowAnyException();
  }

  @Test
  void rollingDeploy_rollsBackWhenTheNewVersionCrashLoops_orMissesTheDeadline() {
    RolloutController c = controller();
    c.start("shop", V1, V2, Strategy.rolling());
    run(c, Duration.ofSeconds(5));
    fleet.stableCrashLooping = true;
    run(c, Duration.ofSeconds(1));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).isEqualTo("the new version keeps crashing");
    assertThat(r.before().service("shop").orElseThrow().version())
        .as("the stable spec the desired state returns to")
        .isEqualTo("v1");
    fleet.stableCrashLooping = false;
    c.start("shop", V1, V2, Strategy.rolling());
    run(c, Duration.ofMinutes(11));
    assertThat(c.status("shop").orElseThrow().reason())
        .isEqualTo(
            "only 0 of 3 instances of the new version were ready within the progress deadline of"
                + " 600s");
    assertThatCode(() -> c.start("shop", V1, V2, Strategy.rolling())).doesNotThrowAnyException();
    assertThatThrownBy(() -> c.pause("shop"))
        .hasMessageContaining("a rolling deploy cannot be paused");
  }

  @Test
  void failingSmokeTest_rollsBackBeforeTheNewVersionGetsUserTraffic() {
    checks.smokeResult = Verdict.Outcome.FAIL;
    RolloutController c = controller();
    c.start("shop", V1, V2, canary(SMOKE, List.of(), null, Duration.ZERO));
    run(c, Duration.ofSeconds(5));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).isEqualTo("smoke test failed: GET /health answered 500");
    assertThat(splits).as("never more than weight 0").containsOnly("shop:0", "shop:clear");
    assertThat(checks.smokeCalls).isEqualTo(1);
  }

  @Test
  void passingSmokeTests_thenTheStepsRun_andThePreviewHeaderAlwaysReachesTheNewVersion() {
    RolloutController c = controller();
    c.start("shop", V1, V2, canary(SMOKE, List.of(), null, Duration.ZERO));
    // Only the daemon's secret value reaches the new version, not any value of the header.
    assertThat(c.previewSecret()).hasSizeGreaterThanOrEqualTo(32).isNotEqualTo("*");
    assertThat(lastSplit.rules())
        .contains(
            new Split.Rule(
                Split.Rule.Kind.HEADER, RolloutController.PREVIEW_HEADER, c.previewSecret()))
        .noneMatch(r -> r.value().equals("*"));
    run(c, Duration.ofSeconds(90));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(events).extracting(NewEvent::type).contains("RolloutSmokePassed");
  }

  @Test
  void failingCustomCheck_rollsBack_withTheCheckReason() {
    RolloutController c = controller();
    checks.customResult = Verdict.Outcome.FAIL;
    c.start(
        "shop",
        V1,
        V2,
        canary(
            List.of(),
            List.of(new Strategy.Check("db", "command", "./check", Duration.ofSeconds(5))),
            null,
            Duration.ZERO));
    run(c, Duration.ofSeconds(60));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).isEqualTo("db: exit code 1");
    assertThat(r.verdicts()).extracting(Verdict::metric).contains("db", "error-rate", "latency");
  }

  @Test
  void tooLittleTraffic_drivesTheLoadGenerator_oncePerStep() {
    requestsPerWindow = 10;
    RolloutController c = controller();
    c.start(
        "shop", V1, V2, canary(List.of(), List.of(), new Strategy.Load(20, "/"), Duration.ZERO));
    run(c, Duration.ofSeconds(40));
    assertThat(checks.driven).containsExactly("shop 20.0/s for 30s");
    requestsPerWindow = 500; // the generated load arrives
    run(c, Duration.ofSeconds(60));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
  }

  @Test
  void blueGreen_switchesAllTrafficAtOnce_keepsTheOldSetWarm_thenPromotes() {
    RolloutController c = controller();
    Strategy.BlueGreen bg = blueGreen(SMOKE, Duration.ofSeconds(60));
    c.start("shop", V1, V2, bg);
    assertThat(fleet.canaryCount).as("a full new set").isEqualTo(3);
    run(c, Duration.ofSeconds(5));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.VALIDATING);
    assertThat(splits).containsExactly("shop:0", "shop:100");
    assertThat(fleet.applied).as("old set still warm").isNull();
    run(c, Duration.ofSeconds(60));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(splits).containsExactly("shop:0", "shop:100", "shop:clear");
    assertThat(fleet.applied).isEqualTo(V2);
  }

  @Test
  void blueGreen_withErrorsAfterTheSwitch_switchesBackInOneSwap() {
    canaryErrorRate = 0.3;
    RolloutController c = controller();
    c.start("shop", V1, V2, blueGreen(List.of(), Duration.ofSeconds(60)));
    run(c, Duration.ofSeconds(30));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).startsWith("post-deploy validation: error rate higher");
    assertThat(splits).containsSubsequence("shop:100", "shop:0");
    assertThat(fleet.applied).isNull();
    assertThat(r.before().service("shop").orElseThrow().version())
        .as("the stable spec the desired state returns to")
        .isEqualTo("v1");
  }

  @Test
  void restartedController_resumesABlueGreenRollbackWindow_withTheNewSetStillServing() {
    Strategy.BlueGreen bg = blueGreen(List.of(), Duration.ofSeconds(60));
    RolloutController first = controller();
    first.start("shop", V1, V2, bg);
    run(first, Duration.ofSeconds(5));
    assertThat(first.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.VALIDATING);
    fleet.canaryCount = 0; // the daemon was killed; a new one knows only the store
    splits.clear();
    RolloutController second = controller();
    second.restoreCanaries();
    assertThat(fleet.canaryCount).isEqualTo(3);
    assertThat(splits).containsExactly("shop:100");
    run(second, Duration.ofSeconds(60));
    assertThat(second.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(fleet.applied).isEqualTo(V2);
  }

  @Test
  void canaryValidation_afterPromotion_rollsBackOnRegression() {
    RolloutController c = controller();
    c.start("shop", V1, V2, canary(List.of(), List.of(), null, Duration.ofSeconds(60)));
    run(c, Duration.ofSeconds(65));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.VALIDATING);
    assertThat(r.holdsStable()).as("the new version is promoted").isFalse();
    assertThat(fleet.applied).isEqualTo(V2);
    canaryErrorRate = 0.3; // a regression once all traffic is on it
    run(c, Duration.ofSeconds(30));
    r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason()).startsWith("post-deploy validation: error rate higher");
    assertThat(r.before().service("shop").orElseThrow().version())
        .as("the stable spec the desired state returns to")
        .isEqualTo("v1");
  }

  static Strategy.Canary gated(Strategy.Gate.Type... types) {
    Strategy.Canary p = STANDARD;
    List<Strategy.Gate> gates = new ArrayList<>();
    for (Strategy.Gate.Type t : types) {
      gates.add(
          new Strategy.Gate(t.wire(), t, "http://127.0.0.1:9/" + t.wire(), Duration.ofSeconds(5)));
    }
    return new Strategy.Canary(
        p.steps(),
        1,
        p.match(),
        false,
        p.analysis(),
        p.maxAnalysisWait(),
        p.checks(),
        p.load(),
        p.smoke(),
        p.validation(),
        p.progressDeadline(),
        gates,
        null,
        null,
        false);
  }

  @Test
  void confirmRolloutGate_holdsVisiblyBeforeAnyTraffic_untilItSaysYes() {
    boolean[] yes = {false};
    checks.gateSays.put(Strategy.Gate.Type.CONFIRM_ROLLOUT, n -> yes[0]);
    RolloutController c = controller();
    c.start("shop", V1, V2, gated(Strategy.Gate.Type.CONFIRM_ROLLOUT));
    run(c, Duration.ofSeconds(30));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.PROGRESSING);
    assertThat(r.reason())
        .isEqualTo("waiting for the confirm-rollout gate: confirm-rollout: webhook answered 403");
    assertThat(splits).as("no traffic while held").containsExactly("shop:0");
    assertThat(events).filteredOn(e -> e.type().equals("RolloutGateWaiting")).hasSize(1);
    assertThat(checks.gateCalls.size()).as("asked again every 2 s").isBetween(10, 16);
    yes[0] = true;
    run(c, Duration.ofSeconds(90));
    assertThat(c.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(events).extracting(NewEvent::type).contains("RolloutGatePassed");
    assertThat(c.status("shop").orElseThrow().passedGates()).containsExactly("confirm-rollout");
  }

  @Test
  void holdingGate_pastTheProgressDeadline_rollsBack() {
    checks.gateSays.put(Strategy.Gate.Type.CONFIRM_PROMOTION, n -> false);
    RolloutController c = controller();
    c.start("shop", V1, V2, gated(Strategy.Gate.Type.CONFIRM_PROMOTION));
    run(c, Duration.ofSeconds(90));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).as("held before promotion").isEqualTo(Rollout.Phase.PROGRESSING);
    assertThat(r.weight()).isEqualTo(50);
    assertThat(fleet.applied).isNull();
    run(c, Duration.ofMinutes(2));
    r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason())
        .startsWith(
            "the confirm-promotion gate did not say yes within the progress deadline of 120s");
  }

  @Test
  void preRolloutGate_sayingNo_rollsBackBeforeAnyTraffic() {
    checks.gateSays.put(Strategy.Gate.Type.PRE_ROLLOUT, n -> false);
    RolloutController c = controller();
    c.start("shop", V1, V2, gated(Strategy.Gate.Type.PRE_ROLLOUT));
    run(c, Duration.ofSeconds(5));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason())
        .isEqualTo("the pre-rollout gate said no: pre-rollout: webhook answered 403");
    assertThat(splits).containsOnly("shop:0", "shop:clear");
  }

  @Test
  void confirmTrafficIncrease_isAskedBeforeEachIncrease_andHoldsAtTheCurrentWeight() {
    checks.gateSays.put(Strategy.Gate.Type.CONFIRM_TRAFFIC_INCREASE, n -> n == 0);
    RolloutController c = controller();
    c.start("shop", V1, V2, gated(Strategy.Gate.Type.CONFIRM_TRAFFIC_INCREASE));
    run(c, Duration.ofSeconds(60));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.weight()).as("10 % allowed, 50 % not yet").isEqualTo(10);
    assertThat(r.reason()).startsWith("waiting for the confirm-traffic-increase gate");
    assertThat(checks.gateCalls).first().isEqualTo("confirm-traffic-increase@0/0");
    assertThat(checks.gateCalls).element(1).isEqualTo("confirm-traffic-increase@2/10");
  }

  @Test
  void rollbackGate_sayingYes_rollsBackAtOnce_andPostRolloutHearsOfIt() {
    checks.gateSays.put(Strategy.Gate.Type.ROLLBACK, n -> n >= 3);
    RolloutController c = controller();
    c.start("shop", V1, V2, gated(Strategy.Gate.Type.ROLLBACK, Strategy.Gate.Type.POST_ROLLOUT));
    run(c, Duration.ofSeconds(20));
    Rollout r = c.status("shop").orElseThrow();
    assertThat(r.phase()).isEqualTo(Rollout.Phase.ROLLED_BACK);
    assertThat(r.reason())
        .isEqualTo("the rollback gate asked for a rollback: rollback: webhook answered 200");
    assertThat(checks.gateCalls).filteredOn(x -> x.startsWith("post-rollout@")).hasSize(1);
  }

  @Test
  void passedGates_areNotAskedAgain_afterARestart() {
    RolloutController first = controller();
    first.start("shop", V1, V2, gated(Strategy.Gate.Type.CONFIRM_ROLLOUT));
    run(first, Duration.ofSeconds(5));
    assertThat(checks.gateCalls).containsExactly("confirm-rollout@0/0");
    RolloutController second = controller(); // the daemon was killed and started again
    run(second, Duration.ofSeconds(90));
    assertThat(second.status("shop").orElseThrow().phase()).isEqualTo(Rollout.Phase.PROMOTED);
    assertThat(checks.gateCalls).containsExactly("confirm-rollout@0/0");
  }

  /** Smoke tests and custom checks that answer as told; load requests recorded. */
  static final class FakeChecks implements Ports.Checks {
    Verdict.Outcome smokeResult = Verdict.Outcome.PASS;
    Verdict.Outcome customResult = Verdict.Outcome.PASS;
    int smokeCalls;
    final List<String> driven = new ArrayList<>();

    /** How each gate type answers: yes unless set; calls recorded as "type@step/weight". */
    final Map<Strategy.Gate.Type, java.util.function.IntPredicate> gateSays =
        new java.util.EnumMap<>(Strategy.Gate.Type.class);

    final List<String> gateCalls = new ArrayList<>();

    @Override
    public CompletableFuture<List<Verdict>> gates(Rollout r, List<Strategy.Gate> gates) {
      List<Verdict> out = new ArrayList<>();
      for (Strategy.Gate g : gates) {
        int n = (int) gateCalls.stream().filter(c -> c.startsWith(g.type().wire() + "@")).count();
        gateCalls.add(g.type().wire() + "@" + r.step() + "/" + r.weight());
        boolean yes = gateSays.getOrDefault(g.type(), i -> true).test(n);
        out.add(
            new Verdict(
                g.name(),
                yes ? Verdict.Outcome.PASS : Verdict.Outcome.FAIL,
                Double.NaN,
                Double.NaN,
                g.name() + ": webhook answered " + (yes ? 200 : 403)));
      }
      return CompletableFuture.completedFuture(out);
    }

    @Override
    public CompletableFuture<List<Verdict>> smoke(String service, List<Strategy.SmokeTest> tests) {
      smokeCalls++;
      return CompletableFuture.completedFuture(
          tests.stream()
              .map(
                  t ->
                      new Verdict(
                          "smoke " + t.path(),
                          smokeResult,
                          Double.NaN,
                          3,
                          t.method()
                              + " "
                              + t.path()
                              + " answered "
                              + (smokeResult == Verdict.Outcome.PASS ? t.status() : 500)))
              .toList());
    }

    /** Outcomes of the next custom checks, in order, before customResult applies again. */
    final java.util.ArrayDeque<Verdict.Outcome> customNext = new java.util.ArrayDeque<>();

    final List<String> customTargets = new ArrayList<>();

    @Override
    public CompletableFuture<List<Verdict>> custom(Rollout rollout, List<Strategy.Check> list) {
      list.forEach(ch -> customTargets.add(ch.target()));
      if (!customNext.isEmpty()) {
        Verdict.Outcome next = customNext.poll();
        return CompletableFuture.completedFuture(
            list.stream()
                .map(ch -> new Verdict(ch.name(), next, Double.NaN, 0.1, ch.name() + ": " + next))
                .toList());
      }
      return CompletableFuture.completedFuture(
          list.stream()
              .map(
                  ch ->
                      new Verdict(
                          ch.name(),
                          customResult,
                          Double.NaN,
                          Double.NaN,
                          ch.name()
                              + (customResult == Verdict.Outcome.PASS
                                  ? ": exit code 0"
                                  : ": exit code 1")))
              .toList());
    }

    @Override
    public void drive(String service, Strategy.Load load, Duration duration) {
      driven.add(service + " " + load.rate() + "/s for " + duration.toSeconds() + "s");
    }
  }

  /** Three stable instances; the canary instances appear when set and are ready at once. */
  final class FakeFleet implements Ports.Fleet {
    int canaryCount;
    boolean crashLooping;
    boolean stableCrashLooping;
    String stableVersion = "v1";
    boolean canaryReady = true;
    Spec applied;

    /** Canary instances beyond this many are still starting. */
    int readyCanaries = Integer.MAX_VALUE;

    final List<Integer> canarySizes = new ArrayList<>();

    @Override
    public void setCanary(String service, ServiceSpec canary, int count) {
      if (count != canaryCount) {
        canarySizes.add(count);
      }
      canaryCount = count;
    }

    @Override
    public void clearCanary(String service) {
      canaryCount = 0;
    }

    @Override
    public Optional<String> canaryTemplate(String service) {
      return canaryCount == 0 ? Optional.empty() : Optional.of("t2-canary");
    }

    @Override
    public boolean canaryCrashLooping(String service) {
      return crashLooping;
    }

    @Override
    public boolean crashLooping(String service) {
      return stableCrashLooping;
    }

    @Override
    public void promote(String service) {
      applied = V2;
      stableVersion = "v2";
    }

    /** Baseline instances that are ready (they run as the service SERVICE--baseline). */
    int baselineReady;

    @Override
    public List<InstanceStatus> instances(String service) {
      List<InstanceStatus> out = new ArrayList<>();
      if (service.endsWith("--baseline")) {
        for (int i = 0; i < baselineReady; i++) {
          out.add(
              new InstanceStatus(
                  "baseline-" + i,
                  service,
                  i,
                  300 + i,
                  4000 + i,
                  "running",
                  true,
                  Instant.EPOCH,
                  0,
                  svc("v1").template() + "-0",
                  "v1"));
        }
        return out;
      }
      for (int i = 0; i < 3; i++) {
        out.add(
            new InstanceStatus(
                stableVersion + "-stable-" + i,
                "shop",
                i,
                100 + i,
                2000 + i,
                "running",
                true,
                Instant.EPOCH,
                0,
                svc(stableVersion).template() + "-0",
                stableVersion));
      }
      for (int i = 0; i < canaryCount; i++) {
        out.add(
            new InstanceStatus(
                "canary-" + i,
                "shop",
                InstanceController.CANARY_SLOT_BASE + i,
                200 + i,
                3000 + i,
                canaryReady && i < readyCanaries ? "running" : "starting",
                canaryReady && i < readyCanaries,
                Instant.EPOCH,
                0,
                svc("v2").template() + "-canary",
                "v2"));
      }
      return out;
    }
  }
}
