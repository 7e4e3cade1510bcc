package dev.pilothouse.tsdb;

/** A query refused for what it would take: samples, the shared query memory, time or a slot. */
public final class QueryLimitException extends TsdbException {
  private static final long serialVersionUID = 1L;

  /** Which limit. */
  public enum Kind {
    /** More samples than one query may hold. */
    SAMPLES,
    /** The queries running together hold the daemon's query memory. */
    MEMORY,
    /** The query ran past its timeout. */
    TIMEOUT,
    /** Every query slot stayed busy for the whole timeout. */
    BUSY,
    /** Too many points per series (range query or subquery resolution). */
    RESOLUTION
  }

  private final Kind kind;

  public QueryLimitException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
