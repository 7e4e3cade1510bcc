package dev.pilothouse.scaling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.StopPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Right-sizing from a store's answers (a fake: the queries are PromQL the built-in store runs). */
class AdvisorTest {
  static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");

  /** Answers each of the advisor's queries by what it asks for. */
  static Signals store(
      double p95,
      double max,
      double mem,
      double peak,
      double trough,
      double peakRps,
      double troughRps) {
    return new Signals() {
      @Override
      public Map<String, Load> load(Collection<String> instances) {
        return Map.of();
      }

      @Override
      public Map<String, Usage> usage(Collection<InstanceStatus> instances) {
        return Map.of();
      }

      @Override
      public java.util.OptionalLong coldRequests(String route) {
        return java.util.OptionalLong.empty();
      }

      @Override
      public OptionalDouble latencyP99Ms(Set<String> instances, Duration window) {
        return OptionalDouble.empty();
      }

      @Override
      public OptionalDouble query(String q, Instant at) {
        assertThat(at).isEqualTo(NOW);
        assertThat(q).contains("{service=\"shop\"}").contains("[10080m");
        double v;
        if (q.startsWith("max(quantile_over_time(0.95,")) {
          v = p95;
        } else if (q.startsWith("max(max_over_time(rate(pilothouse_instance_cpu")) {
          v = max;
        } else if (q.startsWith("max(max_over_time(pilothouse_instance_resident_memory_bytes")) {
          v = mem;
        } else if (q.startsWith("max_over_time(sum(rate(pilothouse_instance_cpu")) {
          v = peak;
        } else if (q.startsWith("min_over_time(sum(rate(pilothouse_instance_cpu")) {
          v = trough;
        } else if (q.startsWith("max_over_time(sum(rate(pilothouse_proxy_requests_total")) {
          v = peakRps;
        } else if (q.startsWith("min_over_time(sum(rate(pilothouse_proxy_requests_total")) {
          v = troughRps;
        } else {
          throw new AssertionError("unexpected query " + q);
        }
        return Double.isNaN(v) ? OptionalDouble.empty() : OptionalDouble.of(v);
      }
    };
  }

  static ServiceSpec shop(Autoscale a) {
    return new ServiceSpec(
            "shop",
            "./shop",
            List.of(),
            Map.of(),
            "/srv",
            "v1",
            2,
            null,
            null,
            RestartPolicy.defaults(),
            StopPolicy.defaults(),
            new Resources(1.0, 1L << 30),
            null)
        .withAutoscale(a);
  }

  @Test
  void recommendsCpuFromItsP95_memoryFromItsPeak_andBoundsFromTheQuietestAndBusiestMinutes() {
    // An instance's CPU: p95 0.30 cores; memory peaked at 300 MiB; the service used 0.2..1.4 cores.
    Advisor.Advice a =
        new Advisor(store(0.30, 0.5, 300.0 * (1 << 20), 1.4, 0.2, Double.NaN, Double.NaN))
            .advise(shop(null), Duration.ofDays(7), NOW);
    assertThat(a.cpu()).isEqualTo(0.36); // 0.30 * 1.2
    assertThat(a.memory()).isEqualTo(360L << 20); // 300 Mi * 1.2
    // At 70% of 0.36 cores (0.252 per instance): 0.2 -> 1; 1.4 * 1.2 = 1.68 -> 7.
    assertThat(a.min()).isEqualTo(1);
    assertThat(a.max()).isEqualTo(7);
    assertThat(a.window()).isEqualTo("7d");
  }

  @Test
  void aRequestRateTarget_alsoBoundsTheCount_theLargerWins() {
    Autoscale as =
        new Autoscale(
            1,
            10,
            List.of(new Autoscale.Target.RequestsPerSecond(50)),
            null,
            null,
            null,
            Duration.ZERO,
            null);
    Advisor.Advice a =
        new Advisor(store(0.30, 0.5, 300.0 * (1 << 20), 1.4, 0.2, 900, 120))
            .advise(shop(as), Duration.ofDays(7), NOW);
    assertThat(a.min()).isEqualTo(3); // 120 / 50
    assertThat(a.max()).isEqualTo(22); // 900 * 1.2 / 50 = 21.6
  }

  @Test
  void withoutHistory_itRecommendsNothing_andSaysWhy() {
    double n = Double.NaN;
    Advisor.Advice a =
        new Advisor(store(n, n, n, n, n, n, n)).advise(shop(null), Duration.ofDays(7), NOW);
    assertThat(a.cpu()).isZero();
    assertThat(a.memory()).isZero();
    assertThat(a.min()).isZero();
    assertThat(a.notes()).anyMatch(s -> s.startsWith("cpu: no CPU history"));
  }
}
