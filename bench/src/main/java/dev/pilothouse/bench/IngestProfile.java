package dev.pilothouse.bench;

import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.xerial.snappy.Snappy;

/**
 * Replays remote-write requests through decode and append in-process (for profiling): {@code
 * IngestProfile SERIES HOURS [ROUNDS [continue]]}, each round into a fresh store in the same JVM;
 * with {@code continue}, every round into one store and decoder, each round the next HOURS of the
 * same series (the steady state of a sender that keeps writing them).
 */
public final class IngestProfile {
  private IngestProfile() {}

  public static void main(String[] args) throws Exception {
    int series = Integer.parseInt(args[0]);
    int hours = Integer.parseInt(args[1]);
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 1;
    boolean continuing = args.length > 3 && args[3].equals("continue");
    int perRound = (int) (hours * 3_600_000L / TsdbBench.STEP);
    int steps = continuing ? perRound * rounds : perRound;
    List<byte[]> requests = new ArrayList<>();
    double[] state = new double[series];
    java.util.Arrays.fill(state, 1000);
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    long start = 1_700_000_000_000L;
    for (int j = 0; j < steps; j += 20) {
      List<WriteRequest.TimeSeries> batch = new ArrayList<>();
      int n = Math.min(20, steps - j);
      for (int i = 0; i < series; i++) {
        long[] ts = new long[n];
        double[] vs = new double[n];
        for (int s = 0; s < n; s++) {
          ts[s] = start + (j + s) * TsdbBench.STEP;
          vs[s] = TsdbBench.value(i, j + s, state, r);
        }
        batch.add(new WriteRequest.TimeSeries(TsdbBench.labels(i), ts, vs));
        if (batch.size() == 2500) {
          requests.add(Snappy.compress(WriteRequest.encode(batch)));
          batch = new ArrayList<>();
        }
      }
      if (!batch.isEmpty()) {
        requests.add(Snappy.compress(WriteRequest.encode(batch)));
      }
    }
    if (continuing) {
      try (Tsdb db = Tsdb.open(Files.createTempDirectory("ip"), Tsdb.Options.defaults())) {
        WriteRequest.Decoder decoder = new WriteRequest.Decoder(1 << 20);
        int each = requests.size() / rounds;
        for (int round = 0; round < rounds; round++) {
          replay(db, decoder, requests.subList(round * each, (round + 1) * each));
        }
      }
      return;
    }
    for (int round = 0; round < rounds; round++) {
      try (Tsdb db = Tsdb.open(Files.createTempDirectory("ip"), Tsdb.Options.defaults())) {
        replay(db, new WriteRequest.Decoder(1 << 20), requests);
      }
    }
  }

  private static void replay(Tsdb db, WriteRequest.Decoder decoder, List<byte[]> requests)
      throws Exception {
    long t0 = System.nanoTime();
    long[] samples = {0};
    for (byte[] req : requests) {
      Tsdb.Appender a = db.appender();
      decoder.decode(
          Snappy.uncompress(req),
          (labels, t, v, n) -> {
            samples[0] += n;
            return a.add(labels, t, v, 0, n);
          });
      a.commit();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("samples=%d seconds=%.2f rate=%.0f%n", samples[0], secs, samples[0] / secs);
  }
}
