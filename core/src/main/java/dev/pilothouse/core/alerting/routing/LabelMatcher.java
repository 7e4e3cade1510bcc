package dev.pilothouse.core.alerting.routing;

import static java.util.Objects.requireNonNull;

/**
 * One of Alertmanager's label matchers: {@code name="value"}, {@code !=}, {@code =~} or {@code !~};
 * regular expressions match the whole value (RE2 syntax, compiled by the router).
 */
public record LabelMatcher(String name, Op op, String value) {
  /** Alertmanager's four operators. */
  public enum Op {
    EQUAL("="),
    NOT_EQUAL("!="),
    REGEX("=~"),
    NOT_REGEX("!~");

    private final String text;

    Op(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }
  }

  public LabelMatcher {
    requireNonNull(name, "name");
    requireNonNull(op, "op");
    requireNonNull(value, "value");
  }

  /** As Alertmanager prints a matcher: {@code name="value"} (the value quoted and escaped). */
  @Override
  public String toString() {
    return name
        + op.text()
        + "\""
        + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")
        + "\"";
  }
}
