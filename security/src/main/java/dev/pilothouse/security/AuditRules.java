package dev.pilothouse.security;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Host audit rules as data: a YAML file of {@code rules:}, each with an id, a CIS reference, a
 * level, an area, an impact, a rationale, a check and a fix (or a manual how-to). Read with every
 * problem named by file and line.
 */
public final class AuditRules {
  /** A rule file that cannot be used: every problem, each with file:line. */
  public static final class RuleFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final List<String> problems;

    RuleFileException(List<String> problems) {
      super(String.join("\n", problems));
      this.problems = List.copyOf(problems);
    }
  }

  /** One rule. check and fix are flat maps of text, validated when the rule is read. */
  public record Rule(
      String id,
      String cis,
      String title,
      int level,
      String area,
      String impact,
      List<String> lynis,
      String rationale,
      Map<String, String> check,
      Map<String, String> fix,
      String manual,
      String source) {}

  /** What each check type needs, and the fixes it has. */
  static final Map<String, List<String>> CHECKS =
      Map.ofEntries(
          Map.entry("file-mode", List.of("path", "mode")),
          Map.entry("sysctl", List.of("key", "op", "value")),
          Map.entry("mount", List.of("mount")),
          Map.entry("package", List.of("name", "state")),
          Map.entry("service", List.of("unit", "state")),
          Map.entry("sshd", List.of("key", "op", "value")),
          Map.entry("config", List.of("path", "key", "op", "value")),
          Map.entry("contains", List.of("path", "pattern")),
          Map.entry("accounts", List.of("rule")),
          Map.entry("process", List.of("name")),
          Map.entry("pilothouse", List.of("rule")));

  static final Map<String, String> FIXES =
      Map.of("chmod", "file-mode", "sysctl", "sysctl", "sshd", "sshd", "config", "config");

  static final Set<String> OPS = Set.of("eq", "ne", "le", "ge", "in");
  static final Set<String> IMPACTS = Set.of("high", "medium", "low");
  static final int MAX_BYTES = 1 << 20;
  static final int MAX_RULES = 2000;

  private AuditRules() {}

  /** The rules shipped with Pilothouse (CIS Debian Linux 12, levels 1 and 2). */
  public static List<Rule> builtin() {
    try (InputStream in =
        AuditRules.class.getResourceAsStream("/dev/pilothouse/security/audit/cis-debian12.yaml")) {
      return read("cis-debian12.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("the built-in audit rules are missing", e);
    }
  }

  /**
   * The built-in rules plus those of every {@code *.yaml} in dir (a user's own; none when dir does
   * not exist).
   *
   * @throws RuleFileException naming every problem of every file with file:line
   */
  public static List<Rule> withDirectory(java.nio.file.Path dir) {
    List<Rule> rules = new ArrayList<>(builtin());
    if (!java.nio.file.Files.isDirectory(dir)) {
      return rules;
    }
    List<String> problems = new ArrayList<>();
    try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(dir)) {
      for (java.nio.file.Path f : s.filter(x -> x.toString().endsWith(".yaml")).sorted().toList()) {
        try {
          rules.addAll(
              read(f.toString(), java.nio.file.Files.readString(f, StandardCharsets.UTF_8)));
        } catch (RuleFileException e) {
          problems.addAll(e.problems);
        }
      }
    } catch (IOException e) {
      problems.add(dir + ": cannot be read: " + e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new RuleFileException(problems);
    }
    return rules;
  }

  /**
   * The rules of a file's text.
   *
   * @throws RuleFileException naming every problem with file:line
   */
  public static List<Rule> read(String file, String text) {
    List<String> problems = new ArrayList<>();
    List<Rule> rules = new ArrayList<>();
    if (text.length() > MAX_BYTES) {
      throw new RuleFileException(List.of(file + ":1: larger than 1 MiB; split it"));
    }
    ObjectMapper m = new ObjectMapper(new YAMLFactory());
    try (JsonParser p = m.getFactory().createParser(text)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new RuleFileException(List.of(file + ":1: must be a map with 'rules:'"));
      }
      boolean found = false;
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (!name.equals("rules")) {
          problems.add(
              at(file, p.currentLocation()) + "unknown field '" + name + "'; only 'rules'");
          p.skipChildren();
          continue;
        }
        found = true;
        if (t != JsonToken.START_ARRAY) {
          problems.add(at(file, p.currentLocation()) + "'rules' must be a list of rules");
          p.skipChildren();
          continue;
        }
        Set<String> ids = new HashSet<>();
        while (p.nextToken() == JsonToken.START_OBJECT) {
          JsonLocation where = p.currentLocation();
          JsonNode n = m.readTree(p);
          if (rules.size() >= MAX_RULES) {
            problems.add(at(file, where) + "more than " + MAX_RULES + " rules");
            break;
          }
          Rule r = rule(file, where, n, problems);
          if (r != null && !ids.add(r.id())) {
            problems.add(at(file, where) + "rule id '" + r.id() + "' is used twice");
          } else if (r != null) {
            rules.add(r);
          }
        }
      }
      if (!found) {
        problems.add(file + ":1: no 'rules:' list");
      }
    } catch (JsonProcessingException e) {
      JsonLocation l = e.getLocation();
      problems.add(
          file
              + ":"
              + (l == null ? 1 : l.getLineNr())
              + ":"
              + (l == null ? 1 : l.getColumnNr())
              + ": not valid YAML: "
              + e.getOriginalMessage());
    } catch (IOException e) {
      problems.add(file + ": cannot be read: " + e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new RuleFileException(problems);
    }
    return List.copyOf(rules);
  }

  private static Rule rule(String file, JsonLocation where, JsonNode n, List<String> problems) {
    String at = at(file, where);
    int before = problems.size();
    String id = text(n, "id");
    String prefix = at + "rule '" + (id == null ? "?" : id) + "': ";
    for (String f : List.of("id", "title", "area", "rationale")) {
      if (text(n, f) == null) {
        problems.add(prefix + "'" + f + "' is missing");
      }
    }
    if (id != null && !id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      problems.add(prefix + "the id must be letters, digits, '.', '_' and '-'");
    }
    int level = n.path("level").asInt(0);
    if (level != 1 && level != 2) {
      problems.add(prefix + "'level' must be 1 or 2");
    }
    String impact = n.path("impact").asText("medium");
    if (!IMPACTS.contains(impact)) {
      problems.add(prefix + "'impact' must be high, medium or low, not '" + impact + "'");
    }
    Map<String, String> check = flat(n.path("check"));
    String type = check.get("type");
    if (type == null || !CHECKS.containsKey(type)) {
      problems.add(
          prefix
              + (type == null ? "'check.type' is missing" : "unknown check type '" + type + "'")
              + "; known: "
              + String.join(", ", new java.util.TreeSet<>(CHECKS.keySet())));
    } else {
      for (String req : CHECKS.get(type)) {
        if (!check.containsKey(req)) {
          problems.add(prefix + "a " + type + " check needs '" + req + "'");
        }
      }
      String op = check.get("op");
      if (op != null && !OPS.contains(op)) {
        problems.add(prefix + "unknown op '" + op + "'; known: eq, ne, le, ge, in");
      }
      if (type.equals("contains")) {
        try {
          java.util.regex.Pattern.compile(check.getOrDefault("pattern", ""));
        } catch (java.util.regex.PatternSyntaxException e) {
          problems.add(
              prefix + "'check.pattern' is not a regular expression: " + e.getDescription());
        }
      }
    }
    Map<String, String> fix = flat(n.path("fix"));
    if (!fix.isEmpty()) {
      String ft = fix.get("type");
      if (ft == null || !FIXES.containsKey(ft)) {
        problems.add(prefix + "unknown fix type '" + ft + "'; known: chmod, sysctl, sshd, config");
      } else if (type != null && !FIXES.get(ft).equals(type)) {
        problems.add(prefix + "a " + ft + " fix does not fit a " + type + " check");
      }
    }
    if (fix.isEmpty() && text(n, "manual") == null) {
      problems.add(prefix + "give a 'fix' or a 'manual' how-to");
    }
    if (problems.size() != before) {
      return null;
    }
    List<String> lynis = new ArrayList<>();
    n.path("lynis").forEach(x -> lynis.add(x.asText()));
    return new Rule(
        id,
        n.path("cis").asText("-"),
        text(n, "title"),
        level,
        text(n, "area"),
        impact,
        List.copyOf(lynis),
        text(n, "rationale"),
        check,
        fix,
        text(n, "manual"),
        at.substring(0, at.length() - 2));
  }

  private static String at(String file, JsonLocation l) {
    return file + ":" + (l == null ? 1 : l.getLineNr()) + ": ";
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() || v.isContainerNode() ? null : v.asText();
  }

  private static Map<String, String> flat(JsonNode n) {
    Map<String, String> out = new LinkedHashMap<>();
    if (n != null && n.isObject()) {
      n.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
    }
    return out;
  }
}
