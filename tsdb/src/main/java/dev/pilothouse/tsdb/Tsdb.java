package dev.pilothouse.tsdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The embedded time-series store: an in-memory head of Gorilla-compressed chunks with a postings
 * index, made durable by a write-ahead log that is synced every second. Open it on a directory;
 * append samples through an {@link Appender}; read with {@link #select}.
 */
public final class Tsdb implements AutoCloseable {

  /**
   * Settings.
   *
   * @param maxSeriesPerMetric new series of a metric beyond this are refused (cardinality limit)
   * @param replayThreads segments decoded in parallel on open
   */
  public record Options(int maxSeriesPerMetric, int replayThreads) {
    public static Options defaults() {
      return new Options(100_000, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }
  }

  private final Head head;
  private final Wal wal;
  private final java.util.List<java.util.function.Consumer<Batch>> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Samples just committed (the first n entries), for remote write. */
  public record Batch(Labels[] labels, long[] t, double[] v, int n) {}

  /** Calls listener with every committed batch (on the committing thread; keep it quick). */
  public void onCommit(java.util.function.Consumer<Batch> listener) {
    listeners.add(listener);
  }

  private final ScheduledExecutorService flusher;
  private final long replayMillis;

  private Tsdb(Head head, Wal wal, long replayMillis) {
    this.head = head;
    this.wal = wal;
    this.replayMillis = replayMillis;
    this.flusher =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("tsdb-wal-sync").daemon().unstarted(r));
    flusher.scheduleWithFixedDelay(this::sync, 1, 1, TimeUnit.SECONDS);
  }

  /** Opens (creating if needed) the store in dir, replaying its write-ahead log. */
  public static Tsdb open(Path dir, Options options) {
    Objects.requireNonNull(dir, "dir");
    long t0 = System.nanoTime();
    Head head = new Head(options.maxSeriesPerMetric());
    Path walDir = dir.resolve("wal");
    try {
      for (Wal.Record r : Wal.replay(walDir, options.replayThreads())) {
        if (r instanceof Wal.SeriesRecord s) {
          head.getOrCreate(s.labels(), s.id(), false, created -> {});
        } else if (r instanceof Wal.SamplesRecord s) {
          for (int i = 0; i < s.ids().length; i++) {
            MemSeries m = head.byId(s.ids()[i]);
            if (m != null) {
              try {
                m.append(s.ts()[i], s.vs()[i]);
              } catch (TsdbException e) {
                // a sample the head refused when it was first written: refuse it again
              }
            }
          }
        }
      }
      Wal wal = Wal.open(walDir);
      return new Tsdb(head, wal, (System.nanoTime() - t0) / 1_000_000);
    } catch (IOException e) {
      throw new UncheckedIOException("opening the time-series store in " + dir + ": " + e, e);
    }
  }

  /** How long opening took, mostly WAL replay, in milliseconds. */
  public long replayMillis() {
    return replayMillis;
  }

  /** A new batch of samples; nothing is visible or logged until {@link Appender#commit()}. */
  public Appender appender() {
    return new Appender();
  }

  /** Collects samples and writes them to the WAL and the head in one commit. */
  public final class Appender {
    private int[] ids = new int[64];
    private long[] ts = new long[64];
    private double[] vs = new double[64];
    private MemSeries[] series = new MemSeries[64];
    private int n;

    private Appender() {}

    /** Adds a sample; throws (naming the series) when its metric is over the series limit. */
    public Appender add(Labels l, long t, double v) {
      MemSeries s = head.get(l);
      if (s == null) {
        s = head.getOrCreate(l, -1, true, created -> wal.logSeries(created.id, created.labels));
      }
      if (n == ids.length) {
        ids = java.util.Arrays.copyOf(ids, n * 2);
        ts = java.util.Arrays.copyOf(ts, n * 2);
        vs = java.util.Arrays.copyOf(vs, n * 2);
        series = java.util.Arrays.copyOf(series, n * 2);
      }
      ids[n] = s.id;
      ts[n] = t;
      vs[n] = v;
      series[n] = s;
      n++;
      return this;
    }

    /**
     * Logs and applies the batch. Samples out of order or duplicated are dropped and counted in the
     * result; the rest are stored.
     */
    public CommitResult commit() {
      if (n == 0) {
        return new CommitResult(0, 0, "");
      }
      wal.logSamples(ids, ts, vs, n);
      int ok = 0;
      int rejected = 0;
      String firstError = "";
      Labels[] done = listeners.isEmpty() ? null : new Labels[n];
      long[] doneT = done == null ? null : new long[n];
      double[] doneV = done == null ? null : new double[n];
      for (int i = 0; i < n; i++) {
        try {
          series[i].append(ts[i], vs[i]);
          if (done != null) {
            done[ok] = series[i].labels;
            doneT[ok] = ts[i];
            doneV[ok] = vs[i];
          }
          ok++;
        } catch (TsdbException e) {
          rejected++;
          if (firstError.isEmpty()) {
            firstError = e.getMessage();
          }
        }
      }
      if (done != null && ok > 0) {
        Batch b = new Batch(done, doneT, doneV, ok);
        for (var l : listeners) {
          l.accept(b);
        }
      }
      n = 0;
      return new CommitResult(ok, rejected, firstError);
    }
  }

  /** What a commit stored, and why samples were refused. */
  public record CommitResult(int appended, int rejected, String firstError) {}

  /** The samples in [mint, maxt] of every series matching all matchers. */
  public List<Series> select(long mint, long maxt, List<Matcher> matchers, QueryBudget budget) {
    List<Series> out = new ArrayList<>();
    for (MemSeries s : head.select(matchers)) {
      Series r = s.read(mint, maxt, budget);
      out.add(r);
    }
    return out;
  }

  /** The labels of every series matching all matchers (with samples or not). */
  public List<Labels> series(List<Matcher> matchers) {
    return head.select(matchers).stream().map(s -> s.labels).toList();
  }

  public List<String> labelNames() {
    return head.labelNames();
  }

  public List<String> labelValues(String name) {
    return head.labelValues(name);
  }

  /** Counts for status and benchmarks. */
  public record Stats(int series, long samples, long chunkBytes) {}

  public Stats stats() {
    long samples = 0;
    long bytes = 0;
    for (MemSeries s : head.all()) {
      samples += s.samples();
      bytes += s.chunkBytes();
    }
    return new Stats(head.seriesCount(), samples, bytes);
  }

  /** Writes the WAL buffer out and syncs it (also done every second). */
  public void sync() {
    try {
      wal.flush(true);
    } catch (UncheckedIOException e) {
      // retried at the next tick; appends keep going to the buffer
    }
  }

  @Override
  public void close() {
    flusher.shutdownNow();
    wal.close();
  }
}
