package dev.pilothouse.spec;

import java.util.ArrayList;
import java.util.List;

/** Collects every problem found in one file. */
final class Problems {
  private final String file;
  private final List<SpecError> errors = new ArrayList<>();
  private final List<SpecError> warnings = new ArrayList<>();

  Problems(String file) {
    this.file = file;
  }

  void add(int line, int column, String path, String message, String hint) {
    errors.add(new SpecError(file, line, column, path, message, hint));
  }

  /**
   * Something valid that is probably a mistake (a password in plain text): reported, not refused.
   */
  void warn(int line, int column, String path, String message, String hint) {
    warnings.add(new SpecError(file, line, column, path, message, hint));
  }

  List<SpecError> warnings() {
    return List.copyOf(warnings);
  }

  /** A problem found in another file (a rule file the spec names), kept as it is. */
  void add(SpecError e) {
    errors.add(e);
  }

  /**
   * Reports every key of m that is not one of known, exactly (as Prometheus's and Alertmanager's
   * strict YAML decoding does), with the nearest known key as the hint.
   */
  void unknownKeys(Node.MapNode m, String path, List<String> known) {
    for (Node.Entry e : m.entries().values()) {
      if (!known.contains(e.key())) {
        String hint =
            Suggest.nearest(e.key(), known)
                .map(s -> "did you mean '" + s + "'?")
                .orElse("known fields: " + String.join(", ", known));
        add(
            e.line(),
            e.column(),
            path.isEmpty() ? e.key() : path + "." + e.key(),
            "unknown field '" + e.key() + "'",
            hint);
      }
    }
  }

  void at(Node n, String path, String message, String hint) {
    add(n.line(), n.column(), path, message, hint);
  }

  List<SpecError> list() {
    return List.copyOf(errors);
  }

  boolean isEmpty() {
    return errors.isEmpty();
  }
}
