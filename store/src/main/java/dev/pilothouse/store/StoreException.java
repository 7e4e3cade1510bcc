package dev.pilothouse.store;

/** The store could not do what was asked; the message says what was being attempted. */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
