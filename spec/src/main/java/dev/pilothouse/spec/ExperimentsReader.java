package dev.pilothouse.spec;

import dev.pilothouse.core.spec.ExperimentSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The top-level {@code experiments:}: A/B tests of routed services (docs/experiments.md). */
final class ExperimentsReader extends SectionReader {
  static final List<String> EXPERIMENT =
      List.of("service", "variants", "assignBy", "duration", "minSamples", "metrics");
  static final List<String> VARIANT = List.of("name", "weight", "version", "env");
  static final List<String> ASSIGN = List.of("header", "cookie");
  static final List<String> METRIC = List.of("name", "promql");

  /** Bounds on one experiment (each variant runs instances; each metric is queried every 5 s). */
  static final int MAX_VARIANTS = 10;

  static final int MAX_METRICS = 10;

  ExperimentsReader(SectionReader parent) {
    super(parent);
  }

  List<ExperimentSpec> experiments(Node node, String path, List<ServiceSpec> services) {
    List<ExperimentSpec> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    services.forEach(s -> names.add(s.name()));
    Set<String> tested = new HashSet<>();
    named(
        node,
        path,
        "experiment",
        EXPERIMENT,
        "write e.g. 'checkout-button: {service: shop, variants: [...]}' (docs/experiments.md)",
        (name, f) -> experiment(name, f, services, names, tested).ifPresent(out::add));
    return out;
  }

  private Optional<ExperimentSpec> experiment(
      String name, Fields f, List<ServiceSpec> services, Set<String> names, Set<String> tested) {
    Optional<String> service =
        f.require("service", "name the routed service whose traffic is split, e.g. 'service: shop'")
            .flatMap(n -> f.string("service"));
    if (service.isEmpty()) {
      return Optional.empty();
    }
    Optional<ServiceSpec> s =
        services.stream().filter(x -> x.name().equals(service.get())).findFirst();
    if (s.isEmpty() || s.get().route() == null) {
      problems.at(
          f.get("service").orElseThrow(),
          f.join("service"),
          s.isEmpty()
              ? "no service named '" + service.get() + "'"
              : "service '" + service.get() + "' has no route, so there is no traffic to split",
          s.isEmpty() ? "name a service of this spec" : "give it a 'route:'");
      return Optional.empty();
    }
    if (!tested.add(service.get())) {
      problems.at(
          f.get("service").orElseThrow(),
          f.join("service"),
          "another experiment already tests '" + service.get() + "'",
          "run one experiment per service at a time");
    }
    List<ExperimentSpec.Variant> variants = new ArrayList<>();
    List<Fields> vf =
        objects(f, "variants", VARIANT, "write e.g. '- {name: control, weight: 50}'", MAX_VARIANTS);
    int controls = 0;
    int total = 0;
    Set<String> seen = new HashSet<>();
    for (Fields v : vf) {
      String vn =
          v.require("name", "give the variant a name, e.g. 'name: green'").isPresent()
              ? v.string("name").orElse("")
              : "";
      if (!vn.isEmpty() && (!NAME.matcher(vn).matches() || !seen.add(vn))) {
        problems.at(
            v.get("name").orElseThrow(),
            v.join("name"),
            seen.contains(vn) && NAME.matcher(vn).matches()
                ? "variant '" + vn + "' is declared twice"
                : "invalid variant name '" + vn + "'",
            "use lowercase letters, digits and '-', each name once");
      }
      int weight = v.integer("weight", 0, 100).map(Long::intValue).orElse(0);
      total += weight;
      String version = v.string("version").orElse(null);
      if (version == null) {
        controls++;
      } else {
        String derived = service.get() + "--" + vn;
        if (names.contains(derived) || derived.length() > 63) {
          problems.at(
              v.get("name").orElseThrow(),
              v.join("name"),
              names.contains(derived)
                  ? "the variant runs as service '" + derived + "', which the spec declares"
                  : "the variant's service name '" + derived + "' is longer than 63 characters",
              "choose another variant name");
        }
      }
      Map<String, String> env = new ServiceReader(this).env(v, null); // as a service's env
      variants.add(new ExperimentSpec.Variant(vn, weight, version, env));
    }
    if (!vf.isEmpty() && controls != 1) {
      problems.at(
          f.get("variants").orElseThrow(),
          f.join("variants"),
          controls == 0
              ? "no control: every variant has a version"
              : controls + " variants have no version; only the control may leave it out",
          "leave 'version' out of exactly one variant (the service as declared)");
    }
    if (!vf.isEmpty() && vf.size() < 2) {
      problems.at(
          f.get("variants").orElseThrow(),
          f.join("variants"),
          "an experiment needs at least two variants",
          "add the variant to compare with the control");
    }
    if (!vf.isEmpty() && total != 100) {
      problems.at(
          f.get("variants").orElseThrow(),
          f.join("variants"),
          "the variants' weights add up to " + total + ", not 100",
          "give weights that add up to 100, e.g. 50 and 50");
    }
    String assignBy = "";
    Optional<Fields> af = f.object("assignBy", ASSIGN);
    if (af.isPresent()) {
      Fields a = af.get();
      if (a.has("header") == a.has("cookie")) {
        problems.at(
            a.node(),
            a.path(),
            "give exactly one of 'header' or 'cookie'",
            "write e.g. '{header: x-user}'");
      } else {
        assignBy =
            a.has("header")
                ? "header:" + a.string("header").orElse("")
                : "cookie:" + a.string("cookie").orElse("");
      }
    }
    Duration duration = duration(f, "duration", Duration.ZERO, true);
    long minSamples = f.integer("minSamples", 0, 1_000_000_000L).orElse(0L);
    if (duration.isZero() && minSamples == 0) {
      problems.at(
          f.node(),
          f.path(),
          "the experiment would never conclude",
          "give a 'duration' (e.g. 1h), a 'minSamples' per variant (e.g. 1000), or both");
    }
    List<ExperimentSpec.Metric> metrics = new ArrayList<>();
    for (Fields mf :
        objects(
            f, "metrics", METRIC, "write e.g. '- {name: conversion, promql: ...}'", MAX_METRICS)) {
      Optional<String> q =
          mf.require("promql", "give the PromQL expression, e.g. 'promql: sum(increase(...))'")
              .flatMap(n -> mf.string("promql"));
      if (q.isEmpty()) {
        continue;
      }
      String filled =
          q.get()
              .replace("{{service}}", "x")
              .replace("{{version}}", "x")
              .replace("{{window}}", "1m");
      String wrong = promql.problem(filled);
      if (wrong != null) {
        problems.at(
            mf.get("promql").orElseThrow(),
            mf.join("promql"),
            "invalid PromQL: " + wrong,
            "write e.g. sum(increase(orders_total{job=\"{{service}}\"}[{{window}}]))");
      }
      metrics.add(
          new ExperimentSpec.Metric(
              mf.string("name").orElse("metric-" + (metrics.size() + 1)), q.get()));
    }
    return Optional.of(
        new ExperimentSpec(name, service.get(), variants, assignBy, duration, minSamples, metrics));
  }
}
