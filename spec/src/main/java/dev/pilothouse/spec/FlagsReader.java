package dev.pilothouse.spec;

import dev.pilothouse.core.flags.Flag;
import dev.pilothouse.core.flags.FlagReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code flags:} section: flag key to definition, read by core's {@link FlagReader} (the API
 * reads the same shape as JSON); each problem is reported at the flag's line.
 */
final class FlagsReader extends SectionReader {
  FlagsReader(SectionReader parent) {
    super(parent);
  }

  List<Flag> flags(Node node, String path) {
    List<Flag> out = new ArrayList<>();
    if (!(node instanceof Node.MapNode m)) {
      problems.at(
          node,
          path,
          "must be a map of flag keys to definitions",
          "write e.g. 'new-checkout: {default: off}'");
      return out;
    }
    for (Node.Entry e : m.entries().values()) {
      String at = path + "." + e.key();
      FlagReader.Result r = FlagReader.read(e.key(), plain(e.value()));
      List<String> found = new ArrayList<>(r.problems());
      if (r.flag() != null) {
        found.addAll(r.flag().problems(FlagsReader::regexProblem)); // only the expressions remain
      }
      for (String p : found) {
        int colon = p.indexOf(": ");
        String field = colon < 0 ? "" : p.substring(0, colon);
        problems.at(
            e.value(),
            field.startsWith("(") ? at : at + "." + field,
            colon < 0 ? p : p.substring(colon + 2),
            "see docs/flags.md for a flag's fields");
      }
      if (found.isEmpty()) {
        out.add(r.flag());
      }
    }
    return out;
  }

  /** What is wrong with an RE2 expression (what the daemon runs), or null. */
  private static String regexProblem(String expression) {
    try {
      com.google.re2j.Pattern.compile(expression);
      return null;
    } catch (com.google.re2j.PatternSyntaxException e) {
      return e.getDescription();
    }
  }

  /** The YAML node as plain values: maps, lists, strings, whole numbers, numbers, booleans. */
  private static Object plain(Node n) {
    return switch (n) {
      case Node.MapNode m -> {
        Map<String, Object> out = new LinkedHashMap<>();
        m.entries().forEach((k, e) -> out.put(k, plain(e.value())));
        yield out;
      }
      case Node.ListNode l -> l.items().stream().map(FlagsReader::plain).toList();
      case Node.Scalar s ->
          switch (s.type()) {
            case INT -> Long.parseLong(s.text());
            case FLOAT -> Double.parseDouble(s.text());
            // YAML 1.2: only true and false are booleans; on/off/yes/no are variant names.
            case BOOL ->
                s.text().equalsIgnoreCase("true") || s.text().equalsIgnoreCase("false")
                    ? (Object) Boolean.parseBoolean(s.text())
                    : s.text();
            case NULL -> null;
            case STRING -> s.text();
          };
    };
  }
}
