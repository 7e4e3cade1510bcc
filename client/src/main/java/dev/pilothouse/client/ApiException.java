package dev.pilothouse.client;

/** The daemon answered with an error, or could not be reached. */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final transient Wire.Error body;

  public ApiException(int status, Wire.Error body) {
    super(body.error());
    this.status = status;
    this.body = body;
  }

  /** HTTP status, or 0 when the daemon could not be reached. */
  public int status() {
    return status;
  }

  /** The error body. */
  public Wire.Error body() {
    return body;
  }
}
