package dev.pilothouse.spec;

import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;

/**
 * A service's {@code strategy:}: rolling, canary or blue-green, with steps, analysis and smoke
 * tests.
 */
final class StrategyReader extends SectionReader {
  StrategyReader(SectionReader parent) {
    super(parent);
  }

  Strategy strategy(Fields f, int serviceReplicas) {
    String type = f.string("type").orElse("rolling");
    Strategy.Kind kind =
        switch (Fields.norm(type)) {
          case "rolling" -> Strategy.Kind.ROLLING;
          case "canary" -> Strategy.Kind.CANARY;
          case "bluegreen" -> Strategy.Kind.BLUE_GREEN;
          default -> null;
        };
    if (kind == null) {
      problems.at(
          f.get("type").orElseThrow(),
          f.join("type"),
          "unknown strategy '" + type + "'",
          "use rolling, canary or blueGreen");
      return null;
    }
    List<String> notFor =
        switch (kind) {
          case ROLLING ->
              List.of(
                  "canaryReplicas",
                  "steps",
                  "match",
                  "analysis",
                  "smoke",
                  "checks",
                  "load",
                  "sticky",
                  "rollbackWindow",
                  "validation",
                  "maxAnalysisWait",
                  "gates",
                  "mirror",
                  "baseline");
          case CANARY ->
              autoSize(f)
                  ? List.of("maxUnavailable", "rollbackWindow")
                  : List.of("maxSurge", "maxUnavailable", "rollbackWindow");
          case BLUE_GREEN ->
              List.of(
                  "maxSurge",
                  "maxUnavailable",
                  "steps",
                  "sticky",
                  "checks",
                  "load",
                  "maxAnalysisWait",
                  "validation",
                  "mirror",
                  "baseline");
        };
    for (String field : notFor) {
      f.get(field)
          .ifPresent(
              n ->
                  problems.at(
                      n,
                      f.join(field),
                      "'" + field + "' does not apply to a " + kind.wire() + " strategy",
                      kind == Strategy.Kind.BLUE_GREEN && field.equals("validation")
                          ? "a blue-green deploy judges the new set for its 'rollbackWindow';"
                              + " set that instead"
                          : kind == Strategy.Kind.CANARY && field.equals("maxSurge")
                              ? "a canary's maxSurge bounds 'canaryReplicas: auto'; set that,"
                                  + " or remove maxSurge"
                              : "remove it, or choose another strategy type"));
    }
    Strategy.Amount surge = amount(f, "maxSurge", Strategy.Amount.of(1));
    Strategy.Amount unavailable = amount(f, "maxUnavailable", Strategy.Amount.of(0));
    if (kind == Strategy.Kind.ROLLING && surge.value() == 0 && unavailable.value() == 0) {
      problems.at(
          f.get("maxSurge").or(() -> f.get("maxUnavailable")).orElseThrow(),
          f.join("maxSurge"),
          "maxSurge and maxUnavailable are both 0, so no instance could ever be replaced",
          "allow at least one: e.g. 'maxSurge: 1' (start the new one first)");
    }
    List<Strategy.Step> steps =
        new ArrayList<>(
            List.of(
                Strategy.Step.weight(10),
                Strategy.Step.analysis(Duration.ofSeconds(30)),
                Strategy.Step.weight(50),
                Strategy.Step.analysis(Duration.ofSeconds(30))));
    Optional<Node> sn = f.get("steps");
    if (sn.isPresent()) {
      steps.clear();
      if (!(sn.get() instanceof Node.ListNode list) || list.items().isEmpty()) {
        problems.at(
            sn.get(),
            f.join("steps"),
            "must be a non-empty list of steps",
            "write e.g. '- weight: 10' then '- analysis: 30s'");
      } else {
        for (int i = 0; i < list.items().size(); i++) {
          step(list.items().get(i), f.join("steps") + "[" + i + "]").ifPresent(steps::add);
        }
      }
    }
    List<Strategy.MatchRule> match = new ArrayList<>();
    Optional<Node> mn = f.get("match");
    if (mn.isPresent()) {
      if (!(mn.get() instanceof Node.ListNode list)) {
        problems.at(
            mn.get(),
            f.join("match"),
            "must be a list",
            "write e.g. '- {header: x-canary, value: \"1\"}'");
      } else {
        for (int i = 0; i < list.items().size(); i++) {
          Node item = list.items().get(i);
          String path = f.join("match") + "[" + i + "]";
          if (!(item instanceof Node.MapNode m)) {
            problems.at(
                item, path, "must be a map", "write e.g. '{header: x-canary, value: \"1\"}'");
            continue;
          }
          Fields mf = new Fields(m, path, problems, MATCH);
          if (mf.has("header") == mf.has("cookie")) {
            problems.at(
                item,
                path,
                "give exactly one of 'header' or 'cookie'",
                "write e.g. '{cookie: canary, value: yes}'");
            continue;
          }
          String on = mf.has("header") ? "header" : "cookie";
          String name = mf.string(on).orElse("");
          int ops =
              (mf.has("value") ? 1 : 0) + (mf.has("prefix") ? 1 : 0) + (mf.has("regex") ? 1 : 0);
          if (ops > 1) {
            problems.at(
                item,
                path,
                "give at most one of 'value', 'prefix' or 'regex'",
                "write e.g. '{header: x-user, prefix: beta-}'");
            continue;
          }
          String op = mf.has("prefix") ? "prefix" : mf.has("regex") ? "regex" : "exact";
          String value = mf.string(op.equals("exact") ? "value" : op).orElse("*");
          if (op.equals("regex")) {
            try {
              com.google.re2j.Pattern.compile(value);
            } catch (com.google.re2j.PatternSyntaxException e) {
              problems.at(
                  mf.get("regex").orElseThrow(),
                  mf.join("regex"),
                  "invalid regular expression: " + e.getDescription(),
                  "write an RE2 expression matched against the whole value, e.g. '(alice|bob)'");
            }
          }
          match.add(new Strategy.MatchRule(on, name, value, op));
        }
      }
    }
    if (kind == Strategy.Kind.CANARY && f.bool("baseline").orElse(false)) {
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).kind() == Strategy.Step.Kind.WEIGHT && steps.get(i).weight() > 50) {
          problems.at(
              ((Node.ListNode) f.get("steps").orElseThrow()).items().get(i),
              f.join("steps") + "[" + i + "]",
              "with a baseline the canary's weight is at most 50%, but this step gives "
                  + steps.get(i).weight()
                  + "%",
              "the baseline takes as much traffic as the canary; end with e.g. '- weight: 50'"
                  + " (promotion then moves everyone)");
        }
      }
    }
    boolean auto = autoSize(f);
    if (auto && kind == Strategy.Kind.BLUE_GREEN) {
      problems.at(
          f.get("canaryReplicas").orElseThrow(),
          f.join("canaryReplicas"),
          "'auto' applies to a canary only: a blue-green set takes all traffic at once",
          "give a count, or leave it out for as many as the service's replicas");
    }
    int replicas =
        auto
            ? 1
            : f.integer("canaryReplicas", 1, 1000)
                .map(Long::intValue)
                .orElse(kind == Strategy.Kind.BLUE_GREEN ? Math.max(1, serviceReplicas) : 1);
    Strategy.Amount autoSurge = auto ? amount(f, "maxSurge", new Strategy.Amount(100, true)) : null;
    if (autoSurge != null && autoSurge.value() == 0) {
      problems.at(
          f.get("maxSurge").orElseThrow(),
          f.join("maxSurge"),
          "a canary needs at least one instance",
          "write e.g. 'maxSurge: 25%' (at most a quarter of the replicas more) or 'maxSurge: 2'");
    }
    Duration deadline = duration(f, "progressDeadline", Duration.ofMinutes(10), false);
    Duration maxWait = duration(f, "maxAnalysisWait", Duration.ofMinutes(5), true);
    double alpha = 0.05;
    int minRequests = 50;
    double maxErr = 0.01;
    double maxLatMs = 5;
    double maxLatRatio = 0.10;
    Optional<Fields> a = f.object("analysis", ANALYSIS);
    if (a.isPresent()) {
      Fields af = a.get();
      alpha = af.number("alpha", 0.0001, 0.5, true).orElse(alpha);
      minRequests =
          af.integer("minRequests", 1, 10_000_000).map(Long::intValue).orElse(minRequests);
      maxErr = af.number("maxErrorRateIncrease", 0.0, 1.0, true).orElse(maxErr);
      maxLatMs = duration(af, "maxLatencyIncrease", Duration.ofMillis(5), true).toNanos() / 1e6;
      maxLatRatio = af.number("maxLatencyIncreaseRatio", 0.0, 100.0, true).orElse(maxLatRatio);
    }
    List<Strategy.SmokeTest> smoke = new ArrayList<>();
    for (Fields sf : objects(f, "smoke", SMOKE, "write e.g. '- {path: /health, status: 200}'")) {
      String p =
          sf.require("path", "give the request path, e.g. 'path: /health'").isPresent()
              ? sf.string("path").orElse("/")
              : "/";
      if (!p.startsWith("/")) {
        problems.at(
            sf.get("path").orElseThrow(),
            sf.join("path"),
            "must start with '/'",
            "write e.g. /health");
      }
      smoke.add(
          new Strategy.SmokeTest(
              sf.string("method").orElse("GET").toUpperCase(Locale.ROOT),
              p,
              sf.integer("status", 100, 599).map(Long::intValue).orElse(200),
              sf.string("body").orElse(""),
              duration(sf, "maxLatency", Duration.ofSeconds(2), false)));
    }
    List<Strategy.Check> checks = new ArrayList<>();
    List<Fields> checkFields =
        objects(f, "checks", CHECK, "write e.g. '- {name: db, command: ./check-db.sh}'");
    for (int i = 0; i < checkFields.size(); i++) {
      check(checkFields.get(i), i).ifPresent(checks::add);
    }
    Strategy.Load load =
        f.object("load", LOAD)
            .map(
                lf ->
                    new Strategy.Load(
                        lf.number("rate", 0.001, 100_000, true).orElse(10.0),
                        lf.string("path").orElse("/")))
            .orElse(null);
    Duration rollbackWindow = duration(f, "rollbackWindow", Duration.ofMinutes(1), true);
    Duration validation = duration(f, "validation", Duration.ZERO, true);
    Strategy.Analysis analysis =
        new Strategy.Analysis(alpha, minRequests, maxErr, maxLatMs, maxLatRatio);
    List<Strategy.Gate> gates = gates(f);
    Strategy.Mirror mirror =
        f.object("mirror", MIRROR)
            .flatMap(
                mf ->
                    mf.require("percent", "give the share of requests copied, e.g. 'percent: 20'")
                        .flatMap(n -> mf.integer("percent", 1, 100)))
            .map(p -> new Strategy.Mirror(p.intValue()))
            .orElse(null);
    return switch (kind) {
      case ROLLING ->
          surge.value() == 0 && unavailable.value() == 0
              ? Strategy.rolling() // refused above; the spec is not used
              : new Strategy.Rolling(surge, unavailable, deadline);
      case CANARY ->
          new Strategy.Canary(
              steps,
              replicas,
              match,
              f.bool("sticky").orElse(false),
              analysis,
              maxWait,
              checks,
              load,
              smoke,
              validation,
              deadline,
              gates,
              mirror,
              autoSurge != null && autoSurge.value() == 0 ? null : autoSurge,
              f.bool("baseline").orElse(false));
      case BLUE_GREEN ->
          new Strategy.BlueGreen(replicas, match, analysis, smoke, rollbackWindow, deadline, gates);
    };
  }

  /** Whether canaryReplicas is 'auto': the canary's size follows its weight. */
  private static boolean autoSize(Fields f) {
    return f.get("canaryReplicas")
        .filter(n -> n instanceof Node.Scalar sc && sc.text().trim().equalsIgnoreCase("auto"))
        .isPresent();
  }

  /** The strategy's gates: {name, type, url, timeout}, as Flagger's webhooks. */
  private List<Strategy.Gate> gates(Fields f) {
    List<Strategy.Gate> gates = new ArrayList<>();
    List<Fields> all =
        objects(
            f,
            "gates",
            GATE,
            "write e.g. '- {type: confirm-promotion, url: http://127.0.0.1:9000/approve}'");
    for (int i = 0; i < all.size(); i++) {
      Fields gf = all.get(i);
      String type =
          gf.require("type", "give the gate's type, e.g. 'type: confirm-rollout'").isPresent()
              ? gf.string("type").orElse("")
              : "";
      Strategy.Gate.Type t = null;
      for (Strategy.Gate.Type candidate : Strategy.Gate.Type.values()) {
        if (candidate.wire().equals(type)) {
          t = candidate;
        }
      }
      if (t == null && gf.has("type")) {
        problems.at(
            gf.get("type").orElseThrow(),
            gf.join("type"),
            "unknown gate type '" + type + "'",
            "use confirm-rollout, pre-rollout, confirm-traffic-increase, confirm-promotion,"
                + " post-rollout or rollback");
      }
      String url =
          gf.require("url", "give the webhook's URL, e.g. 'url: http://127.0.0.1:9000/approve'")
                  .isPresent()
              ? gf.string("url").orElse("")
              : "";
      if (gf.has("url") && !url.startsWith("http://") && !url.startsWith("https://")) {
        problems.at(
            gf.get("url").orElseThrow(),
            gf.join("url"),
            "must be an http:// or https:// URL",
            "write e.g. http://127.0.0.1:9000/approve");
      }
      if (t != null) {
        gates.add(
            new Strategy.Gate(
                gf.string("name").orElse(t.wire() + "-" + (i + 1)),
                t,
                url,
                duration(gf, "timeout", Duration.ofSeconds(10), false)));
      }
    }
    return gates;
  }

  Strategy.Amount amount(Fields f, String field, Strategy.Amount dflt) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return dflt;
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    Matcher m = AMOUNT.matcher(text);
    if (!m.matches() || (m.group(2) != null && Integer.parseInt(m.group(1)) > 100)) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid amount " + Fields.describe(on.get()),
          "write a count of instances, e.g. 1, or a percentage up to 100%, e.g. 25%");
      return dflt;
    }
    return new Strategy.Amount(Integer.parseInt(m.group(1)), m.group(2) != null);
  }

  Optional<Strategy.Step> step(Node item, String path) {
    if (!(item instanceof Node.MapNode m) || m.entries().size() != 1) {
      problems.at(
          item,
          path,
          "each step is one of 'weight: N', 'pause: DURATION', 'pause: manual', 'analysis: DURATION'"
              + " or 'analysis: {template: NAME, args: {...}}'",
          "write e.g. '- weight: 10'");
      return Optional.empty();
    }
    Fields sf = new Fields(m, path, problems, STEP);
    if (sf.has("weight")) {
      return sf.integer("weight", 0, 100).map(w -> Strategy.Step.weight(w.intValue()));
    }
    if (sf.get("analysis").orElse(null) instanceof Node.MapNode) {
      return new TemplatesReader(this)
          .use(sf.get("analysis").orElseThrow(), sf.join("analysis"))
          .map(Strategy.Step::analysis);
    }
    if (sf.has("analysis")) {
      return Optional.of(
          Strategy.Step.analysis(duration(sf, "analysis", Duration.ofSeconds(30), false)));
    }
    if (sf.has("pause")) {
      Node p = sf.get("pause").orElseThrow();
      if (p instanceof Node.Scalar sc && sc.text().equalsIgnoreCase("manual")) {
        return Optional.of(Strategy.Step.pause(null));
      }
      return Optional.of(Strategy.Step.pause(duration(sf, "pause", Duration.ofSeconds(30), false)));
    }
    return Optional.empty();
  }
}
