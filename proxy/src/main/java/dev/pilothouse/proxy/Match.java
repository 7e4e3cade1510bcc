package dev.pilothouse.proxy;

import static java.util.Objects.requireNonNull;

/**
 * Sends requests carrying a header or cookie with a given value to a named group (A/B tests, smoke
 * tests of a new version, sticky canary sessions).
 *
 * @param kind HEADER or COOKIE
 * @param value exact value; "*" matches any value when the header or cookie is present
 */
public record Match(Kind kind, String name, String value, String group) {
  /** What a match looks at. */
  public enum Kind {
    HEADER,
    COOKIE
  }

  public Match {
    requireNonNull(kind, "kind");
    requireNonNull(name, "name");
    requireNonNull(value, "value");
    requireNonNull(group, "group");
  }
}
