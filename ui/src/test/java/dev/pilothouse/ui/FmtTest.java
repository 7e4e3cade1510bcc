package dev.pilothouse.ui;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FmtTest {
  @Test
  void figuresReadShortWithUnits_andADashWhereNothingWasMeasured() {
    assertThat(Fmt.rate(12.345)).isEqualTo("12.35/s");
    assertThat(Fmt.rate(250.4)).isEqualTo("250/s");
    assertThat(Fmt.rate(null)).isEqualTo("–");
    assertThat(Fmt.percent(0.25)).isEqualTo("25 %");
    assertThat(Fmt.percent(0.00012)).isEqualTo("0.012 %");
    assertThat(Fmt.seconds(0.0123)).isEqualTo("12.3 ms");
    assertThat(Fmt.seconds(2.5)).isEqualTo("2.5 s");
    assertThat(Fmt.seconds(Double.NaN)).isEqualTo("–");
    assertThat(Fmt.bytes(48.0 * 1024 * 1024)).isEqualTo("48 MiB");
    assertThat(Fmt.bytes(512.0)).isEqualTo("512 B");
    assertThat(Fmt.time("2026-11-30T12:00:00.123456Z")).isEqualTo("2026-11-30 12:00:00Z");
    assertThat(Fmt.tone("crash-loop")).isEqualTo("bad");
    assertThat(Fmt.tone("Progressing")).isEqualTo("warn");
    assertThat(Fmt.tone("running")).isEqualTo("ok");
  }
}
