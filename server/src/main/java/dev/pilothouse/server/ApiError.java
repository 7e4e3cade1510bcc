package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import java.util.List;

/** An API failure the user can act on: status, what failed, how to fix it. */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final String hint;
  final transient List<Wire.Problem> problems;

  ApiError(int status, String message, String hint) {
    this(status, message, hint, List.of());
  }

  ApiError(int status, String message, String hint, List<Wire.Problem> problems) {
    super(message);
    this.status = status;
    this.hint = hint;
    this.problems = problems;
  }

  Wire.Error body() {
    return new Wire.Error(getMessage(), hint, problems);
  }
}
