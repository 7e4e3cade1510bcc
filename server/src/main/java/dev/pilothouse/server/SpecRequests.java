package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.spec.ParsedSpec;
import dev.pilothouse.spec.SpecError;
import dev.pilothouse.spec.SpecParser;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A spec sent with a request, parsed and validated: HTTP's side of applying it. */
final class SpecRequests {
  private SpecRequests() {}

  /** Parses the request's spec; throws a 422 naming every problem when it is invalid. */
  static Spec parse(Wire.ApplyRequest req) {
    if (req.yaml() == null || req.file() == null) {
      throw new ApiError(
          400, "the request needs 'file' and 'yaml'", "send the spec file's name and text");
    }
    Path base = Path.of(req.baseDir() == null ? "." : req.baseDir());
    ParsedSpec parsed =
        SpecParser.parse(
            req.file(),
            req.yaml(),
            base,
            req.vars() == null ? Map.of() : req.vars(),
            dev.pilothouse.tsdb.promql.Parser::problem);
    if (!parsed.valid()) {
      List<Wire.Problem> problems = parsed.errors().stream().map(SpecRequests::wire).toList();
      throw new ApiError(
          422,
          req.file() + " has " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s"),
          "fix them and apply again; nothing was applied",
          problems);
    }
    return parsed.spec().orElseThrow();
  }

  static Wire.Problem wire(SpecError e) {
    return new Wire.Problem(e.file(), e.line(), e.column(), e.path(), e.message(), e.hint());
  }
}
