package dev.pilothouse.flags;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.flags.FlagRollout;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gradual flag change as the API and the CLI write it: {@code {"to": "on", "steps": [1, 10, 50,
 * 100], "every": "10m", "checks": [{"name": "errors", "promql": "…"}]}} to start one; the rollout's
 * state with {@code phase}, {@code percent}, {@code reason} and the checks' latest {@code
 * verdicts}.
 */
public final class FlagRolloutJson {
  private FlagRolloutJson() {}

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
  private static final Set<String> FIELDS = Set.of("to", "steps", "every", "checks");
  private static final Set<String> CHECK_FIELDS =
      Set.of("name", "promql", "webhook", "command", "timeout");

  /** What a start asks for. */
  public record Plan(String to, List<Integer> steps, Duration every, List<Strategy.Check> checks) {}

  /**
   * Reads a start request; every problem is reported at once, naming its field.
   *
   * @param promqlProblem what is wrong with a PromQL expression, or null
   */
  public static Plan read(String key, JsonNode n, UnaryOperator<String> promqlProblem) {
    List<String> problems = new ArrayList<>();
    if (n == null || !n.isObject()) {
      throw new Flags.InvalidFlagException(
          key,
          List.of("(body): send {\"to\": VARIANT, \"steps\": [1, 10, 100], \"every\": \"10m\"}"));
    }
    n.fieldNames()
        .forEachRemaining(
            f -> {
              if (!FIELDS.contains(f)) {
                problems.add(f + ": unknown field; known: to, steps, every, checks");
              }
            });
    String to = n.path("to").asText("");
    if (to.isEmpty()) {
      problems.add("to: give the variant users move to");
    }
    List<Integer> steps = new ArrayList<>();
    JsonNode sn = n.path("steps");
    if (!sn.isArray()) {
      problems.add("steps: give a list of percentages, e.g. [1, 10, 50, 100]");
    } else {
      for (int i = 0; i < sn.size(); i++) {
        if (!sn.get(i).canConvertToInt() || !sn.get(i).isIntegralNumber()) {
          problems.add("steps[" + i + "]: must be a whole percentage");
        } else {
          steps.add(sn.get(i).asInt());
        }
      }
    }
    Duration every = duration(n.path("every").asText("10m"), "every", problems);
    List<Strategy.Check> checks = new ArrayList<>();
    JsonNode cn = n.path("checks");
    if (!cn.isMissingNode() && !cn.isArray()) {
      problems.add("checks: must be a list");
    }
    for (int i = 0; cn.isArray() && i < cn.size(); i++) {
      check(cn.get(i), "checks[" + i + "]", i, promqlProblem, problems).ifPresent(checks::add);
    }
    if (steps.isEmpty() && sn.isArray()) {
      problems.add("steps: give at least one percentage");
    }
    if (problems.isEmpty()) {
      problems.addAll(FlagRollout.problems(steps, every, checks.size()));
    }
    if (!problems.isEmpty()) {
      throw new Flags.InvalidFlagException(key, problems);
    }
    return new Plan(to, steps, every, checks);
  }

  private static java.util.Optional<Strategy.Check> check(
      JsonNode c, String at, int i, UnaryOperator<String> promqlProblem, List<String> problems) {
    if (!c.isObject()) {
      problems.add(at + ": must be an object, e.g. {\"name\": \"errors\", \"promql\": \"…\"}");
      return java.util.Optional.empty();
    }
    c.fieldNames()
        .forEachRemaining(
            f -> {
              if (!CHECK_FIELDS.contains(f)) {
                problems.add(at + "." + f + ": unknown field");
              }
            });
    List<String> kinds =
        List.of("promql", "webhook", "command").stream().filter(c::hasNonNull).toList();
    if (kinds.size() != 1) {
      problems.add(at + ": give exactly one of promql, webhook or command");
      return java.util.Optional.empty();
    }
    String kind = kinds.get(0);
    String target = c.path(kind).asText("");
    if (kind.equals("promql")) {
      String wrong = promqlProblem.apply(target);
      if (wrong != null) {
        problems.add(at + ".promql: invalid PromQL: " + wrong);
      }
    } else if (kind.equals("webhook")
        && !target.startsWith("http://")
        && !target.startsWith("https://")) {
      problems.add(at + ".webhook: must be an http:// or https:// URL");
    }
    Duration timeout = duration(c.path("timeout").asText("30s"), at + ".timeout", problems);
    return java.util.Optional.of(
        new Strategy.Check(c.path("name").asText(kind + "-" + (i + 1)), kind, target, timeout));
  }

  private static Duration duration(String text, String field, List<String> problems) {
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      problems.add(field + ": '" + text + "' is not a duration; write e.g. 30s, 10m, 2h, 1d");
      return Duration.ofMinutes(10);
    }
    long v = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(v);
      case "s" -> Duration.ofSeconds(v);
      case "m" -> Duration.ofMinutes(v);
      case "h" -> Duration.ofHours(v);
      default -> Duration.ofDays(v);
    };
  }

  /** A rollout's state. */
  public static ObjectNode write(FlagRollout r) {
    ObjectNode o = FlagJson.JSON.createObjectNode();
    o.put("key", r.key());
    o.put("phase", r.phase().wire());
    o.put("from", r.from());
    o.put("to", r.to());
    o.put("percent", r.percent());
    ArrayNode steps = o.putArray("steps");
    r.steps().forEach(steps::add);
    o.put("step", r.step());
    o.put("every", r.every().toSeconds() + "s");
    o.put("startedAt", r.startedAt().toString());
    o.put("stepStartedAt", r.stepStartedAt().toString());
    o.put("reason", r.reason());
    o.put("source", r.source());
    ArrayNode checks = o.putArray("checks");
    for (Strategy.Check c : r.checks()) {
      checks.addObject().put("name", c.name()).put(c.kind(), c.target());
    }
    ArrayNode verdicts = o.putArray("verdicts");
    for (Verdict v : r.verdicts()) {
      ObjectNode vn = verdicts.addObject();
      vn.put("metric", v.metric());
      vn.put("outcome", v.outcome().wire());
      if (!Double.isNaN(v.effect())) {
        vn.put("value", v.effect());
      }
      vn.put("reason", v.reason());
    }
    return o;
  }
}
