package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An A/B test of one routed service (the spec's top-level {@code experiments:}): its route's
 * traffic is split between named variants — the service as declared ({@code control}) and copies
 * with another version and environment, each run as a service of its own named {@code
 * SERVICE--VARIANT} — by weight, each user kept on one variant by a hash of their key (a header or
 * cookie) or by a cookie the load balancer sets. It runs for a duration or until every variant has
 * a sample size; results per variant come from the metrics store.
 *
 * @param assignBy "header:NAME" or "cookie:NAME" whose value is hashed, or empty for a sticky
 *     cookie the load balancer sets
 * @param duration how long it runs at most (zero: until the sample size)
 * @param minSamples requests every variant needs to conclude (zero: the duration only)
 */
public record ExperimentSpec(
    String name,
    String service,
    List<Variant> variants,
    String assignBy,
    Duration duration,
    long minSamples,
    List<Metric> metrics) {

  /** The variant that is the service as declared. */
  public static final String CONTROL = "control";

  /**
   * One variant: the control (no version), or the service with another version and environment.
   *
   * @param weight share of the route's traffic, relative to the other variants
   * @param version null for the control
   * @param env added to the service's environment (a variant's own)
   */
  public record Variant(String name, int weight, String version, Map<String, String> env) {
    public Variant {
      requireNonNull(name, "name");
      env =
          env == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("weight must be in 0..100, but was " + weight);
      }
    }

    public boolean control() {
      return version == null;
    }
  }

  /**
   * A metric compared across variants besides the built-in ones (requests, error rate, latency): a
   * PromQL expression evaluated per variant, with {@code {{service}}}, {@code {{version}}} and
   * {@code {{window}}} filled in; reported per request of the variant (e.g. conversions).
   */
  public record Metric(String name, String promql) {
    public Metric {
      requireNonNull(name, "name");
      requireNonNull(promql, "promql");
    }
  }

  public ExperimentSpec {
    requireNonNull(name, "name");
    requireNonNull(service, "service");
    variants = List.copyOf(variants);
    requireNonNull(assignBy, "assignBy");
    requireNonNull(duration, "duration");
    metrics = metrics == null ? List.of() : List.copyOf(metrics);
  }

  /** The name of the service a variant runs as: SERVICE--VARIANT (the control: SERVICE). */
  public String serviceOf(Variant v) {
    return v.control() ? service : service + "--" + v.name();
  }

  /** The variant by name, if declared. */
  public java.util.Optional<Variant> variant(String variantName) {
    return variants.stream().filter(v -> v.name().equals(variantName)).findFirst();
  }

  /** A variant's service: the control's spec with its version and environment, unrouted. */
  public ServiceSpec specOf(ServiceSpec control, Variant v) {
    if (v.control()) {
      return control;
    }
    Map<String, String> env = new LinkedHashMap<>(control.env());
    env.putAll(v.env());
    return control.companion(serviceOf(v), v.version(), env, control.replicas());
  }
}
