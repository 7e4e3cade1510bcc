package dev.pilothouse.scaling;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalDouble;

/**
 * Right-sizing advice from what a service used: {@code resources.cpu} from the 95th percentile of
 * an instance's CPU with 20 % headroom, {@code resources.memory} from the most resident memory seen
 * with 20 % headroom (memory cannot be throttled, so the peak, not a percentile), and instance
 * bounds that carry the quietest and the busiest five minutes of the window at the target
 * utilization (the service's CPU target, else 70 %) — and at its request-rate target, when it has
 * one. Reads the built-in store's history of the instances' CPU and memory and of the load
 * balancer's requests.
 */
public final class Advisor {
  /** Added on top of what was used. */
  static final double HEADROOM = 0.2;

  /** The CPU utilization an instance is sized to run at, without a CPU target. */
  static final double UTILIZATION = 0.7;

  private final Signals signals;

  public Advisor(Signals signals) {
    this.signals = requireNonNull(signals, "signals");
  }

  /**
   * The advice for one service over a window ending now.
   *
   * @param cpuP95 cores, the highest of the instances' 95th percentiles of 5-minute CPU rates
   * @param cpuMax cores, the highest 5-minute CPU rate of any instance
   * @param memoryMax bytes, the most resident memory of any instance
   * @param peakCpu cores, the busiest 5 minutes of the service's total CPU
   * @param troughCpu cores, the quietest 5 minutes of the service's total CPU
   * @param peakRps requests per second in the busiest 5 minutes (NaN without a route)
   * @param troughRps requests per second in the quietest 5 minutes (NaN without a route)
   * @param cpu the recommended resources.cpu in cores (0: no data)
   * @param memory the recommended resources.memory in bytes (0: no data)
   * @param min the recommended fewest instances (0: no data)
   * @param max the recommended most instances (0: no data)
   * @param notes what the advice stands on, and what it could not see
   */
  public record Advice(
      String service,
      String window,
      double cpuP95,
      double cpuMax,
      double memoryMax,
      double peakCpu,
      double troughCpu,
      double peakRps,
      double troughRps,
      double cpu,
      long memory,
      int min,
      int max,
      java.util.List<String> notes) {}

  public Advice advise(ServiceSpec s, Duration window, Instant now) {
    String w = window.toMinutes() + "m";
    String sel = "{service=\"" + s.name() + "\"}";
    String cpuRate = "rate(pilothouse_instance_cpu_seconds_total" + sel + "[5m])";
    double cpuP95 = value("max(quantile_over_time(0.95, " + cpuRate + "[" + w + ":1m]))", now);
    double cpuMax = value("max(max_over_time(" + cpuRate + "[" + w + ":1m]))", now);
    double memMax =
        value(
            "max(max_over_time(pilothouse_instance_resident_memory_bytes" + sel + "[" + w + "]))",
            now);
    double peakCpu = value("max_over_time(sum(" + cpuRate + ")[" + w + ":1m])", now);
    double troughCpu = value("min_over_time(sum(" + cpuRate + ")[" + w + ":1m])", now);
    String rps = "sum(rate(pilothouse_proxy_requests_total" + sel + "[5m]))";
    double peakRps = value("max_over_time(" + rps + "[" + w + ":1m])", now);
    double troughRps = value("min_over_time(" + rps + "[" + w + ":1m])", now);

    java.util.List<String> notes = new java.util.ArrayList<>();
    double cpu = 0;
    if (!Double.isNaN(cpuP95)) {
      cpu = Math.max(0.01, Math.ceil(cpuP95 * (1 + HEADROOM) * 100) / 100);
      notes.add("cpu: p95 of an instance's CPU with 20% headroom");
    } else {
      notes.add("cpu: no CPU history in the window (the host collector records it)");
    }
    long memory = 0;
    if (!Double.isNaN(memMax)) {
      long mi = 1L << 20;
      memory = Math.max(16 * mi, (long) Math.ceil(memMax * (1 + HEADROOM) / mi) * mi);
      notes.add("memory: the most resident memory seen with 20% headroom");
    }
    double util = UTILIZATION;
    Double rpsTarget = null;
    Autoscale a = s.autoscale();
    if (a != null) {
      for (Autoscale.Target t : a.targets()) {
        if (t instanceof Autoscale.Target.Cpu c) {
          util = c.value() / 100;
        } else if (t instanceof Autoscale.Target.RequestsPerSecond r) {
          rpsTarget = r.value();
        }
      }
    }
    int min = 0;
    int max = 0;
    if (cpu > 0 && !Double.isNaN(peakCpu) && !Double.isNaN(troughCpu)) {
      double perInstance = cpu * util;
      min = Math.max(1, (int) Math.ceil(troughCpu / perInstance - 1e-9));
      max = Math.max(min, (int) Math.ceil(peakCpu * (1 + HEADROOM) / perInstance - 1e-9));
      notes.add(
          "instances: the quietest and busiest 5 minutes of total CPU at "
              + Math.round(util * 100)
              + "% of the recommended cpu");
    }
    if (rpsTarget != null && !Double.isNaN(peakRps) && !Double.isNaN(troughRps)) {
      min = Math.max(min, Math.max(1, (int) Math.ceil(troughRps / rpsTarget - 1e-9)));
      max =
          Math.max(
              max, Math.max(min, (int) Math.ceil(peakRps * (1 + HEADROOM) / rpsTarget - 1e-9)));
      notes.add("instances: the request rate's quietest and busiest 5 minutes at the target");
    }
    return new Advice(
        s.name(),
        dev.pilothouse.core.spec.SpecDiff.duration(window),
        cpuP95,
        cpuMax,
        memMax,
        peakCpu,
        troughCpu,
        peakRps,
        troughRps,
        cpu,
        memory,
        min,
        max,
        notes);
  }

  private double value(String q, Instant now) {
    OptionalDouble v = signals.query(q, now);
    return v.isPresent() ? v.getAsDouble() : Double.NaN;
  }
}
