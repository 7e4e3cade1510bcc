package dev.pilothouse.core.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.spec.RestartPolicy;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BackoffTest {
  static RestartPolicy policy(double jitter) {
    return new RestartPolicy(
        RestartPolicy.Mode.ALWAYS,
        Duration.ofMillis(250),
        Duration.ofSeconds(30),
        2.0,
        jitter,
        Duration.ofSeconds(60),
        6);
  }

  /** A generator whose nextDouble is fixed, to pin the jitter. */
  static RandomGenerator fixed(double value) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return 0;
      }

      @Override
      public double nextDouble() {
        return value;
      }
    };
  }

  @Test
  void withoutJitter_doublesFromInitialUntilCap() {
    RestartPolicy p = policy(0);
    RandomGenerator r = new SplittableRandom(1);
    assertThat(Backoff.delay(p, 1, r)).isEqualTo(Duration.ofMillis(250));
    assertThat(Backoff.delay(p, 2, r)).isEqualTo(Duration.ofMillis(500));
    assertThat(Backoff.delay(p, 3, r)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Backoff.delay(p, 8, r)).isEqualTo(Duration.ofSeconds(30)); // 32s capped
    assertThat(Backoff.delay(p, 500, r)).isEqualTo(Duration.ofSeconds(30)); // no overflow
  }

  @Test
  void jitter_spreadsByPlusMinusFraction() {
    RestartPolicy p = policy(0.2);
    assertThat(Backoff.delay(p, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(800));
    assertThat(Backoff.delay(p, 3, fixed(0.5))).isEqualTo(Duration.ofMillis(1000));
    assertThat(Backoff.delay(p, 3, fixed(0.9999999)))
        .isBetween(Duration.ofMillis(1199), Duration.ofMillis(1200));
  }

  @Test
  void jitter_neverExceedsCap() {
    assertThat(Backoff.delay(policy(0.5), 20, fixed(0.999))).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void rejectsFailureCountBelowOne() {
    assertThatThrownBy(() -> Backoff.delay(policy(0), 0, fixed(0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("failures must be >= 1");
  }

  @Property
  void alwaysWithinJitterBandAndCap(
      @ForAll @IntRange(min = 1, max = 80) int failures,
      @ForAll @DoubleRange(min = 0, max = 0.99) double jitter,
      @ForAll @DoubleRange(min = 0, max = 0.999) @net.jqwik.api.constraints.Scale(6) double r) {
    RestartPolicy p = policy(jitter);
    double base = Math.min(30_000, 250 * Math.pow(2, failures - 1));
    long ms = Backoff.delay(p, failures, fixed(r)).toMillis();
    assertThat(ms).isLessThanOrEqualTo(30_000);
    assertThat((double) ms)
        .isBetween(base * (1 - jitter) - 1, Math.min(30_000, base * (1 + jitter)) + 1);
  }
}
