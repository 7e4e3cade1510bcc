package dev.pilothouse.tsdb;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import java.util.Objects;

/**
 * A label matcher: {@code =}, {@code !=}, {@code =~} or {@code !~}. Regexes have RE2's syntax and
 * run in time linear in the value (RE2/J, as Prometheus uses Go's RE2), fully anchored with {@code
 * .} matching newlines, as Prometheus anchors them.
 */
public final class Matcher {
  /** The comparison. */
  public enum Type {
    EQ("="),
    NEQ("!="),
    RE("=~"),
    NRE("!~");

    final String op;

    Type(String op) {
      this.op = op;
    }

    @Override
    public String toString() {
      return op;
    }
  }

  private final Type type;
  private final String name;
  private final String value;
  private final Pattern pattern;

  public Matcher(Type type, String name, String value) {
    this.type = Objects.requireNonNull(type, "type");
    this.name = Objects.requireNonNull(name, "name");
    this.value = Objects.requireNonNull(value, "value");
    if (type == Type.RE || type == Type.NRE) {
      try {
        this.pattern = Pattern.compile("^(?:" + value + ")$", Pattern.DOTALL);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "invalid regular expression '" + value + "': " + e.getDescription(), e);
      }
    } else {
      this.pattern = null;
    }
  }

  public static Matcher eq(String name, String value) {
    return new Matcher(Type.EQ, name, value);
  }

  public Type type() {
    return type;
  }

  public String name() {
    return name;
  }

  public String value() {
    return value;
  }

  /** Whether a label value (empty when the label is absent) matches. */
  public boolean matches(String v) {
    return switch (type) {
      case EQ -> v.equals(value);
      case NEQ -> !v.equals(value);
      case RE -> pattern.matcher(v).matches();
      case NRE -> !pattern.matcher(v).matches();
    };
  }

  /** Whether the empty value matches (then series without the label match too). */
  public boolean matchesEmpty() {
    return matches("");
  }

  @Override
  public String toString() {
    return name + type + "\"" + Labels.escape(value) + "\"";
  }
}
