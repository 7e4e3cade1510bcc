package dev.pilothouse.flags;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.flags.Flag;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A flag as the API and the CLI write it — the same names as the spec's {@code flags:} section:
 * {@code {"type": "boolean", "variants": {"on": true, "off": false}, "default": "off", "enabled":
 * true, "rules": [{"name": "staff", "when": [{"attribute": "email", "op": "endsWith", "values":
 * ["@example.com"]}], "variant": "on"}, {"name": "rollout", "split": {"on": 10, "off": 90}}]}}.
 */
public final class FlagJson {
  private FlagJson() {}

  static final ObjectMapper JSON = new ObjectMapper();

  /** The flag as JSON. */
  public static ObjectNode write(Flag f) {
    ObjectNode o = JSON.createObjectNode();
    o.put("key", f.key());
    o.put("type", f.type().wire());
    o.set("variants", JSON.valueToTree(f.variants()));
    o.put("default", f.defaultVariant());
    o.put("offVariant", f.offVariant());
    o.put("enabled", f.enabled());
    o.put("description", f.description());
    ArrayNode rules = o.putArray("rules");
    for (Flag.Rule r : f.rules()) {
      ObjectNode rn = rules.addObject();
      rn.put("name", r.name());
      ArrayNode when = rn.putArray("when");
      for (Flag.Condition c : r.when()) {
        ObjectNode cn = when.addObject();
        cn.put("attribute", c.attribute());
        cn.put("op", c.op().wire());
        ArrayNode values = cn.putArray("values");
        c.values().forEach(values::add);
      }
      if (r.variant() != null) {
        rn.put("variant", r.variant());
      } else {
        rn.set("split", JSON.valueToTree(r.split()));
      }
    }
    return o;
  }

  /**
   * Reads a flag named key from JSON; every problem (a wrong type, an unknown operator, a variant
   * that does not exist) is reported at once, naming its field.
   */
  public static Flag read(String key, JsonNode n) {
    List<String> problems = new ArrayList<>();
    if (n == null || !n.isObject()) {
      throw new Flags.InvalidFlagException(key, List.of("(body): must be a JSON object"));
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!List.of(
              "key", "type", "variants", "default", "offVariant", "enabled", "description", "rules")
          .contains(f)) {
        problems.add(f + ": unknown field");
      }
    }
    Flag.Type type = Flag.Type.BOOLEAN;
    if (n.has("type")) {
      try {
        type = Flag.Type.valueOf(n.get("type").asText().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problems.add("type: must be boolean, string, number or object");
      }
    }
    Map<String, Object> variants = new LinkedHashMap<>();
    if (n.has("variants")) {
      if (!n.get("variants").isObject()) {
        problems.add("variants: must be an object of variant names to values");
      } else {
        n.get("variants")
            .fields()
            .forEachRemaining(
                e -> variants.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
      }
    } else if (type == Flag.Type.BOOLEAN) {
      variants.put("on", true);
      variants.put("off", false);
    } else {
      problems.add("variants: required for a " + type.wire() + " flag");
    }
    String dflt = text(n, "default", type == Flag.Type.BOOLEAN ? "off" : null, problems);
    String off = text(n, "offVariant", null, problems);
    boolean enabled = true;
    if (n.has("enabled")) {
      if (!n.get("enabled").isBoolean()) {
        problems.add("enabled: must be true or false");
      } else {
        enabled = n.get("enabled").asBoolean();
      }
    }
    List<Flag.Rule> rules = new ArrayList<>();
    JsonNode rn = n.get("rules");
    if (rn != null && !rn.isArray()) {
      problems.add("rules: must be a list");
    } else if (rn != null) {
      for (int i = 0; i < rn.size(); i++) {
        rules.add(rule(rn.get(i), "rules[" + i + "]", i, problems));
      }
    }
    if (dflt == null) {
      problems.add("default: required (the variant served when no rule matches)");
      dflt = variants.keySet().stream().findFirst().orElse("");
    }
    if (!problems.isEmpty()) {
      throw new Flags.InvalidFlagException(key, problems);
    }
    Flag f =
        new Flag(
            key,
            type,
            variants,
            dflt,
            off,
            enabled,
            rules,
            n.has("description") ? n.get("description").asText() : "");
    List<String> more = Flags.problems(f);
    if (!more.isEmpty()) {
      throw new Flags.InvalidFlagException(key, more);
    }
    return f;
  }

  private static String text(JsonNode n, String field, String dflt, List<String> problems) {
    if (!n.has(field)) {
      return dflt;
    }
    if (!n.get(field).isTextual()) {
      problems.add(field + ": must be a variant name (text)");
      return dflt;
    }
    return n.get(field).asText();
  }

  private static Flag.Rule rule(JsonNode r, String at, int index, List<String> problems) {
    if (r == null || !r.isObject()) {
      problems.add(at + ": must be an object");
      return new Flag.Rule("rule-" + (index + 1), List.of(), null, Map.of("", 100));
    }
    List<Flag.Condition> when = new ArrayList<>();
    JsonNode wn = r.get("when");
    if (wn != null && !wn.isArray()) {
      problems.add(at + ".when: must be a list of conditions");
    } else if (wn != null) {
      for (int j = 0; j < wn.size(); j++) {
        JsonNode c = wn.get(j);
        String cat = at + ".when[" + j + "]";
        Flag.Condition.Op op = null;
        for (Flag.Condition.Op o : Flag.Condition.Op.values()) {
          if (o.wire().equals(c.path("op").asText())) {
            op = o;
          }
        }
        if (op == null) {
          problems.add(
              cat
                  + ".op: '"
                  + c.path("op").asText()
                  + "' is not one of in, notIn, startsWith, endsWith, matches, lt, lte, gt, gte,"
                  + " exists");
          continue;
        }
        if (!c.path("attribute").isTextual()) {
          problems.add(cat + ".attribute: required (a context attribute, e.g. email)");
          continue;
        }
        List<String> values = new ArrayList<>();
        c.path("values").forEach(v -> values.add(v.asText()));
        when.add(new Flag.Condition(c.get("attribute").asText(), op, values));
      }
    }
    Map<String, Integer> split = new LinkedHashMap<>();
    JsonNode sn = r.get("split");
    if (sn != null) {
      if (!sn.isObject()) {
        problems.add(at + ".split: must be an object of variant names to percentages");
      } else {
        sn.fields()
            .forEachRemaining(
                e -> {
                  if (!e.getValue().canConvertToInt()) {
                    problems.add(at + ".split." + e.getKey() + ": must be a whole percentage");
                  } else {
                    split.put(e.getKey(), e.getValue().asInt());
                  }
                });
      }
    }
    String variant = r.hasNonNull("variant") ? r.get("variant").asText() : null;
    return new Flag.Rule(r.path("name").asText("rule-" + (index + 1)), when, variant, split);
  }
}
