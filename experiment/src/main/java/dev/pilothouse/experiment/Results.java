package dev.pilothouse.experiment;

import dev.pilothouse.core.spec.ExperimentSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An experiment's results: each variant's figures and, for each variant other than the control, its
 * effects against the control — error rate, mean latency, and every custom metric per request.
 *
 * @param at the end of the window the figures cover (now, or when the experiment concluded)
 * @param comparisons variant name to metric name to effect
 * @param leader the variant significantly best on the first custom metric without a significantly
 *     higher error rate, or null
 */
public record Results(
    Instant at,
    List<VariantResult> variants,
    Map<String, Map<String, Effect>> comparisons,
    String leader) {

  /** The metric names of comparisons besides the custom ones. */
  public static final String ERROR_RATE = "errorRate";

  public static final String LATENCY = "latencyMeanMs";

  /** Reads the results of e over [from, to] from the metrics store. */
  static Results read(ExperimentSpec e, MetricsQuery q, Instant from, Instant to) {
    long seconds = Math.max(1, Duration.between(from, to).toSeconds());
    String window = seconds + "s";
    List<VariantResult> out = new ArrayList<>();
    for (ExperimentSpec.Variant v : e.variants()) {
      String service = e.serviceOf(v);
      String sel = "{route=\"" + e.service() + "\",service=\"" + service + "\"";
      double requests =
          sum(q, to, "sum(increase(pilothouse_proxy_requests_total" + sel + "}[" + window + "]))");
      double failures =
          sum(
              q,
              to,
              "sum(increase(pilothouse_proxy_requests_total"
                  + sel
                  + ",class=~\"5xx|error\"}["
                  + window
                  + "]))");
      List<MetricsQuery.Sample> buckets =
          q.query(
              "sum by (le) (increase(pilothouse_proxy_request_duration_seconds_bucket"
                  + sel
                  + "}["
                  + window
                  + "]))",
              to);
      double[] latency = Histogram.moments(buckets);
      Map<String, Double> metrics = new LinkedHashMap<>();
      String version = v.version() == null ? "" : v.version();
      for (ExperimentSpec.Metric m : e.metrics()) {
        String expr =
            m.promql()
                .replace("{{service}}", service)
                .replace("{{version}}", version)
                .replace("{{window}}", window);
        metrics.put(m.name(), sum(q, to, expr));
      }
      out.add(
          new VariantResult(
              v.name(),
              service,
              version,
              v.weight(),
              requests,
              failures,
              latency[0],
              latency[1],
              latency[2],
              metrics));
    }
    return compare(e, to, out);
  }

  /** The effects of every variant against the control. */
  static Results compare(ExperimentSpec e, Instant at, List<VariantResult> variants) {
    VariantResult control =
        variants.stream()
            .filter(r -> e.variant(r.name()).map(ExperimentSpec.Variant::control).orElse(false))
            .findFirst()
            .orElseThrow();
    Map<String, Map<String, Effect>> comparisons = new LinkedHashMap<>();
    String leader = null;
    double best = 0;
    for (VariantResult v : variants) {
      if (v == control) {
        continue;
      }
      Map<String, Effect> effects = new LinkedHashMap<>();
      Effect errors =
          Effect.proportions(control.failures(), control.requests(), v.failures(), v.requests());
      effects.put(ERROR_RATE, errors);
      effects.put(
          LATENCY,
          Effect.means(
              control.latencyMeanMs(),
              control.latencyVarianceMs2(),
              control.requests(),
              v.latencyMeanMs(),
              v.latencyVarianceMs2(),
              v.requests()));
      for (ExperimentSpec.Metric m : e.metrics()) {
        effects.put(
            m.name(),
            Effect.proportions(
                control.metrics().getOrDefault(m.name(), 0.0),
                control.requests(),
                v.metrics().getOrDefault(m.name(), 0.0),
                v.requests()));
      }
      comparisons.put(v.name(), effects);
      if (!e.metrics().isEmpty()) {
        Effect first = effects.get(e.metrics().get(0).name());
        boolean worseErrors = errors.significant() && errors.difference() > 0;
        if (first.significant() && first.difference() > best && !worseErrors) {
          best = first.difference();
          leader = v.name();
        }
      }
    }
    return new Results(at, List.copyOf(variants), comparisons, leader);
  }

  private static double sum(MetricsQuery q, Instant at, String expr) {
    double s = 0;
    for (MetricsQuery.Sample x : q.query(expr, at)) {
      if (!Double.isNaN(x.value())) {
        s += x.value();
      }
    }
    return s;
  }
}
