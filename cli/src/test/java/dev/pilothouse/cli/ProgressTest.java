package dev.pilothouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressTest {
  @Test
  void aMeterIsFilledByTheShareDone_andNeverBeyondFullOrBelowEmpty() {
    assertThat(Progress.meter(1, 4, 20)).isEqualTo("[#####...............]");
    assertThat(Progress.meter(0, 4, 8)).isEqualTo("[........]");
    assertThat(Progress.meter(0, 0, 8)).isEqualTo("[########]");
    // 3 instances ready of 2 wanted (the third is on its way out after a lowered count): this
    // threw IllegalArgumentException "count is negative" and failed 'up'
    assertThat(Progress.bar(3, 2)).isEqualTo("[####################] 3/2 ready");
    assertThat(Progress.meter(-1, 10, 8)).isEqualTo("[........]");
    assertThat(Progress.meter(Long.MAX_VALUE, 3, 8)).isEqualTo("[########]");
  }
}
