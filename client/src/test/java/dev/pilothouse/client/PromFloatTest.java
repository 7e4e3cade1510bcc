package dev.pilothouse.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PromFloatTest {
  @Test
  void readsWhatPrometheusWrites() {
    assertThat(PromFloat.parse("0.25")).isEqualTo(0.25);
    assertThat(PromFloat.parse("-1e-3")).isEqualTo(-0.001);
    assertThat(PromFloat.parse("+Inf")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(PromFloat.parse("-Inf")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(PromFloat.parse("NaN")).isNaN();
    assertThatThrownBy(() -> PromFloat.parse("one")).isInstanceOf(NumberFormatException.class);
  }
}
