package dev.pilothouse.bench;

import dev.pilothouse.tsdb.Spares;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.remote.WriteRequest;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
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
      Path dir = Files.createTempDirectory("ip");
      try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
        WriteRequest.Decoder decoder = new WriteRequest.Decoder(1 << 20);
        int each = requests.size() / rounds;
        for (int round = 0; round < rounds; round++) {
          replay(db, decoder, requests.subList(round * each, (round + 1) * each));
        }
      } finally {
        delete(dir);
      }
      return;
    }
    for (int round = 0; round < rounds; round++) {
      Path dir = Files.createTempDirectory("ip");
      try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
        replay(db, new WriteRequest.Decoder(1 << 20), requests);
      } finally {
        delete(dir);
      }
    }
  }

  private static void replay(Tsdb db, WriteRequest.Decoder decoder, List<byte[]> requests)
      throws Exception {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long allocated0 = threads.getCurrentThreadAllocatedBytes();
    long gc0 = gcMillis();
    long t0 = System.nanoTime();
    long[] samples = {0};
    Spares<byte[]> bodies = new Spares<>(2);
    for (byte[] req : requests) {
      // As the daemon's remote-write handler: into a buffer used again, an appender sized for it.
      int size = Snappy.uncompressedLength(req);
      byte[] body = bodies.take();
      if (body == null || body.length < size) {
        body = new byte[size];
      }
      int length = Snappy.uncompress(req, 0, req.length, body, 0);
      Tsdb.Appender a = db.appender(length / 16);
      decoder.decode(
          body,
          length,
          (labels, t, v, n) -> {
            samples[0] += n;
            return a.add(labels, t, v, 0, n);
          },
          null,
          Integer.MAX_VALUE);
      bodies.give(body);
      a.commit();
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    // Bytes this thread allocated per sample: steady where the rate is noisy (it sets how often
    // the young generation is collected).
    double perSample =
        (threads.getCurrentThreadAllocatedBytes() - allocated0) / (double) samples[0];
    System.out.printf(
        "samples=%d seconds=%.2f allocated_per_sample=%.1f gc_ms=%d rate=%.0f%n",
        samples[0], secs, perSample, gcMillis() - gc0, samples[0] / secs);
  }

  /** Deletes a store's directory (a run's stores take gigabytes). */
  private static void delete(Path dir) throws java.io.IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Milliseconds the JVM's collectors have taken so far. */
  private static long gcMillis() {
    long ms = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms;
  }
}
