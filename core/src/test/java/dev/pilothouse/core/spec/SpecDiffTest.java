package dev.pilothouse.core.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpecDiffTest {
  static ServiceSpec svc(String name, int replicas, Map<String, String> env) {
    return new ServiceSpec(
        name,
        "./s",
        List.of(),
        env,
        "/srv",
        "v1",
        replicas,
        null,
        Probe.http("/r"),
        RestartPolicy.defaults(),
        StopPolicy.defaults(),
        Resources.none(),
        null);
  }

  @Test
  void namesAddedRemovedAndChangedFields() {
    Spec before = new Spec(List.of(svc("shop", 3, Map.of()), svc("old", 1, Map.of())));
    Spec after = new Spec(List.of(svc("shop", 5, Map.of()), svc("api", 1, Map.of())));
    assertThat(SpecDiff.between(before, after))
        .containsExactly("- services.old", "~ services.shop.replicas: 3 -> 5", "+ services.api");
  }

  @Test
  void envChanges_nameKeysButNeverValues() {
    Spec before = new Spec(List.of(svc("shop", 1, Map.of("DB_PASSWORD", "hunter2", "A", "1"))));
    Spec after = new Spec(List.of(svc("shop", 1, Map.of("DB_PASSWORD", "s3cret", "B", "2"))));
    List<String> diff = SpecDiff.between(before, after);
    assertThat(diff)
        .containsExactly(
            "- services.shop.env.A",
            "+ services.shop.env.B",
            "~ services.shop.env.DB_PASSWORD: (value changed)");
    assertThat(String.join("\n", diff)).doesNotContain("hunter2").doesNotContain("s3cret");
  }

  @Test
  void identicalSpecs_haveNoDiff() {
    Spec s = new Spec(List.of(svc("shop", 3, Map.of("A", "1"))));
    assertThat(SpecDiff.between(s, s)).isEmpty();
  }

  @Test
  void strategyChanges_areShownInTheSpecsOwnTerms_notJavaToString() {
    ServiceSpec base = svc("shop", 1, Map.of());
    Strategy.Canary v1 =
        Strategy.Canary.of(
            List.of(
                Strategy.Step.weight(10),
                Strategy.Step.pause(java.time.Duration.ofSeconds(90)),
                Strategy.Step.analysis(java.time.Duration.ofMinutes(1))));
    Strategy.Canary v2 =
        Strategy.Canary.of(
            List.of(
                Strategy.Step.weight(20),
                Strategy.Step.pause(java.time.Duration.ZERO),
                Strategy.Step.analysis(java.time.Duration.ofMinutes(1))));
    List<String> diff =
        SpecDiff.between(
            new Spec(List.of(base.withPlan(v1))), new Spec(List.of(base.withPlan(v2))));
    assertThat(diff)
        .containsExactly(
            "~ services.shop.strategy.steps[0]: {weight: 10} -> {weight: 20}",
            "~ services.shop.strategy.steps[1]: {pause: 1m30s} -> {pause: manual}");
    List<String> added =
        SpecDiff.between(new Spec(List.of(base)), new Spec(List.of(base.withPlan(v1))));
    assertThat(added).hasSize(1);
    assertThat(added.get(0))
        .startsWith(
            "~ services.shop.strategy: (none) -> {type: canary, steps: [{weight: 10},"
                + " {pause: 1m30s},")
        .contains("analysis: {alpha: 0.05, minRequests: 50")
        .contains("maxLatencyIncrease: 5ms")
        .doesNotContain("Canary[")
        .doesNotContain("PT");
  }

  @Test
  void analysisThresholds_andStrategyTypes_areShownAsTheSpecWritesThem() {
    ServiceSpec base = svc("shop", 1, Map.of());
    Strategy.Canary v1 = Strategy.Canary.of(List.of(Strategy.Step.weight(10)));
    Strategy.Canary v2 =
        new Strategy.Canary(
            v1.steps(),
            v1.canaryReplicas(),
            v1.match(),
            v1.sticky(),
            new Strategy.Analysis(0.01, 50, 0.01, 12.5, 0.10),
            v1.maxAnalysisWait(),
            v1.checks(),
            v1.load(),
            v1.smoke(),
            v1.validation(),
            v1.progressDeadline());
    assertThat(
            SpecDiff.between(
                new Spec(List.of(base.withPlan(v1))), new Spec(List.of(base.withPlan(v2)))))
        .containsExactly(
            "~ services.shop.strategy.analysis.alpha: 0.05 -> 0.01",
            "~ services.shop.strategy.analysis.maxLatencyIncrease: 5ms -> 12.5ms");
    Strategy.BlueGreen bg =
        new Strategy.BlueGreen(
            2,
            List.of(),
            Strategy.Analysis.DEFAULT,
            List.of(),
            java.time.Duration.ofSeconds(30),
            java.time.Duration.ofMinutes(10));
    assertThat(
            SpecDiff.between(
                new Spec(List.of(base.withPlan(Strategy.rolling()))),
                new Spec(List.of(base.withPlan(bg)))))
        .singleElement()
        .asString()
        .startsWith(
            "~ services.shop.strategy: {type: rolling, maxSurge: 1, maxUnavailable: 0,"
                + " progressDeadline: 10m} -> {type: blueGreen, canaryReplicas: 2,")
        .contains("rollbackWindow: 30s");
  }
}
