package dev.pilothouse.tsdb.promql;

/** A query that does not parse or type-check; the message names the position and the problem. */
public final class ParseException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int position;

  ParseException(int position, String message) {
    super("parse error at char " + (position + 1) + ": " + message);
    this.position = position;
  }

  /** Zero-based offset in the query text. */
  public int position() {
    return position;
  }
}
