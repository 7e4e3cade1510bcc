package dev.pilothouse.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

class EffectTest {
  @Test
  void proportions_matchTheTwoSampleZTest() {
    Effect e = Effect.proportions(100, 1000, 150, 1000);
    double se = Math.sqrt(0.1 * 0.9 / 1000 + 0.15 * 0.85 / 1000);
    double p = 2 * (1 - new NormalDistribution().cumulativeProbability(0.05 / se));
    assertThat(e.difference()).isCloseTo(0.05, within(1e-12));
    assertThat(e.pValue()).isCloseTo(p, within(1e-9));
    assertThat(e.low()).isCloseTo(0.05 - 1.959963984540054 * se, within(1e-12));
    assertThat(e.relative()).isCloseTo(0.5, within(1e-12));
    assertThat(e.significant()).isTrue();
  }

  @Test
  void interval_coversTheTrueDifference95PercentOfTheTime() {
    SplittableRandom r = new SplittableRandom(7);
    int covered = 0;
    int runs = 2000;
    for (int i = 0; i < runs; i++) {
      int a = 0;
      int b = 0;
      for (int k = 0; k < 2000; k++) {
        a += r.nextDouble() < 0.10 ? 1 : 0;
        b += r.nextDouble() < 0.12 ? 1 : 0;
      }
      Effect e = Effect.proportions(a, 2000, b, 2000);
      covered += e.low() <= 0.02 && 0.02 <= e.high() ? 1 : 0;
    }
    assertThat(covered / (double) runs).isBetween(0.93, 0.97);
  }

  @Test
  void means_useWelchsStandardError_andNoSamplesGiveNoInterval() {
    Effect e = Effect.means(10, 4, 100, 11, 9, 100);
    assertThat(e.high() - e.difference())
        .isCloseTo(1.959963984540054 * Math.sqrt(0.13), within(1e-9));
    assertThat(e.significant()).isTrue();
    Effect none = Effect.proportions(0, 0, 5, 10);
    assertThat(none.low()).isNaN();
    assertThat(none.significant()).isFalse();
  }
}
