package dev.pilothouse.tsdb;

/** Counts the samples a query loads and refuses it beyond a limit. Not thread-safe. */
public final class QueryBudget {
  private final long maxSamples;
  private long used;

  public QueryBudget(long maxSamples) {
    this.maxSamples = maxSamples;
  }

  public static QueryBudget unlimited() {
    return new QueryBudget(Long.MAX_VALUE);
  }

  public void charge(long samples) {
    used += samples;
    if (used > maxSamples) {
      throw new TsdbException(
          "query processing would load too many samples into memory (more than "
              + maxSamples
              + "); narrow the selectors, shorten the range or raise the query sample limit");
    }
  }

  public long used() {
    return used;
  }
}
