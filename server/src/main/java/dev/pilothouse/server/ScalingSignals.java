package dev.pilothouse.server;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.proxy.control.Protocol;
import dev.pilothouse.scaling.Signals;
import dev.pilothouse.tsdb.scrape.InstanceUsage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The autoscaler's measurements on one machine: request counts and in-flight requests from the load
 * balancer's process, CPU and memory from /proc, latency from the load balancer's recent requests,
 * and PromQL from the built-in store.
 */
final class ScalingSignals implements Signals {
  private final Traffic traffic;
  private final dev.pilothouse.alerting.RuleStore metrics;
  private final InstanceUsage usage;

  ScalingSignals(Traffic traffic, dev.pilothouse.alerting.RuleStore metrics) {
    this(traffic, metrics, InstanceUsage.alone(Path.of("/proc")));
  }

  /** Usage read with the instances' helpers (chaos stressors) counted as theirs. */
  ScalingSignals(Traffic traffic, dev.pilothouse.alerting.RuleStore metrics, InstanceUsage usage) {
    this.traffic = traffic;
    this.metrics = metrics;
    this.usage = usage;
  }

  @Override
  public Map<String, Load> load(Collection<String> instances) {
    if (instances.isEmpty()) {
      return Map.of();
    }
    Optional<Protocol.Reply> r = traffic.load(instances);
    if (r.isEmpty()) {
      return Map.of();
    }
    Map<String, Load> out = new HashMap<>();
    r.get()
        .requestTotals()
        .forEach(
            (id, n) ->
                out.put(
                    id,
                    new Load(
                        n,
                        r.get().inFlight() == null ? 0 : r.get().inFlight().getOrDefault(id, 0))));
    return out;
  }

  @Override
  public java.util.OptionalLong coldRequests(String route) {
    String key = "route:" + route;
    Optional<Protocol.Reply> r = traffic.load(List.of(key));
    if (r.isEmpty() || r.get().requestTotals() == null) {
      return java.util.OptionalLong.empty();
    }
    Long n = r.get().requestTotals().get(key);
    return n == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(n);
  }

  @Override
  public Map<String, Usage> usage(Collection<InstanceStatus> instances) {
    Map<String, Usage> out = new HashMap<>();
    for (InstanceStatus i : instances) {
      if (i.pid() > 0) {
        usage
            .read(i.id(), i.pid())
            .ifPresent(u -> out.put(i.id(), new Usage(u.cpuSeconds(), u.residentBytes())));
      }
    }
    return out;
  }

  @Override
  public OptionalDouble latencyP99Ms(Set<String> instances, Duration window) {
    if (instances.isEmpty()) {
      return OptionalDouble.empty();
    }
    Optional<Protocol.Reply> r = traffic.window(instances, window.toNanos());
    if (r.isEmpty() || r.get().latenciesMs() == null || r.get().latenciesMs().length == 0) {
      return OptionalDouble.empty();
    }
    double[] l = r.get().latenciesMs().clone();
    Arrays.sort(l);
    // Nearest rank, as Prometheus' summaries and HdrHistogram report a percentile.
    int rank = (int) Math.ceil(0.99 * l.length) - 1;
    return OptionalDouble.of(l[Math.max(0, rank)]);
  }

  @Override
  public OptionalDouble query(String promql, java.time.Instant at) {
    try {
      var samples = metrics.query(promql, at);
      if (samples.isEmpty()) {
        return OptionalDouble.empty();
      }
      double sum = 0;
      for (var s : samples) {
        sum += s.value();
      }
      return Double.isFinite(sum) ? OptionalDouble.of(sum) : OptionalDouble.empty();
    } catch (RuntimeException e) {
      return OptionalDouble.empty(); // a failing query is a missing measurement
    }
  }
}
