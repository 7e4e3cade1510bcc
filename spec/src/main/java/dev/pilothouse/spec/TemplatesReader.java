package dev.pilothouse.spec;

import dev.pilothouse.core.spec.AnalysisTemplate;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The top-level {@code analysisTemplates:} (name to {@code {args, metrics}}, as Argo's
 * AnalysisTemplate) and their uses in canary steps ({@code - analysis: {template: NAME, args:
 * {...}}}).
 */
final class TemplatesReader extends SectionReader {
  /** At most this many metrics and arguments per template. */
  static final int MAX_ENTRIES = 20;

  TemplatesReader(SectionReader parent) {
    super(parent);
  }

  /** Reads every template into the shared map. */
  void templates(Node node, String path) {
    named(
        node,
        path,
        "template",
        TEMPLATE,
        "write e.g. 'error-ratio: {metrics: [{name: errors, promql: ...}]}'",
        this::template);
  }

  private void template(String name, Fields tf) {
    Map<String, String> args = args(tf);
    Map<String, String> examples = new LinkedHashMap<>();
    AnalysisTemplate.BUILT_IN.forEach(b -> examples.put(b, "1"));
    args.forEach((k, v) -> examples.put(k, v)); // a required argument: checked where used
    List<AnalysisTemplate.Metric> metrics = new ArrayList<>();
    if (tf.require("metrics", "give at least one metric, e.g. '- {name: errors, promql: ...}'")
        .isPresent()) {
      List<Fields> all =
          objects(
              tf,
              "metrics",
              TEMPLATE_METRIC,
              "write e.g. '- {name: errors, promql: ...}'",
              MAX_ENTRIES);
      for (int i = 0; i < all.size(); i++) {
        metric(all.get(i), i, examples, args.keySet()).ifPresent(metrics::add);
      }
    }
    templates.put(name, new AnalysisTemplate(name, args, metrics));
  }

  /** Declared arguments, name to default (null: the use must give it). */
  private Map<String, String> args(Fields tf) {
    Map<String, String> args = new LinkedHashMap<>();
    List<Fields> all =
        objects(
            tf, "args", TEMPLATE_ARG, "write e.g. '- {name: max, value: \"0.05\"}'", MAX_ENTRIES);
    for (Fields af : all) {
      Optional<String> name =
          af.require("name", "give the argument's name, e.g. 'name: max'")
              .flatMap(n -> af.string("name"));
      if (name.isEmpty()) {
        continue;
      }
      if (AnalysisTemplate.BUILT_IN.contains(name.get())) {
        problems.at(
            af.get("name").orElseThrow(),
            af.join("name"),
            "'" + name.get() + "' is given by every rollout",
            "use it as {{args." + name.get() + "}} without declaring it");
      } else if (args.containsKey(name.get())) {
        problems.at(af.get("name").orElseThrow(), af.join("name"), "declared twice", "keep one");
      }
      args.put(name.get(), af.string("value").orElse(null));
    }
    return args;
  }

  private Optional<AnalysisTemplate.Metric> metric(
      Fields mf, int i, Map<String, String> examples, java.util.Set<String> declared) {
    Optional<Strategy.Check> check = check(mf, i, examples);
    if (check.isEmpty()) {
      return Optional.empty();
    }
    for (String ref : AnalysisTemplate.references(check.get().target())) {
      if (!declared.contains(ref) && !AnalysisTemplate.BUILT_IN.contains(ref)) {
        String field = check.get().kind();
        problems.at(
            mf.get(field).orElseThrow(),
            mf.join(field),
            "refers to {{args." + ref + "}}, which the template does not declare",
            "declare it under 'args:', or use one of service, canaryVersion, stableVersion");
      }
    }
    int count = mf.integer("count", 1, 10_000).map(Long::intValue).orElse(1);
    return Optional.of(
        new AnalysisTemplate.Metric(
            check.get().name(),
            check.get().kind(),
            check.get().target(),
            duration(mf, "interval", Duration.ofSeconds(30), false),
            count,
            mf.integer("failureLimit", 0, 10_000).map(Long::intValue).orElse(0),
            mf.integer("inconclusiveLimit", 0, 10_000).map(Long::intValue).orElse(0),
            check.get().timeout()));
  }

  /** A step's use of a template, {template, args}, bound to its arguments. */
  Optional<AnalysisTemplate.Use> use(Node node, String path) {
    if (!(node instanceof Node.MapNode m)) {
      return Optional.empty();
    }
    Fields uf = new Fields(m, path, problems, TEMPLATE_USE);
    Optional<String> name =
        uf.require("template", "name one of the spec's analysisTemplates")
            .flatMap(n -> uf.string("template"));
    if (name.isEmpty()) {
      return Optional.empty();
    }
    AnalysisTemplate t = templates.get(name.get());
    if (t == null) {
      problems.at(
          uf.get("template").orElseThrow(),
          uf.join("template"),
          "no analysis template named '" + name.get() + "'",
          templates.isEmpty()
              ? "declare it under the top-level 'analysisTemplates:'"
              : Suggest.nearest(name.get(), List.copyOf(templates.keySet()))
                  .map(s -> "did you mean '" + s + "'?")
                  .orElse("the spec declares " + String.join(", ", templates.keySet())));
      return Optional.empty();
    }
    Map<String, String> given = new LinkedHashMap<>();
    Optional<Node> an = uf.get("args");
    if (an.isPresent()) {
      if (!(an.get() instanceof Node.MapNode am)) {
        problems.at(
            an.get(), uf.join("args"), "must be a map", "write e.g. 'args: {max: \"0.02\"}'");
        return Optional.empty();
      }
      for (Node.Entry e : am.entries().values()) {
        if (!(e.value() instanceof Node.Scalar sc) || sc.type() == Node.Scalar.Type.NULL) {
          problems.at(
              e.value(), uf.join("args") + "." + e.key(), "must be a value", "write e.g. '0.02'");
          continue;
        }
        given.put(e.key(), sc.text());
      }
    }
    AnalysisTemplate.Use use;
    try {
      use = t.bind(given);
    } catch (IllegalArgumentException e) {
      problems.at(
          an.orElse(uf.get("template").orElseThrow()),
          uf.join("args"),
          e.getMessage(),
          "give each argument the template declares without a value");
      return Optional.empty();
    }
    Map<String, String> builtIns = new LinkedHashMap<>();
    AnalysisTemplate.BUILT_IN.forEach(b -> builtIns.put(b, "1"));
    for (AnalysisTemplate.Metric metric : use.metrics()) {
      String wrong =
          metric.kind().equals("promql")
              ? promql.problem(AnalysisTemplate.fill(metric.target(), builtIns))
              : null;
      if (wrong != null) {
        problems.at(
            an.orElse(uf.get("template").orElseThrow()),
            uf.join("args"),
            "with these arguments, metric '" + metric.name() + "' is invalid PromQL: " + wrong,
            "give values that fit where the template uses them");
      }
    }
    return Optional.of(use);
  }
}
