package dev.pilothouse.cli;

/** A failure to report as one line (plus a hint) with an exit code. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int exitCode;
  final String hint;

  CliException(int exitCode, String message, String hint) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
  }
}
