package dev.pilothouse.core.flags;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A feature flag: named variants of one type, rules that pick a variant for an evaluation context
 * (targeting, or a percentage split by a stable key), a default, and a kill switch.
 *
 * @param variants variant name to value (Boolean, String, Number, or a JSON object/array as Map or
 *     List), in declaration order
 * @param defaultVariant what an enabled flag gives when no rule matches
 * @param offVariant what a disabled flag (kill switch) gives
 * @param rules tried in order; the first whose conditions all hold decides
 */
public record Flag(
    String key,
    Type type,
    Map<String, Object> variants,
    String defaultVariant,
    String offVariant,
    boolean enabled,
    List<Rule> rules,
    String description) {

  /** The type of every variant's value. */
  public enum Type {
    BOOLEAN,
    STRING,
    NUMBER,
    OBJECT;

    /** The name in spec files: boolean, string, number, object. */
    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A targeting rule: when every condition holds, the variant, or a split of variants by percentage
   * (hashing the flag's key and the context's targeting key, so a user keeps their variant).
   *
   * @param variant the variant chosen, or null for a split
   * @param split variant to percent (summing to 100), or empty
   */
  public record Rule(
      String name, List<Condition> when, String variant, Map<String, Integer> split) {
    public Rule {
      requireNonNull(name, "name");
      when = when == null ? List.of() : List.copyOf(when);
      split =
          split == null
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(split));
    }
  }

  /**
   * A condition on one attribute of the evaluation context ({@code targetingKey} is one).
   *
   * @param values compared with the attribute (one for the ordering operators, none for EXISTS)
   */
  public record Condition(String attribute, Op op, List<String> values) {
    /** How the attribute is compared. */
    public enum Op {
      IN,
      NOT_IN,
      STARTS_WITH,
      ENDS_WITH,
      MATCHES,
      LT,
      LTE,
      GT,
      GTE,
      EXISTS;

      /** The name in spec files: in, notIn, startsWith, … */
      public String wire() {
        String[] words = name().toLowerCase(java.util.Locale.ROOT).split("_");
        StringBuilder b = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
          b.append(Character.toUpperCase(words[i].charAt(0))).append(words[i].substring(1));
        }
        return b.toString();
      }
    }

    public Condition {
      requireNonNull(attribute, "attribute");
      requireNonNull(op, "op");
      values = values == null ? List.of() : List.copyOf(values);
    }
  }

  public Flag {
    requireNonNull(key, "key");
    requireNonNull(type, "type");
    variants = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(variants));
    requireNonNull(defaultVariant, "defaultVariant");
    offVariant = offVariant == null ? defaultVariant : offVariant;
    rules = rules == null ? List.of() : List.copyOf(rules);
    description = description == null ? "" : description;
  }

  /** What is wrong with this flag, as "field: problem" lines; empty when it can be served. */
  public List<String> problems() {
    return problems(p -> null);
  }

  /**
   * As {@link #problems()}, with each regular expression of a {@code matches} condition checked by
   * regexProblem (what is wrong with it, or null; core has no regex engine of the kind served).
   */
  public List<String> problems(java.util.function.Function<String, String> regexProblem) {
    List<String> out = new ArrayList<>();
    if (!key.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
      out.add("key: '" + key + "' must be 1-128 letters, digits, '.', '_' or '-'");
    }
    if (variants.isEmpty()) {
      out.add("variants: a flag needs at least one variant");
    }
    variants.forEach(
        (name, value) -> {
          if (!fits(value)) {
            out.add("variants." + name + ": " + describe(value) + " is not a " + type.wire());
          }
        });
    if (!variants.containsKey(defaultVariant)) {
      out.add("default: no variant named '" + defaultVariant + "'");
    }
    if (!variants.containsKey(offVariant)) {
      out.add("offVariant: no variant named '" + offVariant + "'");
    }
    for (int i = 0; i < rules.size(); i++) {
      Rule r = rules.get(i);
      String at = "rules[" + i + "]";
      if ((r.variant() == null) == r.split().isEmpty()) {
        out.add(at + ": give exactly one of 'variant' or 'split'");
      }
      if (r.variant() != null && !variants.containsKey(r.variant())) {
        out.add(at + ".variant: no variant named '" + r.variant() + "'");
      }
      if (!r.split().isEmpty()) {
        int sum = 0;
        for (Map.Entry<String, Integer> e : r.split().entrySet()) {
          if (!variants.containsKey(e.getKey())) {
            out.add(at + ".split: no variant named '" + e.getKey() + "'");
          }
          if (e.getValue() == null || e.getValue() < 0) {
            out.add(at + ".split." + e.getKey() + ": must be a percentage 0-100");
          } else {
            sum += e.getValue();
          }
        }
        if (sum != 100) {
          out.add(at + ".split: the percentages add up to " + sum + ", not 100");
        }
      }
      for (int j = 0; j < r.when().size(); j++) {
        Condition c = r.when().get(j);
        int n = c.values().size();
        boolean ordering =
            switch (c.op()) {
              case LT, LTE, GT, GTE -> true;
              default -> false;
            };
        if (c.op() == Condition.Op.MATCHES) {
          for (String p : c.values()) {
            String wrong = regexProblem.apply(p);
            if (wrong != null) {
              out.add(
                  at + ".when[" + j + "].values: invalid regular expression '" + p + "': " + wrong);
            }
          }
        }
        if (c.op() == Condition.Op.EXISTS ? n != 0 : ordering ? n != 1 : n == 0) {
          out.add(
              at
                  + ".when["
                  + j
                  + "]."
                  + c.op().wire()
                  + ": "
                  + (c.op() == Condition.Op.EXISTS
                      ? "takes no values"
                      : ordering ? "takes one value" : "needs at least one value"));
        }
      }
    }
    return out;
  }

  private boolean fits(Object v) {
    return switch (type) {
      case BOOLEAN -> v instanceof Boolean;
      case STRING -> v instanceof String;
      case NUMBER -> v instanceof Number;
      case OBJECT -> v instanceof Map || v instanceof List;
    };
  }

  private static String describe(Object v) {
    return v == null ? "null" : v instanceof String s ? "'" + s + "'" : String.valueOf(v);
  }

  /** This flag with another default variant and other rules. */
  public Flag with(String newDefault, List<Rule> newRules) {
    return new Flag(key, type, variants, newDefault, offVariant, enabled, newRules, description);
  }
}
