package dev.pilothouse.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.Autoscale;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProposalsTest {
  private static final Autoscale.Tolerance TEN = Autoscale.Tolerance.DEFAULT;

  @Test
  void doublesAtTwiceTheTarget_halvesAtHalf_asTheHpaDocumentationComputes() {
    // "if the current metric value is 200m, and the desired value is 100m, the number of replicas
    // will be doubled ... If the current value is instead 50m, you'll halve the number"
    List<Proposals.Instance> at200 =
        List.of(Proposals.Instance.of(200), Proposals.Instance.of(200));
    assertThat(Proposals.perInstance(at200, 100, 2, TEN)).hasValue(4);
    List<Proposals.Instance> at50 =
        List.of(
            Proposals.Instance.of(50),
            Proposals.Instance.of(50),
            Proposals.Instance.of(50),
            Proposals.Instance.of(50));
    assertThat(Proposals.perInstance(at50, 100, 4, TEN)).hasValue(2);
  }

  @Test
  void withinTheTolerance_keepsTheCount() {
    List<Proposals.Instance> at109 =
        List.of(Proposals.Instance.of(109), Proposals.Instance.of(109));
    assertThat(Proposals.perInstance(at109, 100, 2, TEN)).hasValue(2);
    List<Proposals.Instance> at111 =
        List.of(Proposals.Instance.of(111), Proposals.Instance.of(111));
    assertThat(Proposals.perInstance(at111, 100, 2, TEN)).hasValue(3);
  }

  @Test
  void toleranceMayDifferByDirection() {
    // Scale up at once, scale down only 30% below the target (kubernetes#116984).
    Autoscale.Tolerance t = new Autoscale.Tolerance(0, 0.3);
    assertThat(Proposals.total(101, 50, 2, t)).hasValue(3);
    assertThat(Proposals.total(72, 50, 2, t)).hasValue(2); // 28% below: held
    assertThat(Proposals.total(60, 50, 3, t)).hasValue(2); // 60% below: ceil(60/50) = 2
    assertThat(Proposals.total(68, 50, 3, t)).hasValue(2);
  }

  @Test
  void totals_proposeTheCountThatCarriesThem() {
    assertThat(Proposals.total(300, 50, 1, TEN)).hasValue(6);
    assertThat(Proposals.total(20, 50, 1, TEN)).hasValue(1);
    assertThat(Proposals.total(0, 50, 4, TEN)).hasValue(0);
    assertThat(Proposals.total(100, 50, 2, TEN)).hasValue(2);
  }

  @Test
  void missingMeasurements_countAsAtTargetWhenShrinking_andAsIdleWhenGrowing() {
    // Two measured at 50% of target and one missing: shrinking would assume the missing one at
    // 100%: (50+50+100)/3 = 67% -> ceil(0.67 * 3) = 2.
    List<Proposals.Instance> shrink =
        List.of(Proposals.Instance.of(50), Proposals.Instance.of(50), Proposals.Instance.missing());
    assertThat(Proposals.perInstance(shrink, 100, 3, TEN)).hasValue(2);
    // Two at 200% and one missing: growing assumes the missing one idle: 400/3 = 133% -> 4.
    List<Proposals.Instance> grow =
        List.of(
            Proposals.Instance.of(200), Proposals.Instance.of(200), Proposals.Instance.missing());
    assertThat(Proposals.perInstance(grow, 100, 3, TEN)).hasValue(4);
  }

  @Test
  void warmingInstances_countAsIdleWhenGrowing_soAStartupSpikeDoesNotRunAway() {
    // One trusted instance at 150%, three new ones burning CPU while they start (not trusted):
    // counted idle, (150 + 0 + 0 + 0) / 4 = 37.5% of target: not a reason to grow.
    List<Proposals.Instance> l =
        List.of(
            Proposals.Instance.of(150),
            Proposals.Instance.warming(),
            Proposals.Instance.warming(),
            Proposals.Instance.warming());
    assertThat(Proposals.perInstance(l, 100, 4, TEN)).hasValue(4);
    // Without any trusted measurement there is no proposal at all.
    assertThat(Proposals.perInstance(List.of(Proposals.Instance.warming()), 100, 1, TEN)).isEmpty();
  }

  @Test
  void aValueTarget_scalesTheReadyInstancesByItsRatio() {
    assertThat(Proposals.value(500, 250, 3, 3, TEN)).hasValue(6);
    assertThat(Proposals.value(260, 250, 3, 3, TEN)).hasValue(3);
    assertThat(Proposals.value(100, 250, 4, 4, TEN)).hasValue(2);
  }
}
