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
   * @param retentionMs blocks entirely older than this (behind the newest sample) are deleted
   * @param retentionBytes blocks are deleted, oldest first, while they take more (0: no limit)
   */
  /**
   * How the store runs.
   *
   * @param background whether its own thread syncs the WAL every second and compacts every 30
   *     seconds; without it, the caller decides when ({@link #sync()}, {@link #compact()}), as
   *     tests do to run compaction at chosen moments rather than racing a timer
   */
  public record Options(
      int maxSeriesPerMetric,
      int replayThreads,
      long retentionMs,
      long retentionBytes,
      boolean background) {
    /** Options keeping data for 15 days, without a size limit. */
    public Options(int maxSeriesPerMetric, int replayThreads) {
      this(maxSeriesPerMetric, replayThreads, 15L * 86_400_000, 0);
    }

    /** Options with the background thread. */
    public Options(
        int maxSeriesPerMetric, int replayThreads, long retentionMs, long retentionBytes) {
      this(maxSeriesPerMetric, replayThreads, retentionMs, retentionBytes, true);
    }

    public static Options defaults() {
      return new Options(100_000, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }

    /** The same, syncing and compacting only when the caller says so. */
    public Options withoutBackground() {
      return new Options(maxSeriesPerMetric, replayThreads, retentionMs, retentionBytes, false);
    }
  }

  /** Head data is cut into a block once it spans this much more than a block. */
  static final long BLOCK_MS = MemSeries.BLOCK_RANGE_MS;

  private final Path dir;
  private final Options options;
  private final java.util.List<Block> blocks = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.concurrent.locks.ReentrantReadWriteLock commitLock =
      new java.util.concurrent.locks.ReentrantReadWriteLock();
  private volatile long maxTime = Long.MIN_VALUE;

  /** Samples before this belong to persisted blocks and are refused (out of bounds). */
  private volatile long minValidTime = Long.MIN_VALUE;

  /** Samples after clock + this are refused: one would move the head and compaction ahead. */
  private volatile long futureToleranceMs = 600_000;

  private volatile java.time.InstantSource clock = java.time.InstantSource.system();

  /** Samples refused per reason (see {@link #refused()}). */
  private final java.util.concurrent.atomic.AtomicLongArray refused =
      new java.util.concurrent.atomic.AtomicLongArray(Refusal.values().length);

  /** Why a sample was refused. */
  public enum Refusal {
    /** Older than the persisted blocks. */
    OUT_OF_BOUNDS("out_of_bounds"),
    /** Further ahead of the clock than the future tolerance. */
    TOO_FAR_IN_FUTURE("too_far_in_future"),
    /** Not after the series' last sample. */
    OUT_OF_ORDER("out_of_order");

    private final String label;

    Refusal(String label) {
      this.label = label;
    }

    /** The value of the reason label in metrics. */
    public String label() {
      return label;
    }
  }

  /** Samples refused since the store opened, per reason. */
  public java.util.Map<Refusal, Long> refused() {
    java.util.Map<Refusal, Long> m = new java.util.EnumMap<>(Refusal.class);
    for (Refusal r : Refusal.values()) {
      m.put(r, refused.get(r.ordinal()));
    }
    return m;
  }

  /**
   * Refuses samples stamped more than toleranceMs after clock's time (default: the system clock and
   * 10 minutes, Prometheus's tolerance for remote-written samples).
   */
  public void limitFuture(java.time.InstantSource clock, long toleranceMs) {
    if (toleranceMs < 0) {
      throw new IllegalArgumentException(
          "future tolerance must be >= 0 ms, but was " + toleranceMs);
    }
    this.clock = Objects.requireNonNull(clock, "clock");
    this.futureToleranceMs = toleranceMs;
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
  private volatile OpenReport openReport = new OpenReport(List.of(), 0, 0, List.of());

  private Tsdb(
      Path dir, Options options, Head head, Wal wal, List<Block> loaded, long replayMillis) {
    this.dir = dir;
    this.options = options;
    this.head = head;
    this.wal = wal;
    this.replayMillis = replayMillis;
    this.blocks.addAll(loaded);
    for (Block b : loaded) {
      minValidTime = Math.max(minValidTime, b.maxT + 1);
    }
    for (MemSeries s : head.all()) {
      maxTime = Math.max(maxTime, s.lastTime());
    }
    for (Block b : loaded) {
      maxTime = Math.max(maxTime, b.maxT);
    }
    this.flusher =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("tsdb-wal-sync").daemon().unstarted(r));
    if (options.background()) {
      flusher.scheduleWithFixedDelay(this::sync, 1, 1, TimeUnit.SECONDS);
      flusher.scheduleWithFixedDelay(this::compactQuietly, 30, 30, TimeUnit.SECONDS);
    }
  }

  /** Opens (creating if needed) the store in dir, replaying its write-ahead log. */
  public static Tsdb open(Path dir, Options options) {
    Objects.requireNonNull(dir, "dir");
    long t0 = System.nanoTime();
    Head head = new Head(options.maxSeriesPerMetric(), new HeadChunks(dir.resolve("chunks_head")));
    Path walDir = dir.resolve("wal");
    try {
      List<Quarantined> quarantined = new ArrayList<>();
      List<Block> loaded = openBlocks(dir, quarantined);
      long persisted = loaded.stream().mapToLong(b -> b.maxT).max().orElse(Long.MIN_VALUE);
      // A series dropped from the head and written again got a new id: both ids name it.
      java.util.Map<Integer, MemSeries> aliases = new java.util.HashMap<>();
      Wal.Damage damage =
          Wal.replay(
              walDir,
              options.replayThreads(),
              records -> {
                // Series records come before the samples that name them, in the same segment or
                // an earlier one.
                List<Wal.SamplesRecord> samples = new ArrayList<>();
                for (Wal.Record r : records) {
                  if (r instanceof Wal.SeriesRecord s) {
                    MemSeries m = head.getOrCreate(s.labels(), s.id(), false, created -> {});
                    if (m.id != s.id()) {
                      aliases.put(s.id(), m);
                    }
                  } else if (r instanceof Wal.SamplesRecord s) {
                    samples.add(s);
                  }
                }
                replaySamples(head, aliases, samples, persisted, options.replayThreads());
              });
      Wal wal = Wal.open(walDir);
      Tsdb db = new Tsdb(dir, options, head, wal, loaded, (System.nanoTime() - t0) / 1_000_000);
      db.openReport =
          new OpenReport(
              List.copyOf(quarantined), damage.records(), damage.bytes(), damage.segments());
      return db;
    } catch (IOException e) {
      throw new UncheckedIOException("opening the time-series store in " + dir + ": " + e, e);
    }
  }

  /**
   * Applies the logged samples to the head, in parallel: each thread takes the series whose id
   * falls to it and applies their samples in log order (series are independent).
   */
  private static void replaySamples(
      Head head,
      java.util.Map<Integer, MemSeries> aliases,
      List<Wal.SamplesRecord> samples,
      long persisted,
      int threads)
      throws IOException {
    List<MemSeries> all = head.all();
    int maxId = 0;
    for (MemSeries s : all) {
      maxId = Math.max(maxId, s.id);
    }
    for (int id : aliases.keySet()) {
      maxId = Math.max(maxId, id);
    }
    MemSeries[] byId = new MemSeries[maxId + 1];
    for (MemSeries s : all) {
      byId[s.id] = s;
    }
    aliases.forEach((id, s) -> byId[id] = s);
    int n = Math.max(1, threads);
    java.util.concurrent.ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        final int part = k;
        parts.add(
            pool.submit(
                () -> {
                  for (Wal.SamplesRecord s : samples) {
                    int[] ids = s.ids();
                    for (int i = 0; i < ids.length; i++) {
                      int id = ids[i];
                      // By the series' own id: two ids of one series go to the same thread.
                      if (id >= byId.length || byId[id] == null || byId[id].id % n != part) {
                        continue;
                      }
                      if (s.ts()[i] > persisted) {
                        try {
                          byId[id].append(s.ts()[i], s.vs()[i]);
                        } catch (TsdbException e) {
                          // refused when first written: refused again
                        }
                      }
                    }
                  }
                }));
      }
      for (java.util.concurrent.Future<?> f : parts) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while replaying the WAL", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IOException("replaying the WAL: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdown();
    }
  }

  /** How long opening took, mostly WAL replay, in milliseconds. */
  public long replayMillis() {
    return replayMillis;
  }

  /** A new batch of samples; nothing is visible or logged until {@link Appender#commit()}. */
  public Appender appender() {
    return new Appender(64);
  }

  /** A new batch with room for about this many samples (it grows beyond when needed). */
  public Appender appender(int expectedSamples) {
    return new Appender(Math.max(16, expectedSamples));
  }

  /** An appender's arrays, kept after its commit for the next appender. */
  private record Buffers(int[] ids, long[] ts, double[] vs, MemSeries[] series) {}

  /**
   * Arrays of committed appenders (at most SPARE_SETS sets of at most SPARE_ENTRIES each): a remote
   * write's appender takes 24 bytes a sample, about a third of what ingestion allocated.
   */
  private final Spares<Buffers> spare = new Spares<>(SPARE_SETS);

  private static final int SPARE_SETS = 4;
  private static final int SPARE_ENTRIES = 1 << 18;

  /** Collects samples and writes them to the WAL and the head in one commit. */
  public final class Appender {
    private int[] ids;
    private long[] ts;
    private double[] vs;
    private MemSeries[] series;
    private int n;
    private final int capacity;

    private Appender(int capacity) {
      this.capacity = capacity;
    }

    /** Takes arrays for at least k samples: spare ones when large enough, new ones otherwise. */
    private void take(int k) {
      Buffers b = k <= SPARE_ENTRIES ? spare.take() : null;
      if (b != null && b.ids().length >= k) {
        ids = b.ids();
        ts = b.ts();
        vs = b.vs();
        series = b.series();
        return;
      }
      ids = new int[k];
      ts = new long[k];
      vs = new double[k];
      series = new MemSeries[k];
    }

    /** Hands the arrays back for the next appender (the series of the first used let go of). */
    private void release(int used) {
      if (ids != null && ids.length <= SPARE_ENTRIES) {
        java.util.Arrays.fill(series, 0, used, null);
        spare.give(new Buffers(ids, ts, vs, series));
      }
      ids = null;
      ts = null;
      vs = null;
      series = null;
    }

    /** Adds a sample; throws (naming the series) when its metric is over the series limit. */
    public Appender add(Labels l, long t, double v) {
      MemSeries s = series(l);
      room(1);
      ids[n] = s.id;
      ts[n] = t;
      vs[n] = v;
      series[n] = s;
      n++;
      return this;
    }

    /**
     * Adds samples [from, to) of one series (one lookup for them all); returns the labels the store
     * keeps for the series, which callers may reuse to make later lookups cheaper.
     */
    public Labels add(Labels l, long[] t, double[] v, int from, int to) {
      MemSeries s = series(l);
      int k = to - from;
      room(k);
      java.util.Arrays.fill(ids, n, n + k, s.id);
      java.util.Arrays.fill(series, n, n + k, s);
      System.arraycopy(t, from, ts, n, k);
      System.arraycopy(v, from, vs, n, k);
      n += k;
      return s.labels;
    }

    private MemSeries series(Labels l) {
      MemSeries s = head.get(l);
      if (s == null) {
        s = head.getOrCreate(l, -1, true, created -> wal.logSeries(created.id, created.labels));
      }
      return s;
    }

    private void room(int k) {
      if (ids == null) {
        take(Math.max(capacity, k));
      }
      if (n + k > ids.length) {
        int size = Math.max(n + k, ids.length * 2);
        ids = java.util.Arrays.copyOf(ids, size);
        ts = java.util.Arrays.copyOf(ts, size);
        vs = java.util.Arrays.copyOf(vs, size);
        series = java.util.Arrays.copyOf(series, size);
      }
    }

    /**
     * Logs and applies the batch. Samples out of order or duplicated are dropped and counted in the
     * result; the rest are stored.
     */
    public CommitResult commit() {
      if (n == 0) {
        return new CommitResult(0, 0, "");
      }
      int used = n;
      commitLock.readLock().lock();
      try {
        return commitLocked();
      } finally {
        commitLock.readLock().unlock();
        n = 0;
        release(used);
      }
    }

    private CommitResult commitLocked() {
      // A series dropped from the head since add() found it (compaction holds the commit lock
      // exclusively while it drops): look it up again, before the samples are logged under its id.
      java.util.Map<MemSeries, MemSeries> renewed = null;
      for (int i = 0; i < n; i++) {
        if (series[i].retired()) {
          if (renewed == null) {
            renewed = new java.util.IdentityHashMap<>();
          }
          MemSeries again = renewed.get(series[i]);
          if (again == null) {
            try {
              again = series(series[i].labels);
            } catch (TsdbException e) {
              again = series[i]; // over the series limit now: append refuses it below
            }
            renewed.put(series[i], again);
          }
          series[i] = again;
          ids[i] = again.id;
        }
      }
      int rejected = 0;
      String firstError = "";
      // Refused before logging: a refused sample must not come back when the WAL is replayed.
      long oldest = minValidTime;
      long latest = saturatedAdd(clock.millis(), futureToleranceMs);
      int kept = 0;
      for (int i = 0; i < n; i++) {
        Refusal why =
            ts[i] < oldest
                ? Refusal.OUT_OF_BOUNDS
                : ts[i] > latest ? Refusal.TOO_FAR_IN_FUTURE : null;
        if (why != null) {
          refused.incrementAndGet(why.ordinal());
          rejected++;
          if (firstError.isEmpty()) {
            firstError =
                why == Refusal.OUT_OF_BOUNDS
                    ? "out of bounds: sample for "
                        + series[i].labels
                        + " at "
                        + ts[i]
                        + " is older than the persisted blocks (they end at "
                        + (oldest - 1)
                        + ")"
                    : "too far in the future: sample for "
                        + series[i].labels
                        + " at "
                        + ts[i]
                        + " is more than "
                        + futureToleranceMs / 1000
                        + "s ahead of the daemon's clock; check the sender's clock (metrics.futureTolerance)";
          }
          continue;
        }
        ids[kept] = ids[i];
        ts[kept] = ts[i];
        vs[kept] = vs[i];
        series[kept] = series[i];
        kept++;
      }
      n = kept;
      if (n == 0) {
        return new CommitResult(0, rejected, firstError);
      }
      wal.logSamples(ids, ts, vs, n);
      long newest = maxTime;
      int ok = 0;
      Labels[] done = listeners.isEmpty() ? null : new Labels[n];
      long[] doneT = done == null ? null : new long[n];
      double[] doneV = done == null ? null : new double[n];
      for (int i = 0; i < n; i++) {
        try {
          series[i].append(ts[i], vs[i]);
          newest = Math.max(newest, ts[i]);
          if (done != null) {
            done[ok] = series[i].labels;
            doneT[ok] = ts[i];
            doneV[ok] = vs[i];
          }
          ok++;
        } catch (TsdbException e) {
          refused.incrementAndGet(Refusal.OUT_OF_ORDER.ordinal());
          rejected++;
          if (firstError.isEmpty()) {
            firstError = e.getMessage();
          }
        }
      }
      if (newest > maxTime) {
        maxTime = newest;
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

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  /** What a commit stored, and why samples were refused. */
  public record CommitResult(int appended, int rejected, String firstError) {}

  /**
   * The samples in [mint, maxt] of every series matching all matchers. The head is read before the
   * blocks: compaction makes a new block readable before its chunks leave the head, so in this
   * order a query running meanwhile sees every sample at least once (merge keeps one of each
   * timestamp) and never misses the range being persisted.
   */
  public List<Series> select(long mint, long maxt, List<Matcher> matchers, QueryBudget budget) {
    java.util.Map<Labels, List<Series>> parts = new java.util.LinkedHashMap<>();
    for (MemSeries s : head.select(matchers)) {
      parts.computeIfAbsent(s.labels, k -> new ArrayList<>()).add(s.read(mint, maxt, budget));
    }
    for (Block b : blocks) {
      if (b.maxT < mint || b.minT > maxt) {
        continue;
      }
      for (Block.Entry e : b.select(matchers)) {
        Series s = decode(b, e, mint, maxt, budget);
        if (s.size() > 0) {
          parts.computeIfAbsent(e.labels(), k -> new ArrayList<>()).add(s);
        }
      }
    }
    List<Series> out = new ArrayList<>(parts.size());
    parts.forEach(
        (l, ps) -> {
          if (ps.size() > 1) {
            ps.removeIf(x -> x.size() == 0); // an empty head read beside block data
          }
          out.add(ps.size() == 1 ? ps.get(0) : merge(l, ps));
        });
    return out;
  }

  private static Series decode(Block b, Block.Entry e, long mint, long maxt, QueryBudget budget) {
    int n = 0;
    for (Block.ChunkRef r : e.chunks()) {
      if (r.maxT() >= mint && r.minT() <= maxt) {
        n += r.count();
      }
    }
    budget.charge(n); // before allocating: a query over its budget never takes the memory
    long[] ts = new long[n];
    double[] vs = new double[n];
    int k = 0;
    for (Block.ChunkRef r : e.chunks()) {
      if (r.maxT() < mint || r.minT() > maxt) {
        continue;
      }
      b.chunk(r).decode(ts, vs, k);
      // Keep the samples in [mint, maxt] of those just decoded (the chunk may stick out).
      int end = k + r.count();
      int w = k;
      for (int i = k; i < end; i++) {
        if (ts[i] >= mint && ts[i] <= maxt) {
          ts[w] = ts[i];
          vs[w++] = vs[i];
        }
      }
      k = w;
    }
    budget.release(n - k);
    return new Series(e.labels(), java.util.Arrays.copyOf(ts, k), java.util.Arrays.copyOf(vs, k));
  }

  /** Joins parts of one series in time order; a timestamp present twice is kept once. */
  static Series merge(Labels l, List<Series> parts) {
    int n = parts.stream().mapToInt(Series::size).sum();
    long[] ts = new long[n];
    double[] vs = new double[n];
    Integer[] order = new Integer[n];
    int k = 0;
    for (Series s : parts) {
      System.arraycopy(s.t(), 0, ts, k, s.size());
      System.arraycopy(s.v(), 0, vs, k, s.size());
      k += s.size();
    }
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Long.compare(ts[a], ts[b]));
    long[] t2 = new long[n];
    double[] v2 = new double[n];
    int m = 0;
    for (int i = 0; i < n; i++) {
      int j = order[i];
      if (m > 0 && t2[m - 1] == ts[j]) {
        continue;
      }
      t2[m] = ts[j];
      v2[m] = vs[j];
      m++;
    }
    return new Series(l, java.util.Arrays.copyOf(t2, m), java.util.Arrays.copyOf(v2, m));
  }

  /** The labels of every series matching all matchers (with samples or not). */
  public List<Labels> series(List<Matcher> matchers) {
    return series(matchers, Long.MIN_VALUE, Long.MAX_VALUE);
  }

  /**
   * The series matching the matchers with samples in [mint, maxt] (milliseconds): those of a block
   * whose chunks reach into the range, and of the head whose samples do.
   */
  public List<Labels> series(List<Matcher> matchers, long mint, long maxt) {
    java.util.TreeSet<Labels> out = new java.util.TreeSet<>();
    for (Block b : blocks) {
      if (overlaps(b.minT, b.maxT, mint, maxt)) {
        for (Block.Entry e : b.select(matchers)) {
          if (e.chunks().stream().anyMatch(c -> overlaps(c.minT(), c.maxT(), mint, maxt))) {
            out.add(e.labels());
          }
        }
      }
    }
    for (MemSeries s : head.select(matchers)) {
      if (overlaps(s, mint, maxt)) {
        out.add(s.labels);
      }
    }
    return List.copyOf(out);
  }

  public List<String> labelNames() {
    return labelNames(Long.MIN_VALUE, Long.MAX_VALUE);
  }

  /**
   * Label names of the blocks that overlap [mint, maxt], the head among them (block by block, as
   * Prometheus answers: a label of a series of a block counts even when that series has no sample
   * in the range).
   */
  public List<String> labelNames(long mint, long maxt) {
    return byBlock(mint, maxt, head::labelNames, Block::labelNames);
  }

  public List<String> labelValues(String name) {
    return labelValues(name, Long.MIN_VALUE, Long.MAX_VALUE);
  }

  /** Values of a label, block by block over [mint, maxt] as {@link #labelNames(long, long)}. */
  public List<String> labelValues(String name, long mint, long maxt) {
    return byBlock(mint, maxt, () -> head.labelValues(name), b -> b.labelValues(name));
  }

  /** The sorted union of what the head and each block give, of those that overlap [mint, maxt]. */
  private List<String> byBlock(
      long mint,
      long maxt,
      java.util.function.Supplier<List<String>> ofHead,
      java.util.function.Function<Block, List<String>> ofBlock) {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    if (headOverlaps(mint, maxt)) {
      out.addAll(ofHead.get());
    }
    for (Block b : blocks) {
      if (overlaps(b.minT, b.maxT, mint, maxt)) {
        out.addAll(ofBlock.apply(b));
      }
    }
    return List.copyOf(out);
  }

  /** Whether [lo, hi] and [mint, maxt] share a time. */
  private static boolean overlaps(long lo, long hi, long mint, long maxt) {
    return hi >= mint && lo <= maxt;
  }

  private static boolean overlaps(MemSeries s, long mint, long maxt) {
    return overlaps(s.minTime(), s.lastTime(), mint, maxt);
  }

  /**
   * Whether the head holds samples in [mint, maxt]: the head counts as one block from its oldest
   * sample to its newest (one pass over its series; all time needs none).
   */
  private boolean headOverlaps(long mint, long maxt) {
    if (mint == Long.MIN_VALUE && maxt == Long.MAX_VALUE) {
      return true;
    }
    return head.all().stream().anyMatch(s -> overlaps(s, mint, maxt));
  }

  // ---- blocks, compaction, retention

  private static List<Block> openBlocks(Path dir, List<Quarantined> quarantined)
      throws IOException {
    Path blocksDir = dir.resolve("blocks");
    List<Block> out = new ArrayList<>();
    if (!java.nio.file.Files.isDirectory(blocksDir)) {
      return out;
    }
    try (var s = java.nio.file.Files.list(blocksDir)) {
      for (Path p : s.sorted().toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(".tmp") && java.nio.file.Files.isDirectory(p)) {
          Block.deleteTree(p); // a block whose writing was cut short
          continue;
        }
        try {
          if (!java.nio.file.Files.isDirectory(p)) {
            throw new IOException("not a block directory");
          }
          out.add(Block.open(p));
        } catch (IOException | RuntimeException e) {
          quarantined.add(
              quarantine(dir, p, e.getMessage() == null ? e.toString() : e.getMessage()));
        }
      }
    }
    out.sort(java.util.Comparator.comparingLong(b -> b.minT));
    return out;
  }

  /** Moves what cannot be read as a block to dir/corrupted/, where nothing reads or deletes it. */
  private static Quarantined quarantine(Path dir, Path p, String reason) throws IOException {
    Path target = dir.resolve("corrupted");
    java.nio.file.Files.createDirectories(target);
    Path to = target.resolve(p.getFileName().toString());
    for (int i = 1; java.nio.file.Files.exists(to); i++) {
      to = target.resolve(p.getFileName() + "." + i);
    }
    Durable.move(p, to);
    return new Quarantined(p.getFileName().toString(), to, reason);
  }

  /** Something under blocks/ that could not be opened, and where it was moved. */
  public record Quarantined(String name, Path movedTo, String reason) {}

  /**
   * What opening the store found damaged: blocks moved aside, and WAL records that could not be
   * read (skipped; the records after them were replayed).
   */
  public record OpenReport(
      List<Quarantined> quarantined,
      long walDamagedRecords,
      long walSkippedBytes,
      List<String> walDamagedSegments) {
    public boolean clean() {
      return quarantined.isEmpty() && walDamagedRecords == 0;
    }
  }

  /** What the last open found damaged. */
  public OpenReport openReport() {
    return openReport;
  }

  /** The persisted blocks, oldest first. */
  public List<BlockInfo> blocks() {
    return blocks.stream()
        .map(b -> new BlockInfo(b.minT, b.maxT, b.level, b.seriesCount(), b.samples, b.sizeBytes()))
        .toList();
  }

  /** A persisted block, as stats show it. */
  public record BlockInfo(long minT, long maxT, int level, int series, long samples, long bytes) {}

  private void compactQuietly() {
    try {
      compact();
    } catch (RuntimeException e) {
      // retried at the next tick; the head keeps everything meanwhile
    }
  }

  /**
   * Persists the head's oldest whole block range once the head spans more than one and a half
   * ranges, checkpoints the WAL, merges small blocks and applies retention. Runs every 30 seconds;
   * callable directly (tests, shutdown).
   */
  public synchronized void compact() {
    try {
      while (true) {
        long headMin = Long.MAX_VALUE;
        for (MemSeries s : head.all()) {
          headMin = Math.min(headMin, s.minTime());
        }
        if (headMin == Long.MAX_VALUE) {
          break;
        }
        long start = Math.floorDiv(headMin, BLOCK_MS) * BLOCK_MS;
        long end = start + BLOCK_MS;
        if (maxTime < end + BLOCK_MS / 2) {
          break; // keep the newest range and a half in the head (late samples)
        }
        persistHead(start, end);
      }
      if (headMayHoldEmpty) {
        dropEmptySeries();
        headMayHoldEmpty = false;
      }
      mergeBlocks();
      applyRetention();
    } catch (IOException e) {
      throw new UncheckedIOException("compacting " + dir + ": " + e.getMessage(), e);
    }
  }

  private void persistHead(long start, long end) throws IOException {
    java.util.Map<Labels, List<Block.ChunkData>> data = new java.util.HashMap<>();
    List<MemSeries> all = head.all();
    java.util.Map<MemSeries, List<MemSeries.Sealed>> taken = new java.util.HashMap<>();
    for (MemSeries s : all) {
      List<MemSeries.Sealed> cs = s.sealedBefore(end);
      if (!cs.isEmpty()) {
        taken.put(s, cs);
        List<Block.ChunkData> cd = new ArrayList<>();
        for (MemSeries.Sealed c : cs) {
          cd.add(new Block.ChunkData(c.data(), false, c.count(), c.minT(), c.maxT()));
        }
        data.put(s.labels, cd);
      }
    }
    java.nio.file.Files.createDirectories(dir.resolve("blocks"));
    Path written = Block.write(dir.resolve("blocks"), start, end - 1, 1, data);
    minValidTime = Math.max(minValidTime, end);
    headMayHoldEmpty = true;
    // The block becomes readable before its chunks leave the head: a query meanwhile sees them
    // twice (merged into one series), never not at all.
    blocks.add(Block.open(written));
    blocks.sort(java.util.Comparator.comparingLong(b -> b.minT));
    taken.forEach(
        (s, cs) -> {
          s.dropFirst(cs);
          cs.forEach(c -> head.chunks().release(c.ref()));
        });
    checkpoint();
  }

  /** Drops the head's series that hold nothing any more, with appends kept out meanwhile. */
  private void dropEmptySeries() {
    commitLock.writeLock().lock();
    try {
      droppedSeries += head.dropEmpty();
    } finally {
      commitLock.writeLock().unlock();
    }
  }

  private long droppedSeries;

  /**
   * Whether series may have emptied since the last drop: after a block was persisted, or after open
   * (the checkpoint names series whose samples are all in blocks). Dropping walks every series with
   * appends held off, so it runs only then, not every 30 seconds.
   */
  private boolean headMayHoldEmpty = true;

  /** Series dropped from the head so far because they held no samples any more. */
  public synchronized long droppedSeries() {
    return droppedSeries;
  }

  /** Rewrites the WAL as one checkpoint of what the head still holds. */
  private void checkpoint() throws IOException {
    int upTo;
    commitLock.writeLock().lock();
    try {
      // Every commit logged before the new segment is in the head once the lock is ours.
      upTo = wal.rotate();
    } finally {
      commitLock.writeLock().unlock();
    }
    // Written while commits go on: a sample both in the checkpoint and in segment upTo or later
    // is the same sample twice, which replay keeps once.
    Wal.checkpoint(dir.resolve("wal"), upTo, head.all());
  }

  /** Merges three consecutive 2h blocks into a 6h one, and four 6h ones into a day. */
  private void mergeBlocks() throws IOException {
    long[] ranges = {BLOCK_MS, 3 * BLOCK_MS, 12 * BLOCK_MS};
    for (int level = 1; level < ranges.length; level++) {
      long range = ranges[level];
      int need = (int) (range / ranges[level - 1]);
      java.util.Map<Long, List<Block>> groups = new java.util.TreeMap<>();
      for (Block b : blocks) {
        if (b.level == level) {
          groups.computeIfAbsent(Math.floorDiv(b.minT, range), k -> new ArrayList<>()).add(b);
        }
      }
      for (java.util.Map.Entry<Long, List<Block>> g : groups.entrySet()) {
        List<Block> bs = g.getValue();
        long windowEnd = (g.getKey() + 1) * range;
        if (bs.size() < need || maxTime < windowEnd + BLOCK_MS) {
          continue;
        }
        java.util.Map<Labels, List<Block.ChunkData>> merged = new java.util.HashMap<>();
        for (Block b : bs) {
          b.all().forEach((l, cs) -> merged.computeIfAbsent(l, k -> new ArrayList<>()).addAll(cs));
        }
        long minT = bs.stream().mapToLong(b -> b.minT).min().orElseThrow();
        long maxT = bs.stream().mapToLong(b -> b.maxT).max().orElseThrow();
        Path written = Block.write(dir.resolve("blocks"), minT, maxT, level + 1, merged);
        blocks.add(Block.open(written));
        for (Block b : bs) {
          blocks.remove(b);
          b.close();
          Block.deleteTree(b.dir);
        }
        blocks.sort(java.util.Comparator.comparingLong(b -> b.minT));
      }
    }
  }

  /** Deletes blocks past the retention time, then the oldest while over the size limit. */
  private void applyRetention() throws IOException {
    for (Block b : List.copyOf(blocks)) {
      if (maxTime - b.maxT > options.retentionMs()) {
        drop(b);
      }
    }
    if (options.retentionBytes() > 0) {
      long total = blocks.stream().mapToLong(Block::sizeBytes).sum();
      for (Block b : List.copyOf(blocks)) {
        if (total <= options.retentionBytes()) {
          break;
        }
        total -= b.sizeBytes();
        drop(b);
      }
    }
  }

  private void drop(Block b) throws IOException {
    blocks.remove(b);
    b.close();
    Block.deleteTree(b.dir);
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
    for (Block b : blocks) {
      samples += b.samples;
      bytes += b.sizeBytes();
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
    synchronized (this) {
      wal.close();
      blocks.forEach(Block::close);
      head.chunks().close();
    }
  }
}
