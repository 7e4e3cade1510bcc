package dev.pilothouse.chaos;

/** A run that cannot start or be found, with what to do about it. */
public final class ChaosException extends Exception {
  private final String hint;

  public ChaosException(String message, String hint) {
    super(message);
    this.hint = hint;
  }

  public String hint() {
    return hint;
  }
}
