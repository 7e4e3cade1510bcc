package dev.pilothouse.tsdb;

import java.nio.file.Path;

/**
 * A process that ingests until killed (for the crash test): 10 series, one sample each per step,
 * and after every commit of 100 steps prints "acked STEP MILLIS" (the wall time of the commit).
 */
public final class IngestMain {
  private IngestMain() {}

  public static void main(String[] args) {
    Tsdb db = Tsdb.open(Path.of(args[0]), Tsdb.Options.defaults());
    Labels[] ls = new Labels[10];
    for (int s = 0; s < ls.length; s++) {
      ls[s] = Labels.of("__name__", "crash_test", "s", Integer.toString(s));
    }
    for (long step = 0; ; step++) {
      Tsdb.Appender a = db.appender();
      for (Labels l : ls) {
        a.add(l, step, step);
      }
      a.commit();
      if (step % 100 == 99) {
        System.out.println("acked " + step + " " + System.currentTimeMillis());
        System.out.flush();
      }
    }
  }
}
