package dev.pilothouse.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Autoscale.Behavior;
import dev.pilothouse.core.spec.Autoscale.Policy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class LimiterTest {
  private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

  private static Autoscale autoscale(int min, int max, Behavior up, Behavior down) {
    return new Autoscale(
        min,
        max,
        List.of(new Autoscale.Target.RequestsPerSecond(50)),
        null,
        up,
        down,
        Duration.ZERO,
        null);
  }

  private static Behavior behavior(Duration window, Behavior.Select select, Policy... p) {
    return new Behavior(window, List.of(p), select);
  }

  private static Policy pods(int n, int seconds) {
    return new Policy(Policy.Kind.INSTANCES, n, Duration.ofSeconds(seconds));
  }

  private static Policy percent(int n, int seconds) {
    return new Policy(Policy.Kind.PERCENT, n, Duration.ofSeconds(seconds));
  }

  /** Runs one decision at t seconds and carries it out. */
  private static int step(Limiter l, Autoscale a, int t, int current, int proposed) {
    Instant now = T0.plusSeconds(t);
    int next = l.limit(now, current, proposed, a).replicas();
    l.changed(now, current, next);
    return next;
  }

  @Test
  void defaultScaleUp_doublesOrAddsFourPer15s_whicheverIsMore() {
    Autoscale a = autoscale(1, 100, null, null);
    Limiter l = new Limiter(T0, 1);
    int n = step(l, a, 0, 1, 20);
    assertThat(n).isEqualTo(5); // 1 + 4 beats 1 * 2
    n = step(l, a, 5, n, 20);
    assertThat(n).as("the period started at 1").isEqualTo(5);
    n = step(l, a, 16, n, 20);
    assertThat(n).isEqualTo(10); // 5 * 2 beats 5 + 4
    n = step(l, a, 32, n, 20);
    assertThat(n).isEqualTo(20);
  }

  @Test
  void scaleDownPolicies_theHpaDocumentationExample() {
    // "policies: Pods 4 per 60s, Percent 10 per 60s": with 80 replicas the first step removes 8
    // (10% allows more), then 72 -> 64; below 40 the 4-pod policy allows more.
    Autoscale a =
        autoscale(
            1,
            100,
            null,
            behavior(Duration.ZERO, Behavior.Select.MAX, pods(4, 60), percent(10, 60)));
    Limiter l = new Limiter(T0.minusSeconds(600), 80);
    int n = step(l, a, 0, 80, 10);
    assertThat(n).isEqualTo(72);
    assertThat(step(l, a, 30, n, 10)).as("within the period").isEqualTo(72);
    n = step(l, a, 61, n, 10);
    assertThat(n).isEqualTo(64);
    Limiter l2 = new Limiter(T0.minusSeconds(600), 30);
    assertThat(step(l2, a, 0, 30, 10)).isEqualTo(26); // 30 - 4 < 30 * 0.9 = 27
  }

  @Test
  void selectPolicyMin_takesThePolicyAllowingTheLeastChange() {
    Autoscale a =
        autoscale(
            1,
            100,
            null,
            behavior(Duration.ZERO, Behavior.Select.MIN, pods(4, 60), percent(10, 60)));
    Limiter l = new Limiter(T0.minusSeconds(600), 80);
    assertThat(step(l, a, 0, 80, 10)).isEqualTo(76);
  }

  @Test
  void selectPolicyDisabled_neverScalesInThatDirection() {
    Autoscale a =
        autoscale(1, 100, null, new Behavior(Duration.ZERO, List.of(), Behavior.Select.DISABLED));
    Limiter l = new Limiter(T0.minusSeconds(600), 8);
    Limiter.Result r = l.limit(T0, 8, 2, a);
    assertThat(r.replicas()).isEqualTo(8);
    assertThat(r.limitedBy()).contains("disabled");
  }

  @Test
  void scaleDownStabilization_takesTheHighestRecommendationOfTheWindow() {
    Autoscale a = autoscale(1, 100, null, null); // 300 s window
    Limiter l = new Limiter(T0.minusSeconds(600), 6);
    int n = step(l, a, 0, 6, 6);
    n = step(l, a, 10, n, 2);
    assertThat(n).isEqualTo(6);
    n = step(l, a, 200, n, 3);
    assertThat(n).isEqualTo(6);
    Limiter.Result r = l.limit(T0.plusSeconds(250), n, 2, a);
    assertThat(r.limitedBy()).startsWith("scaleDown stabilization (300s)");
    // At 301 s the recommendation of 6 (t = 0) left the window; 3 (t = 200) is the highest.
    n = step(l, a, 301, n, 2);
    assertThat(n).isEqualTo(3);
    n = step(l, a, 501, n, 2);
    assertThat(n).isEqualTo(2);
  }

  @Test
  void aNewLimiter_doesNotScaleDownBeforeAWindowHasPassed() {
    // A restarted daemon re-adopts 6 instances; low load must not drop them at once.
    Autoscale a = autoscale(1, 100, null, null);
    Limiter l = new Limiter(T0, 6);
    assertThat(step(l, a, 1, 6, 1)).isEqualTo(6);
    assertThat(step(l, a, 301, 6, 1)).isEqualTo(1);
  }

  @Test
  void scaleUpStabilization_takesTheLowestRecommendationOfTheWindow() {
    Autoscale a =
        autoscale(
            1, 100, behavior(Duration.ofSeconds(60), Behavior.Select.MAX, percent(100, 15)), null);
    Limiter l = new Limiter(T0.minusSeconds(600), 2);
    int n = step(l, a, 0, 2, 2);
    n = step(l, a, 10, n, 8);
    assertThat(n).as("the 2 of t=0 is still in the window").isEqualTo(2);
    n = step(l, a, 61, n, 8);
    assertThat(n).isEqualTo(4); // the window passed; 100% per 15s allows 2 -> 4
  }

  @Test
  void minAndMax_bound_andSayWhy() {
    Autoscale a = autoscale(2, 5, null, null);
    Limiter l = new Limiter(T0.minusSeconds(600), 4);
    Limiter.Result up = l.limit(T0, 4, 50, a);
    assertThat(up.replicas()).isEqualTo(5);
    assertThat(up.limitedBy()).isEqualTo("max 5");
    Limiter l2 = new Limiter(T0.minusSeconds(600), 4);
    Autoscale quick =
        autoscale(2, 5, null, behavior(Duration.ZERO, Behavior.Select.MAX, percent(100, 15)));
    Limiter.Result down = l2.limit(T0, 4, 0, quick);
    assertThat(down.replicas()).isEqualTo(2);
    assertThat(down.limitedBy()).isEqualTo("min 2");
  }
}
