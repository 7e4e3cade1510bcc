package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import java.util.List;

/** An API failure the user can act on: status, what failed, how to fix it. */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final String hint;
  final transient List<Wire.Problem> problems;

  /** A refused change, as HTTP: 400 for a bad request, 409 for a conflict, 404 for a name. */
  static ApiError of(dev.pilothouse.core.deploy.DeployException e) {
    int status =
        switch (e.kind()) {
          case INVALID -> 400;
          case CONFLICT -> 409;
          case NOT_FOUND -> 404;
        };
    return new ApiError(status, e.getMessage(), e.hint());
  }

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
