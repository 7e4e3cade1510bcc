package dev.pilothouse.anomaly;

import java.util.Random;
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
 * Scoring one sample: the anomaly detector's per-sample cost once its histories are full (2,000
 * values per statistic), on a noisy daily series of 5-minute samples.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DetectorBenchmark {
  static final int N = 1 << 16;
  final double[] values = new double[N];
  Detector detector;
  long t = 1_700_000_000L;
  int i;

  @Setup
  public void setup() {
    Random r = new Random(1);
    for (int k = 0; k < N; k++) {
      values[k] = 100 + 30 * Math.sin(2 * Math.PI * k / 288.0) + 3 * r.nextGaussian();
    }
    detector = new Detector();
    for (int k = 0; k < 5_000; k++) {
      detector.update(t, values[k & (N - 1)]);
      t += 300;
    }
  }

  @Benchmark
  public double update() {
    t += 300;
    return detector.update(t, values[i++ & (N - 1)]);
  }
}
