package dev.pilothouse.backup;

/** A backup operation that cannot go on; the message says what is wrong and how to fix it. */
public class BackupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BackupException(String message) {
    super(message);
  }

  public BackupException(String message, Throwable cause) {
    super(message, cause);
  }
}
