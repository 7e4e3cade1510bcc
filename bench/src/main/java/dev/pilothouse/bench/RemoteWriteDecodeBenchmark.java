package dev.pilothouse.bench;

import dev.pilothouse.tsdb.remote.WriteRequest;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.xerial.snappy.Snappy;

/**
 * Decoding one remote-write request as bench/tsdb.sh sends them (2,500 series of the realistic mix,
 * 20 samples each: 50,000 samples), its series' labels already known to the decoder (the steady
 * state of a sender that keeps sending the same series). Per sample: the result / 50,000.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RemoteWriteDecodeBenchmark {
  byte[] body;
  final WriteRequest.Decoder decoder = new WriteRequest.Decoder(1 << 20);

  @Setup
  public void setup() throws Exception {
    // The first request worker 0 of `TsdbBench write` sends, as the store receives it.
    body =
        Snappy.uncompress(
            TsdbBench.encode(0, 10_000, 1, 1_700_000_000_000L, "").perWorker().get(0).get(0));
    decode(); // the decoder learns the series' labels
  }

  @Benchmark
  public double decode() {
    double[] sum = {0};
    decoder.decode(
        body,
        (labels, t, v, n) -> {
          for (int k = 0; k < n; k++) {
            sum[0] += v[k] + t[k];
          }
          return labels;
        });
    return sum[0];
  }
}
