package dev.pilothouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The cost report's table: lines to the cent that add up exactly to the total line. */
class CostCommandsTest {
  @Test
  void centsAddUpToTheRoundedTotal() {
    List<BigDecimal> v =
        List.of(new BigDecimal("0.333"), new BigDecimal("0.333"), new BigDecimal("0.334"));
    assertThat(CostCommands.cents(v, new BigDecimal("1.000")))
        .containsExactly(new BigDecimal("0.33"), new BigDecimal("0.33"), new BigDecimal("0.34"));
    // Rounding each line alone would give 0.01 + 0.01 + 0.01 = 0.03 for a total of 0.02.
    List<BigDecimal> thirds =
        List.of(new BigDecimal("0.0066"), new BigDecimal("0.0066"), new BigDecimal("0.0068"));
    assertThat(sum(CostCommands.cents(thirds, new BigDecimal("0.0200"))))
        .isEqualByComparingTo("0.02");
  }

  @Test
  void anyLinesWithCreditsAddUpToTheirTotalToTheCent() {
    SplittableRandom r = new SplittableRandom(17);
    for (int run = 0; run < 2000; run++) {
      List<BigDecimal> v = new ArrayList<>();
      int n = 1 + r.nextInt(30);
      for (int i = 0; i < n; i++) {
        v.add(BigDecimal.valueOf(r.nextLong(-5_000_000, 50_000_000), 11));
      }
      BigDecimal total = sum(v);
      List<BigDecimal> c = CostCommands.cents(v, total);
      assertThat(sum(c))
          .as("%s", v)
          .isEqualByComparingTo(total.setScale(2, java.math.RoundingMode.HALF_EVEN));
      for (int i = 0; i < n; i++) { // each line moves by less than a cent
        assertThat(c.get(i).subtract(v.get(i)).abs()).isLessThan(new BigDecimal("0.01"));
      }
    }
  }

  static BigDecimal sum(List<BigDecimal> v) {
    return v.stream().reduce(BigDecimal.ZERO, BigDecimal::add);
  }
}
