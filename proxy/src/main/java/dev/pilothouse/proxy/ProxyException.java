package dev.pilothouse.proxy;

/** The data plane could not do what was asked; the message says what and why. */
public final class ProxyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ProxyException(String message, Throwable cause) {
    super(message, cause);
  }
}
