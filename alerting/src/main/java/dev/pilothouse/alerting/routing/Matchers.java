package dev.pilothouse.alerting.routing;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import dev.pilothouse.core.alerting.routing.LabelMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Label matchers compiled once (regular expressions in RE2: linear time, anchored). */
final class Matchers {
  private record Compiled(LabelMatcher m, Pattern p) {
    boolean matches(Map<String, String> labels) {
      String v = labels.getOrDefault(m.name(), ""); // a missing label matches as ""
      return switch (m.op()) {
        case EQUAL -> v.equals(m.value());
        case NOT_EQUAL -> !v.equals(m.value());
        case REGEX -> p.matches(v);
        case NOT_REGEX -> !p.matches(v);
      };
    }
  }

  private final List<Compiled> list;

  private Matchers(List<Compiled> list) {
    this.list = list;
  }

  /**
   * Compiles matchers.
   *
   * @throws IllegalArgumentException naming a regular expression that does not compile
   */
  static Matchers of(List<LabelMatcher> ms) {
    List<Compiled> out = new ArrayList<>();
    for (LabelMatcher m : ms) {
      Pattern p = null;
      if (m.op() == LabelMatcher.Op.REGEX || m.op() == LabelMatcher.Op.NOT_REGEX) {
        try {
          p = Pattern.compile("(?:" + m.value() + ")");
        } catch (PatternSyntaxException e) {
          throw new IllegalArgumentException(
              "matcher " + m + ": invalid regular expression: " + e.getDescription(), e);
        }
      }
      out.add(new Compiled(m, p));
    }
    return new Matchers(List.copyOf(out));
  }

  /** Whether every matcher matches the labels (true for no matchers). */
  boolean matches(Map<String, String> labels) {
    for (Compiled c : list) {
      if (!c.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  boolean isEmpty() {
    return list.isEmpty();
  }
}
