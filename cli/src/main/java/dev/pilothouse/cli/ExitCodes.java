package dev.pilothouse.cli;

/** Exit codes scripts can rely on. */
final class ExitCodes {
  static final int OK = 0;
  static final int FAILURE = 1;
  static final int USAGE = 2;
  static final int NO_DAEMON = 3;
  static final int INVALID_SPEC = 4;
  static final int TIMEOUT = 5;

  private ExitCodes() {}
}
