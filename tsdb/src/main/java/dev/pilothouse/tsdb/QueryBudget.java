package dev.pilothouse.tsdb;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What one query may take: samples held in memory at once (its own limit, and a share of a {@link
 * Pool} that all running queries draw on), and time (a deadline). Not thread-safe: one query runs
 * on one thread.
 */
public final class QueryBudget implements AutoCloseable {
  /** Samples reserved from the pool at a time, so that queries rarely touch the shared counter. */
  private static final long RESERVE_STEP = 65_536;

  private final long maxSamples;
  private final long deadlineNanos;
  private final Pool pool;
  private long held;
  private long reserved;

  /**
   * The samples that all running queries may hold together: the daemon's heap is finite, and twenty
   * queries each within their own limit must not exhaust it.
   */
  public static final class Pool {
    private final long capacity;
    private final AtomicLong free;

    public Pool(long capacity) {
      if (capacity <= 0) {
        throw new IllegalArgumentException("query pool capacity must be > 0, but was " + capacity);
      }
      this.capacity = capacity;
      this.free = new AtomicLong(capacity);
    }

    /** A pool of a fraction of the JVM's maximum heap, counting bytesPerSample per sample. */
    public static Pool ofHeap(double fraction, int bytesPerSample) {
      return new Pool(
          Math.max(1, (long) (Runtime.getRuntime().maxMemory() * fraction) / bytesPerSample));
    }

    public long capacity() {
      return capacity;
    }

    /** Samples no query holds now. */
    public long free() {
      return free.get();
    }

    boolean take(long n) {
      long f;
      do {
        f = free.get();
        if (f < n) {
          return false;
        }
      } while (!free.compareAndSet(f, f - n));
      return true;
    }

    void give(long n) {
      free.addAndGet(n);
    }
  }

  /** A budget without a deadline or a pool: only the sample limit applies. */
  public QueryBudget(long maxSamples) {
    this(maxSamples, Long.MAX_VALUE, null);
  }

  /**
   * @param maxSamples samples this query may hold at once
   * @param deadlineNanos the {@link System#nanoTime()} by which it must finish ({@code
   *     Long.MAX_VALUE}: none)
   * @param pool what all queries share, or null
   */
  public QueryBudget(long maxSamples, long deadlineNanos, Pool pool) {
    this.maxSamples = maxSamples;
    this.deadlineNanos = deadlineNanos;
    this.pool = pool;
  }

  public static QueryBudget unlimited() {
    return new QueryBudget(Long.MAX_VALUE);
  }

  /** Accounts for n more samples held in memory; refuses them beyond a limit or the deadline. */
  public void charge(long samples) {
    held += samples;
    if (held > maxSamples) {
      throw new QueryLimitException(
          QueryLimitException.Kind.SAMPLES,
          "query processing would load too many samples into memory (more than "
              + maxSamples
              + "); narrow the selectors, shorten the range or raise the step");
    }
    if (pool != null && held > reserved) {
      long need = held - reserved;
      long want = Math.max(RESERVE_STEP, need);
      if (pool.take(want)) {
        reserved += want;
      } else if (pool.take(need)) {
        reserved += need;
      } else {
        throw new QueryLimitException(
            QueryLimitException.Kind.MEMORY,
            "the queries running now hold the daemon's query memory ("
                + pool.capacity()
                + " samples); retry later, or narrow this query");
      }
    }
    checkDeadline();
  }

  /** Gives back n samples this query no longer holds (an intermediate result it has used). */
  public void release(long samples) {
    held = Math.max(0, held - samples);
  }

  /** Throws once the query has run past its deadline. */
  public void checkDeadline() {
    if (deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos > 0) {
      throw new QueryLimitException(
          QueryLimitException.Kind.TIMEOUT,
          "query timed out in expression evaluation; narrow the selectors, shorten the range,"
              + " raise the step or raise metrics.queryTimeout");
    }
  }

  /** Samples held now. */
  public long used() {
    return held;
  }

  /** Returns what this query reserved to the pool. */
  @Override
  public void close() {
    if (pool != null && reserved > 0) {
      pool.give(reserved);
      reserved = 0;
    }
  }
}
