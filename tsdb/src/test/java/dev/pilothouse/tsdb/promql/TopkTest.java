package dev.pilothouse.tsdb.promql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class TopkTest {
  /** What topk/bottomk answered before the bounded heap: a stable sort of every sample. */
  private static List<Sample> bySorting(List<Sample> ss, int k, boolean top) {
    Comparator<Sample> byValue =
        (x, y) -> {
          if (Double.isNaN(x.v()) || Double.isNaN(y.v())) {
            return Boolean.compare(!Double.isNaN(x.v()), !Double.isNaN(y.v())) * (top ? 1 : -1);
          }
          return Double.compare(x.v(), y.v());
        };
    List<Sample> sorted = new ArrayList<>(ss);
    sorted.sort(top ? byValue.reversed() : byValue);
    return sorted.subList(0, Math.min(k, sorted.size()));
  }

  @Provide
  Arbitrary<List<Double>> values() {
    // Few distinct values, so ties are common; NaN and infinities included.
    return Arbitraries.of(1.0, 2.0, 3.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY, 0.0, 2.5)
        .list()
        .ofMaxSize(60);
  }

  @Property(tries = 500)
  void theBoundedHeap_answersAsAStableSortOfEverySample(
      @ForAll("values") List<Double> values, @ForAll @IntRange(min = 1, max = 70) int k) {
    List<Sample> ss = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      ss.add(new Sample(Labels.of("i", Integer.toString(i)), values.get(i), 0));
    }
    for (boolean top : new boolean[] {true, false}) {
      assertThat(Aggregations.topk(ss, k, top)).containsExactlyElementsOf(bySorting(ss, k, top));
    }
  }

  @Property(tries = 50)
  void zeroOrNegativeK_selectsNothing(
      @ForAll @Size(max = 5)
          List<@net.jqwik.api.constraints.DoubleRange(min = -5, max = 5) Double> values) {
    List<Sample> ss = new ArrayList<>();
    for (double v : values) {
      ss.add(new Sample(Labels.of("a", "b"), v, 0));
    }
    assertThat(Aggregations.topk(ss, 0, true)).isEmpty();
    assertThat(Aggregations.topk(ss, -1, false)).isEmpty();
  }
}
