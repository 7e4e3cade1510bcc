package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An analysis declared once (the spec's top-level {@code analysisTemplates:}) and used by canary
 * steps with arguments, as Argo Rollouts' AnalysisTemplate: metrics measured {@code count} times,
 * {@code interval} apart, failing the rollout when more than {@code failureLimit} measurements
 * failed and pausing it when more than {@code inconclusiveLimit} were inconclusive.
 *
 * <p>Metric targets refer to arguments as {@code {{args.NAME}}}. Three are always given: {@code
 * service}, {@code canaryVersion} and {@code stableVersion} (the versions whose series a PromQL
 * metric selects by their {@code version} label).
 *
 * @param args the arguments the template takes; a null value means the use must give one
 */
public record AnalysisTemplate(String name, Map<String, String> args, List<Metric> metrics) {

  /** The arguments every use gets from its rollout. */
  public static final Set<String> BUILT_IN = Set.of("service", "canaryVersion", "stableVersion");

  private static final Pattern REF = Pattern.compile("\\{\\{\\s*args\\.([A-Za-z0-9_-]+)\\s*}}");

  public AnalysisTemplate {
    requireNonNull(name, "name");
    args = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(args));
    metrics = List.copyOf(metrics);
  }

  /**
   * One measured metric: a PromQL expression (true passes, no data is inconclusive), a webhook (2xx
   * passes) or a command (exit 0 passes), as a custom check.
   *
   * @param kind "promql", "webhook" or "command"
   * @param count measurements to take; the metric passes once all are in within the limits
   * @param failureLimit failed measurements tolerated; one more fails the rollout
   * @param inconclusiveLimit inconclusive measurements tolerated; one more pauses the rollout
   */
  public record Metric(
      String name,
      String kind,
      String target,
      Duration interval,
      int count,
      int failureLimit,
      int inconclusiveLimit,
      Duration timeout) {
    public Metric {
      requireNonNull(name, "name");
      requireNonNull(kind, "kind");
      requireNonNull(target, "target");
      requireNonNull(interval, "interval");
      requireNonNull(timeout, "timeout");
      if (count < 1) {
        throw new IllegalArgumentException("count must be >= 1, but was " + count);
      }
      if (failureLimit < 0 || inconclusiveLimit < 0) {
        throw new IllegalArgumentException("limits must be >= 0");
      }
    }

    /** The check one measurement runs. */
    public Strategy.Check check() {
      return new Strategy.Check(name, kind, target, timeout);
    }

    /** How long all measurements take at least: count × interval. */
    public Duration span() {
      return interval.multipliedBy(count);
    }
  }

  /**
   * A template bound to a use's arguments: what a canary step stores, so a rollout keeps what it
   * was started with whatever later happens to the template.
   *
   * @param metrics with the use's arguments filled in; the built-in ones stay as references until
   *     the rollout fills them
   */
  public record Use(String template, Map<String, String> args, List<Metric> metrics) {
    public Use {
      requireNonNull(template, "template");
      args = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(args));
      metrics = List.copyOf(metrics);
    }

    /** The metrics with the rollout's built-in arguments filled in. */
    public List<Metric> forRollout(String service, String canaryVersion, String stableVersion) {
      Map<String, String> builtIn =
          Map.of(
              "service", service, "canaryVersion", canaryVersion, "stableVersion", stableVersion);
      return metrics.stream().map(m -> fill(m, builtIn)).toList();
    }

    /** How long the longest metric takes at least. */
    public Duration span() {
      return metrics.stream().map(Metric::span).max(Duration::compareTo).orElse(Duration.ZERO);
    }
  }

  /**
   * This template bound to given arguments (those it declares, with their defaults for the rest);
   * the built-in arguments stay as references.
   *
   * @throws IllegalArgumentException naming an argument that is not declared or not given
   */
  public Use bind(Map<String, String> given) {
    for (String k : given.keySet()) {
      if (!args.containsKey(k)) {
        throw new IllegalArgumentException(
            "template '"
                + name
                + "' has no argument '"
                + k
                + "'"
                + (args.isEmpty() ? "" : "; it takes " + String.join(", ", args.keySet())));
      }
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, String> a : args.entrySet()) {
      String v = given.getOrDefault(a.getKey(), a.getValue());
      if (v == null) {
        throw new IllegalArgumentException(
            "template '" + name + "' needs the argument '" + a.getKey() + "'");
      }
      values.put(a.getKey(), v);
    }
    return new Use(name, values, metrics.stream().map(m -> fill(m, values)).toList());
  }

  /** The argument names a text refers to. */
  public static Set<String> references(String text) {
    Set<String> out = new TreeSet<>();
    Matcher m = REF.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** Text with the references to these arguments replaced by their values; others stay. */
  public static String fill(String text, Map<String, String> values) {
    Matcher m = REF.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = values.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(v == null ? m.group() : v));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Metric fill(Metric m, Map<String, String> values) {
    return new Metric(
        m.name(),
        m.kind(),
        fill(m.target(), values),
        m.interval(),
        m.count(),
        m.failureLimit(),
        m.inconclusiveLimit(),
        m.timeout());
  }
}
