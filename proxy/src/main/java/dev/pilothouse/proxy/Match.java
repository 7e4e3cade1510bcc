package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

import com.google.re2j.Pattern;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Sends requests carrying a header or cookie with a given value to a named group (A/B tests, smoke
 * tests of a new version, sticky canary sessions).
 *
 * @param kind HEADER or COOKIE
 * @param value the exact value, the prefix or the regular expression (RE2 syntax, matched against
 *     the whole value); "*" matches any value when the header or cookie is present
 * @param op how value is compared
 */
public record Match(Kind kind, String name, String value, String group, Op op) {
  /** What a match looks at. */
  public enum Kind {
    HEADER,
    COOKIE
  }

  /** How a match compares. */
  public enum Op {
    EXACT,
    PREFIX,
    REGEX
  }

  /** Compiled expressions, shared by every table that uses them (RE2: linear time, no ReDoS). */
  private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

  /** An exact match. */
  public Match(Kind kind, String name, String value, String group) {
    this(kind, name, value, group, Op.EXACT);
  }

  public Match {
    requireNonNull(kind, "kind");
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    requireNonNull(group, "group");
    op = op == null ? Op.EXACT : op;
    if (op == Op.REGEX) {
      PATTERNS.computeIfAbsent(value, Pattern::compile); // refuses a bad expression up front
    }
  }

  /** Whether a present header or cookie value v matches. */
  public boolean test(String v) {
    if (value.equals("*")) {
      return true;
    }
    return switch (op) {
      case EXACT -> value.equals(v);
      case PREFIX -> v.startsWith(value);
      case REGEX -> PATTERNS.computeIfAbsent(value, Pattern::compile).matches(v);
    };
  }
}
