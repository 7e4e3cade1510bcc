package dev.pilothouse.tsdb.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/** Any run of samples round-trips through the block chunk codec bit for bit, and small. */
class PackedChunkTest {
  record Run(long[] t, double[] v) {}

  @Provide
  Arbitrary<Run> runs() {
    // Runs of one kind of value (as real series are) and of mixed kinds.
    Arbitrary<List<Double>> valueRuns =
        Arbitraries.oneOf(
            XorChunkTest.values().list().ofMinSize(1).ofMaxSize(PackedChunk.MAX_SAMPLES),
            Arbitraries.integers()
                .between(0, 50)
                .list()
                .ofMinSize(1)
                .ofMaxSize(PackedChunk.MAX_SAMPLES)
                .map(
                    steps -> {
                      List<Double> out = new ArrayList<>();
                      double v = 1000;
                      for (int s : steps) {
                        v += s * 4096.0;
                        out.add(v);
                      }
                      return out;
                    }));
    return Combinators.combine(
            Arbitraries.longs().between(-(1L << 50), 1L << 50),
            XorChunkTest.gaps().list().ofMaxSize(PackedChunk.MAX_SAMPLES),
            valueRuns)
        .as(
            (start, gs, vs) -> {
              long[] t = new long[vs.size()];
              double[] v = new double[vs.size()];
              long at = start;
              for (int i = 0; i < vs.size(); i++) {
                t[i] = at;
                v[i] = vs.get(i);
                at += gs.isEmpty() ? 15_000 : gs.get(i % gs.size());
              }
              return new Run(t, v);
            });
  }

  @Property(tries = 1000)
  void anyRunRoundTrips(@ForAll("runs") Run run) {
    byte[] c = PackedChunk.encode(run.t(), run.v(), 0, run.t().length);
    long[] t = new long[run.t().length + 2];
    double[] v = new double[t.length];
    PackedChunk.decode(c, run.t()[0], run.t().length, t, v, 1);
    for (int i = 0; i < run.t().length; i++) {
      assertThat(t[i + 1]).as("timestamp %d", i).isEqualTo(run.t()[i]);
      assertThat(Double.doubleToRawLongBits(v[i + 1]))
          .as("bits of value %d (%s)", i, run.v()[i])
          .isEqualTo(Double.doubleToRawLongBits(run.v()[i]));
    }
  }

  @Test
  void decimals_areFoundExactly_andOtherValuesAreNot() {
    assertThat(PackedChunk.decimalDigits(new double[] {1, 2.5, 0.25, 12.125}, 0, 4)).isEqualTo(3);
    assertThat(PackedChunk.decimalDigits(new double[] {3, 7, 1e15}, 0, 3)).isZero();
    assertThat(PackedChunk.decimalDigits(new double[] {0.1 + 0.2}, 0, 1))
        .as("0.30000000000000004 has 17 digits")
        .isEqualTo(-1);
    assertThat(PackedChunk.decimalDigits(new double[] {-0.0}, 0, 1)).isEqualTo(-1);
    assertThat(PackedChunk.decimalDigits(new double[] {4.5e15 + 1, 0.5}, 0, 2))
        .as("4500000000000001 is exact with no digits but not scaled by 10")
        .isEqualTo(-1);
    assertThat(PackedChunk.decimalDigits(new double[] {Double.NaN}, 0, 1)).isEqualTo(-1);
  }

  @Test
  void regularScrapesOfCounters_costAboutTheEntropyOfTheirIncrements() {
    // 480 samples every 15 s of a counter growing by 0..14 (log2 15 = 3.9 bits of information
    // a sample, packed in 4) and of a gauge moving in 4 KiB pages by -10..10 (4.4 bits, in 5);
    // timestamps at a constant interval cost nothing a sample.
    SplittableRandom r = new SplittableRandom(7);
    int n = 480;
    long[] t = new long[n];
    double[] counter = new double[n];
    double[] gauge = new double[n];
    double c = 1e6;
    double g = 1e9;
    for (int i = 0; i < n; i++) {
      t[i] = 1_700_000_000_000L + i * 15_000L;
      counter[i] = c += r.nextInt(15);
      gauge[i] = g += (r.nextInt(21) - 10) * 4096.0;
    }
    assertThat(PackedChunk.encode(t, counter, 0, n).length * 8.0 / n).isLessThan(4.2);
    assertThat(PackedChunk.encode(t, gauge, 0, n).length * 8.0 / n).isLessThan(5.3);
    XorChunk head = new XorChunk();
    for (int i = 0; i < n; i++) {
      head.append(t[i], counter[i]);
    }
    assertThat(PackedChunk.encode(t, counter, 0, n).length)
        .as("smaller than the head's encoding of the same samples")
        .isLessThan(head.bytes().length * 3 / 4);
  }

  @Test
  void floatsWithoutAShortDecimalForm_fallBackToXor_andStillRoundTrip() {
    long[] t = {0, 1000, 2000};
    double[] v = {Math.PI, Math.E, Double.longBitsToDouble(0x7ff0000000000002L)};
    byte[] c = PackedChunk.encode(t, v, 0, 3);
    assertThat(c[0] & 0xFF).isEqualTo(0xFF);
    long[] tt = new long[3];
    double[] vv = new double[3];
    PackedChunk.decode(c, 0, 3, tt, vv, 0);
    assertThat(tt).containsExactly(t);
    assertThat(Double.doubleToRawLongBits(vv[2])).isEqualTo(0x7ff0000000000002L);
  }
}
