package dev.pilothouse.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProblemTest {
  @Test
  void aProblemIsRenderedWithThePlaceItHas_andNoPlaceItDoesNotHave() {
    assertThat(
            new Wire.Problem("shop.yaml", 3, 7, "services.shop.replicas", "too many", "").render())
        .isEqualTo("shop.yaml:3:7: services.shop.replicas: too many");
    assertThat(new Wire.Problem("rules.yml", 0, 0, "", "cannot read it", "check it").render())
        .isEqualTo("rules.yml: cannot read it (check it)");
    // found in an API body: no file, no line (was ":0:0: flags.x: …")
    assertThat(new Wire.Problem("", 0, 0, "flags.x", "the percentages add up to 110", "").render())
        .isEqualTo("flags.x: the percentages add up to 110");
  }
}
