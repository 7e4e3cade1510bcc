package dev.pilothouse.bench;

import dev.pilothouse.tsdb.remote.WriteRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
  public void setup() {
    SplittableRandom r = new SplittableRandom(1);
    double[] state = new double[10_000];
    java.util.Arrays.fill(state, 1000);
    List<WriteRequest.TimeSeries> batch = new ArrayList<>();
    for (int i = 0; i < 10_000; i += 4) {
      long[] ts = new long[20];
      double[] vs = new double[20];
      for (int s = 0; s < 20; s++) {
        ts[s] = 1_700_000_000_000L + s * 15_000L;
        vs[s] = Mix.value(i, state, r);
      }
      batch.add(new WriteRequest.TimeSeries(Mix.labels(i), ts, vs));
    }
    body = WriteRequest.encode(batch);
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
