package dev.pilothouse.core.deploy;

/** A change that was refused, and nothing of it applied; the hint says what to do. */
public final class DeployException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why: the request itself, a conflict with the state, or an unknown name. */
  public enum Kind {
    INVALID,
    CONFLICT,
    NOT_FOUND
  }

  private final Kind kind;
  private final String hint;

  public DeployException(Kind kind, String message, String hint) {
    super(message);
    this.kind = kind;
    this.hint = hint;
  }

  public Kind kind() {
    return kind;
  }

  public String hint() {
    return hint;
  }
}
