package dev.pilothouse.flags;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.flags.Flag;
import dev.pilothouse.core.flags.FlagReader;
import java.util.List;

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
   * that does not exist, a bad regular expression) is reported at once, naming its field.
   */
  public static Flag read(String key, JsonNode n) {
    FlagReader.Result r =
        FlagReader.read(key, n == null ? null : JSON.convertValue(n, Object.class));
    if (r.flag() == null) {
      throw new Flags.InvalidFlagException(key, r.problems());
    }
    List<String> more = Flags.problems(r.flag());
    if (!more.isEmpty()) {
      throw new Flags.InvalidFlagException(key, more);
    }
    return r.flag();
  }
}
