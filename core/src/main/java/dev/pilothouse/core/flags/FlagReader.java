package dev.pilothouse.core.flags;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a flag from plain values (maps, lists, strings, numbers, booleans) as the spec's YAML and
 * the API's JSON both give them: {@code {type, variants, default, offVariant, enabled, description,
 * rules: [{name, when: [{attribute, op, values}], variant | split}]}}. Every problem is reported at
 * once, as "field: problem".
 */
public final class FlagReader {
  private FlagReader() {}

  /**
   * The flag, or the problems that stop it.
   *
   * @param flag null when there are problems
   */
  public record Result(Flag flag, List<String> problems) {}

  private static final List<String> FIELDS =
      List.of(
          "key", "type", "variants", "default", "offVariant", "enabled", "description", "rules");

  /** Reads the flag named key from its definition. */
  public static Result read(String key, Object definition) {
    List<String> problems = new ArrayList<>();
    if (!(definition instanceof Map<?, ?> n)) {
      return new Result(null, List.of("(flag): must be a map of its fields"));
    }
    for (Object f : n.keySet()) {
      if (!FIELDS.contains(String.valueOf(f))) {
        problems.add(f + ": unknown field (known: " + String.join(", ", FIELDS) + ")");
      }
    }
    Flag.Type type = Flag.Type.BOOLEAN;
    if (n.get("type") != null) {
      try {
        type = Flag.Type.valueOf(String.valueOf(n.get("type")).toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problems.add("type: must be boolean, string, number or object");
      }
    }
    Map<String, Object> variants = new LinkedHashMap<>();
    Object vn = n.get("variants");
    if (vn instanceof Map<?, ?> vm) {
      vm.forEach((k, v) -> variants.put(String.valueOf(k), v));
    } else if (vn != null) {
      problems.add("variants: must be a map of variant names to values");
    } else if (type == Flag.Type.BOOLEAN) {
      variants.put("on", true);
      variants.put("off", false);
    } else {
      problems.add("variants: required for a " + type.wire() + " flag");
    }
    String dflt = text(n, "default", type == Flag.Type.BOOLEAN ? "off" : null, problems);
    String off = text(n, "offVariant", null, problems);
    boolean enabled = true;
    if (n.get("enabled") != null) {
      if (n.get("enabled") instanceof Boolean b) {
        enabled = b;
      } else {
        problems.add("enabled: must be true or false");
      }
    }
    List<Flag.Rule> rules = new ArrayList<>();
    Object rn = n.get("rules");
    if (rn instanceof List<?> rl) {
      for (int i = 0; i < rl.size(); i++) {
        rules.add(rule(rl.get(i), "rules[" + i + "]", i, problems));
      }
    } else if (rn != null) {
      problems.add("rules: must be a list");
    }
    if (dflt == null) {
      problems.add("default: required (the variant served when no rule matches)");
    }
    if (!problems.isEmpty()) {
      return new Result(null, problems);
    }
    Object description = n.get("description");
    Flag f =
        new Flag(
            key,
            type,
            variants,
            dflt,
            off,
            enabled,
            rules,
            description == null ? "" : String.valueOf(description));
    List<String> more = f.problems();
    return more.isEmpty() ? new Result(f, List.of()) : new Result(null, more);
  }

  private static String text(Map<?, ?> n, String field, String dflt, List<String> problems) {
    Object v = n.get(field);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof String s)) {
      problems.add(field + ": must be a variant name (text)");
      return dflt;
    }
    return s;
  }

  private static Flag.Rule rule(Object r, String at, int index, List<String> problems) {
    String fallback = "rule-" + (index + 1);
    if (!(r instanceof Map<?, ?> m)) {
      problems.add(at + ": must be a map");
      return new Flag.Rule(fallback, List.of(), "", Map.of());
    }
    for (Object f : m.keySet()) {
      if (!List.of("name", "when", "variant", "split").contains(String.valueOf(f))) {
        problems.add(at + "." + f + ": unknown field (known: name, when, variant, split)");
      }
    }
    List<Flag.Condition> when = new ArrayList<>();
    Object wn = m.get("when");
    if (wn instanceof List<?> wl) {
      for (int j = 0; j < wl.size(); j++) {
        condition(wl.get(j), at + ".when[" + j + "]", problems, when);
      }
    } else if (wn != null) {
      problems.add(at + ".when: must be a list of conditions");
    }
    Map<String, Integer> split = new LinkedHashMap<>();
    Object sn = m.get("split");
    if (sn instanceof Map<?, ?> sm) {
      sm.forEach(
          (k, v) -> {
            if (v instanceof Integer || v instanceof Long) {
              split.put(String.valueOf(k), ((Number) v).intValue());
            } else {
              problems.add(at + ".split." + k + ": must be a whole percentage");
            }
          });
    } else if (sn != null) {
      problems.add(at + ".split: must be a map of variant names to percentages");
    }
    Object name = m.get("name");
    Object variant = m.get("variant");
    return new Flag.Rule(
        name == null ? fallback : String.valueOf(name),
        when,
        variant == null ? null : String.valueOf(variant),
        split);
  }

  private static void condition(
      Object c, String at, List<String> problems, List<Flag.Condition> out) {
    if (!(c instanceof Map<?, ?> m)) {
      problems.add(at + ": must be a map {attribute, op, values}");
      return;
    }
    Flag.Condition.Op op = null;
    for (Flag.Condition.Op o : Flag.Condition.Op.values()) {
      if (o.wire().equals(String.valueOf(m.get("op")))) {
        op = o;
      }
    }
    if (op == null) {
      problems.add(
          at
              + ".op: '"
              + m.get("op")
              + "' is not one of in, notIn, startsWith, endsWith, matches, lt, lte, gt, gte,"
              + " exists");
      return;
    }
    if (!(m.get("attribute") instanceof String attribute)) {
      problems.add(at + ".attribute: required (a context attribute, e.g. email)");
      return;
    }
    List<String> values = new ArrayList<>();
    Object vs = m.get("values");
    if (vs instanceof List<?> vl) {
      vl.forEach(v -> values.add(String.valueOf(v)));
    } else if (vs != null) {
      values.add(String.valueOf(vs));
    }
    out.add(new Flag.Condition(attribute, op, values));
  }
}
