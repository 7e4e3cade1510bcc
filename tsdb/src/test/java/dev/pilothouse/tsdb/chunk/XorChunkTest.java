package dev.pilothouse.tsdb.chunk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Any series round-trips through the chunk codec bit for bit. */
class XorChunkTest {
  record Sample(long t, double v) {}

  /** Gaps between timestamps: regular scrapes, jitter, bursts and long silences. */
  static Arbitrary<Long> gaps() {
    return Arbitraries.oneOf(
        Arbitraries.just(15_000L),
        Arbitraries.longs().between(0, 100),
        Arbitraries.longs().between(0, 1L << 40),
        Arbitraries.longs().between(14_000, 16_000));
  }

  /** Values: any double, counters, decimals, large integers and the special ones. */
  static Arbitrary<Double> values() {
    return Arbitraries.oneOf(
        Arbitraries.doubles(),
        Arbitraries.doubles().between(-1e6, 1e6),
        Arbitraries.integers().between(0, 1000).map(i -> (double) i),
        Arbitraries.integers().between(-100_000, 100_000).map(i -> i / 100.0),
        Arbitraries.longs().between(-(1L << 53) + 1, (1L << 53) - 1).map(l -> (double) l),
        Arbitraries.of(
            Double.NaN,
            Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY,
            -0.0,
            0.0,
            Double.MIN_VALUE,
            Double.MAX_VALUE,
            0.1,
            1e-15,
            Double.longBitsToDouble(0x7ff0000000000002L)));
  }

  @Provide
  Arbitrary<List<Sample>> series() {
    return Combinators.combine(
            Arbitraries.longs().between(-(1L << 50), 1L << 50),
            gaps().list().ofMaxSize(300),
            values().list().ofMaxSize(301))
        .as(
            (start, gs, vs) -> {
              List<Sample> out = new ArrayList<>();
              long t = start;
              for (int i = 0; i < vs.size(); i++) {
                out.add(new Sample(t, vs.get(i)));
                if (i < gs.size()) {
                  t += gs.get(i);
                }
              }
              return out;
            });
  }

  @Property(tries = 500)
  void anySeriesRoundTrips(@ForAll("series") List<Sample> samples) {
    XorChunk c = new XorChunk();
    samples.forEach(s -> c.append(s.t(), s.v()));
    assertThat(read(c.reader())).isEqualTo(bits(samples));
    XorChunk.Reader fromBytes = new XorChunk.Reader(c.bytes(), c.bitLength(), c.count());
    assertThat(read(fromBytes)).isEqualTo(bits(samples));
  }

  @Property(tries = 200)
  void aChunkReopenedFromItsBytes_takesMoreAppends(
      @ForAll("series") List<Sample> samples, @ForAll @IntRange(min = 0, max = 300) int cut) {
    int k = Math.min(cut, samples.size());
    XorChunk c = new XorChunk();
    samples.subList(0, k).forEach(s -> c.append(s.t(), s.v()));
    XorChunk reopened = XorChunk.fromBytes(c.bytes(), c.bitLength(), c.count());
    samples.subList(k, samples.size()).forEach(s -> reopened.append(s.t(), s.v()));
    assertThat(read(reopened.reader())).isEqualTo(bits(samples));
  }

  @Test
  void regularScrapes_ofASlowCounter_takeAboutOneByteASample() {
    XorChunk c = new XorChunk();
    double v = 1000;
    for (int i = 0; i < 120; i++) {
      c.append(1_700_000_000_000L + i * 15_000L, v);
      v += (i % 3 == 0) ? 1 : 0;
    }
    assertThat(c.bytes().length / 120.0).isLessThan(1.0);
  }

  @Test
  void integerCounters_encodeTheirDeltaOfDelta_notAnXorOfDoubles() {
    XorChunk steady = new XorChunk();
    XorChunk xorOnly = new XorChunk();
    for (int i = 0; i < 120; i++) {
      steady.append(1_700_000_000_000L + i * 15_000L, 1_000_000 + i * 10.0);
      xorOnly.append(1_700_000_000_000L + i * 15_000L, 1_000_000.5 + i * 10.0);
    }
    // A steady rate costs 1 bit of timestamp and 3 bits of value per sample (0.5 bytes) after
    // the chunk's first two samples (about 20 bytes: the first in full, then the first deltas).
    assertThat(steady.bytes().length).isLessThanOrEqualTo(20 + 118 / 2);
    assertThat(xorOnly.bytes().length)
        .as("fractional values use XOR")
        .isGreaterThan(steady.bytes().length * 2);
  }

  static List<String> read(XorChunk.Reader r) {
    List<String> out = new ArrayList<>();
    while (r.next()) {
      out.add(r.t() + ":" + Long.toHexString(Double.doubleToRawLongBits(r.v())));
    }
    return out;
  }

  static List<String> bits(List<Sample> s) {
    return s.stream()
        .map(x -> x.t() + ":" + Long.toHexString(Double.doubleToRawLongBits(x.v())))
        .toList();
  }
}
