package dev.pilothouse.tsdb;

/** A refused write or query; the message says what and how to fix it. */
public class TsdbException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TsdbException(String message) {
    super(message);
  }

  public TsdbException(String message, Throwable cause) {
    super(message, cause);
  }
}
