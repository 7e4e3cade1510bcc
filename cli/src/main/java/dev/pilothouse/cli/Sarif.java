package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** A SARIF 2.1.0 log of one run of one tool, as code-scanning dashboards read it. */
final class Sarif {
  final ObjectNode root = Output.JSON.createObjectNode();
  final ArrayNode rules;
  final ArrayNode results;

  Sarif(String tool) {
    root.put("$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    root.put("version", "2.1.0");
    ObjectNode run = root.putArray("runs").addObject();
    ObjectNode driver = run.putObject("tool").putObject("driver");
    driver.put("name", tool);
    rules = driver.putArray("rules");
    results = run.putArray("results");
  }

  /** A rule with its short description and security-severity (0.0 to 10.0, as text). */
  ObjectNode rule(String id, String description, String securitySeverity) {
    ObjectNode r = rules.addObject();
    r.put("id", id);
    r.putObject("shortDescription").put("text", description);
    r.putObject("properties").put("security-severity", securitySeverity);
    return r;
  }

  /** A result of a rule: level error or warning, and its message. */
  ObjectNode result(String ruleId, String level, String message) {
    ObjectNode r = results.addObject();
    r.put("ruleId", ruleId);
    r.put("level", level);
    r.putObject("message").put("text", message);
    return r;
  }
}
