package dev.pilothouse.bench;

import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.promql.Engine;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads bench data in-process and times the query suite (for profiling the engine). */
public final class QueryProfile {
  private QueryProfile() {}

  public static void main(String[] args) throws Exception {
    int series = Integer.parseInt(args[0]);
    int hours = Integer.parseInt(args[1]);
    Path dir = Files.createTempDirectory("qp");
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      long start = 1_700_000_000_000L;
      int steps = (int) (hours * 3_600_000L / TsdbBench.STEP);
      double[] state = new double[series];
      java.util.Arrays.fill(state, 1000);
      java.util.SplittableRandom r = new java.util.SplittableRandom(1);
      dev.pilothouse.tsdb.Labels[] ls = new dev.pilothouse.tsdb.Labels[series];
      for (int i = 0; i < series; i++) {
        ls[i] = TsdbBench.labels(i);
      }
      for (int j = 0; j < steps; j++) {
        Tsdb.Appender a = db.appender();
        for (int i = 0; i < series; i++) {
          a.add(ls[i], start + j * TsdbBench.STEP, TsdbBench.value(i, j, state, r));
        }
        a.commit();
      }
      if (args.length > 3 && args[3].equals("compact")) {
        db.compact(); // the first 2 h move to a persisted block, as in bench/tsdb.sh
        System.out.println("blocks: " + db.blocks());
      }
      Engine e =
          new Engine(
              (mint, maxt, ms, b) -> db.select(mint, maxt, ms, b), Engine.Options.defaults());
      long end = start + (steps - 1) * TsdbBench.STEP;
      String[] qs = {
        "sum by (job) (rate({job=~\"node|api\",__name__=~\".+_(total|count)\"}[1h]))",
        "histogram_quantile(0.9, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))",
        "topk(5, rate(node_network_receive_bytes_total[5m]))"
      };
      for (int round = 0; round < Integer.parseInt(args[2]); round++) {
        for (String q : qs) {
          long t0 = System.nanoTime();
          e.range(q, end - 3_600_000, end, 60_000);
          System.out.printf("%-100s %.1f ms%n", q, (System.nanoTime() - t0) / 1e6);
        }
      }
    }
  }
}
