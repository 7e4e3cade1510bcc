package dev.pilothouse.spec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Typed access to the keys of one YAML map, checked against the known field names. Field names
 * match regardless of case and of '_' or '-' separators, so {@code failureThreshold}, {@code
 * failure_threshold} and {@code failure-threshold} are the same field.
 */
final class Fields {
  private final Node.MapNode map;
  private final String path;
  private final Problems problems;
  private final Map<String, Node.Entry> byNorm = new HashMap<>();

  Fields(Node.MapNode map, String path, Problems problems, List<String> known) {
    this.map = map;
    this.path = path;
    this.problems = problems;
    Map<String, String> knownByNorm = new HashMap<>();
    known.forEach(k -> knownByNorm.put(norm(k), k));
    for (Node.Entry e : map.entries().values()) {
      String n = norm(e.key());
      String canonical = knownByNorm.get(n);
      if (canonical == null) {
        String hint =
            Suggest.nearest(e.key(), known)
                .map(s -> "did you mean '" + s + "'?")
                .orElse("known fields: " + String.join(", ", known));
        problems.add(e.line(), e.column(), join(e.key()), "unknown field '" + e.key() + "'", hint);
      } else if (byNorm.putIfAbsent(canonical, e) != null) {
        problems.add(
            e.line(),
            e.column(),
            join(e.key()),
            "field '"
                + canonical
                + "' is given twice (as '"
                + byNorm.get(canonical).key()
                + "' and '"
                + e.key()
                + "')",
            "keep one");
      }
    }
  }

  static String norm(String key) {
    return key.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT);
  }

  String join(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  Node.MapNode node() {
    return map;
  }

  String path() {
    return path;
  }

  Optional<Node> get(String field) {
    Node.Entry e = byNorm.get(field);
    if (e == null) {
      return Optional.empty();
    }
    if (e.value() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.NULL) {
      return Optional.empty();
    }
    return Optional.of(e.value());
  }

  boolean has(String field) {
    return get(field).isPresent();
  }

  /** The node of a required field, or records a problem at the map. */
  Optional<Node> require(String field, String hint) {
    Optional<Node> n = get(field);
    if (n.isEmpty()) {
      problems.at(map, join(field), "required field '" + field + "' is missing", hint);
    }
    return n;
  }

  Optional<String> string(String field) {
    return get(field).flatMap(n -> asString(n, join(field)));
  }

  Optional<String> asString(Node n, String p) {
    if (n instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
      return Optional.of(s.text());
    }
    problems.at(n, p, "must be a string, but is " + n.kind(), "write a single value");
    return Optional.empty();
  }

  Optional<Long> integer(String field, long min, long max) {
    return get(field).flatMap(n -> asInteger(n, join(field), min, max));
  }

  Optional<Long> asInteger(Node n, String p, long min, long max) {
    if (!(n instanceof Node.Scalar s) || s.type() != Node.Scalar.Type.INT) {
      problems.at(
          n, p, "must be a whole number, but is " + describe(n), "write e.g. " + Math.max(min, 1));
      return Optional.empty();
    }
    long v;
    try {
      v = Long.parseLong(s.text().replace("_", ""));
    } catch (NumberFormatException e) {
      problems.at(
          n,
          p,
          "number '" + s.text() + "' is out of range",
          "use a value from " + min + " to " + max);
      return Optional.empty();
    }
    if (v < min || v > max) {
      problems.at(
          n,
          p,
          "must be between " + min + " and " + max + ", but is " + v,
          "use a value from " + min + " to " + max);
      return Optional.empty();
    }
    return Optional.of(v);
  }

  Optional<Double> number(String field, double min, double max, boolean maxInclusive) {
    Optional<Node> on = get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    Node n = on.get();
    String p = join(field);
    if (!(n instanceof Node.Scalar s)
        || (s.type() != Node.Scalar.Type.INT && s.type() != Node.Scalar.Type.FLOAT)) {
      problems.at(n, p, "must be a number, but is " + describe(n), "write e.g. " + min);
      return Optional.empty();
    }
    double v;
    try {
      v = Double.parseDouble(s.text());
    } catch (NumberFormatException e) {
      problems.at(n, p, "'" + s.text() + "' is not a number", "write e.g. " + min);
      return Optional.empty();
    }
    String range = "[" + min + ", " + max + (maxInclusive ? "]" : ")");
    if (Double.isNaN(v) || v < min || v > max || (!maxInclusive && v == max)) {
      problems.at(n, p, "must be in " + range + ", but is " + s.text(), "use a value in " + range);
      return Optional.empty();
    }
    return Optional.of(v);
  }

  Optional<Boolean> bool(String field) {
    Optional<Node> on = get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    if (on.get() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.BOOL) {
      return Optional.of(Boolean.parseBoolean(s.text().toLowerCase(Locale.ROOT)));
    }
    problems.at(
        on.get(),
        join(field),
        "must be true or false, but is " + describe(on.get()),
        "write true or false");
    return Optional.empty();
  }

  Optional<List<String>> strings(String field) {
    Optional<Node> on = get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    Node n = on.get();
    String p = join(field);
    if (!(n instanceof Node.ListNode l)) {
      problems.at(
          n,
          p,
          "must be a list of strings, but is " + n.kind(),
          "write [\"a\", \"b\"] or one '- item' per line");
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    boolean ok = true;
    for (int i = 0; i < l.items().size(); i++) {
      Node item = l.items().get(i);
      if (item instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
        out.add(s.text());
      } else {
        problems.at(
            item, p + "[" + i + "]", "must be a string, but is " + item.kind(), "quote the value");
        ok = false;
      }
    }
    return ok ? Optional.of(out) : Optional.empty();
  }

  Optional<Fields> object(String field, List<String> known) {
    Optional<Node> on = get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    if (on.get() instanceof Node.MapNode m) {
      return Optional.of(new Fields(m, join(field), problems, known));
    }
    problems.at(
        on.get(),
        join(field),
        "must be a map, but is " + on.get().kind(),
        "write its fields indented below it");
    return Optional.empty();
  }

  static String describe(Node n) {
    if (n instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
      return n.kind() + " '" + s.text() + "'";
    }
    return n.kind();
  }
}
