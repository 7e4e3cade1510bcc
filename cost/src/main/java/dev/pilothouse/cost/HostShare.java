package dev.pilothouse.cost;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's own cost over a window ({@code cost.hostHourly} × hours), shared by the services on
 * it: each takes half by its average share of the host's CPU cores and half by its average share of
 * the host's memory, as the store measured them; what no service used is the idle line.
 */
public final class HostShare {
  public static final String IDLE = "(host idle)";

  private HostShare() {}

  /**
   * The shares of one window.
   *
   * @param cost the host's cost over the window
   * @param byService each service's part (and IDLE)
   * @param cpu average cores each service used
   * @param memory average resident bytes of each service
   */
  public record Result(
      BigDecimal cost,
      Map<String, BigDecimal> byService,
      Map<String, Double> cpu,
      Map<String, Double> memory,
      double cores,
      double memoryBytes) {}

  /** The longest window the usage queries average over. */
  static final Duration MAX_WINDOW = Duration.ofDays(62);

  public static Result of(BigDecimal hourly, Instant from, Instant to, Usage usage) {
    return of(hourly, from, to, usage, false);
  }

  /**
   * The shares by service, or (byVersion) by service and version: then each key is {@code SERVICE +
   * "\u0000" + VERSION} (the instances' version label) and the idle line is left out.
   */
  public static Result of(
      BigDecimal hourly, Instant from, Instant to, Usage usage, boolean byVersion) {
    String by = byVersion ? "service, version" : "service";
    long seconds = Math.max(0, Duration.between(from, to).getSeconds());
    BigDecimal cost =
        hourly == null
            ? BigDecimal.ZERO
            : hourly
                .multiply(BigDecimal.valueOf(seconds))
                .divide(BigDecimal.valueOf(3600), MathContext.DECIMAL64);
    long w = Math.max(60, Math.min(seconds, MAX_WINDOW.getSeconds()));
    // A subquery holds at most 11,000 points, so its step grows with the window (1m up to a
    // week, 9m for 62 days); a history shorter than a step would show no point at all, so a
    // shorter window with a finer step is asked next: the average is over what was measured.
    // Instances younger than the finest step (started seconds ago) are measured as they are now.
    Map<String, Double> cpu = Map.of();
    Map<String, Double> mem = Map.of();
    String cpuNow = "sum by (" + by + ") (rate(pilothouse_instance_cpu_seconds_total[5m]))";
    String memNow = "sum by (" + by + ") (pilothouse_instance_resident_memory_bytes)";
    for (String range :
        new String[] {
          "[" + w + "s:" + Math.max(60, (w / 60 + 9_999) / 10_000 * 60) + "s]",
          "[" + Math.min(w, 86_400) + "s:60s]",
          "[" + Math.min(w, 3_600) + "s:15s]",
          ""
        }) {
      cpu =
          byKey(
              byVersion,
              usage.query(range.isEmpty() ? cpuNow : "avg_over_time(" + cpuNow + range + ")", to));
      mem =
          byKey(
              byVersion,
              usage.query(range.isEmpty() ? memNow : "avg_over_time(" + memNow + range + ")", to));
      if (!cpu.isEmpty() || !mem.isEmpty()) {
        break;
      }
    }
    Capacity capacity = capacity(usage, to);
    double cores = capacity.cores();
    double memory = capacity.memoryBytes();
    Map<String, BigDecimal> out = new LinkedHashMap<>();
    BigDecimal used = BigDecimal.ZERO;
    java.util.Set<String> services = new java.util.TreeSet<>(cpu.keySet());
    services.addAll(mem.keySet());
    for (String s : services) {
      double share =
          0.5 * Math.min(1, cpu.getOrDefault(s, 0.0) / cores)
              + 0.5 * Math.min(1, mem.getOrDefault(s, 0.0) / memory);
      BigDecimal part = cost.multiply(BigDecimal.valueOf(share), MathContext.DECIMAL64);
      out.put(s, part);
      used = used.add(part);
    }
    if (!byVersion) {
      out.put(IDLE, cost.subtract(used).max(BigDecimal.ZERO));
    }
    return new Result(cost, out, cpu, mem, cores, memory);
  }

  /** The host's cores and memory, as the store measured them (else as this JVM sees them). */
  public record Capacity(double cores, double memoryBytes) {}

  public static Capacity capacity(Usage usage, Instant at) {
    return new Capacity(
        first(
            usage.query("count(node_cpu_seconds_total{mode=\"idle\"})", at),
            Runtime.getRuntime().availableProcessors()),
        first(usage.query("max(node_memory_MemTotal_bytes)", at), physicalMemory()));
  }

  static Map<String, Double> byKey(boolean byVersion, List<Usage.Sample> samples) {
    Map<String, Double> out = new HashMap<>();
    for (Usage.Sample s : samples) {
      String service = s.labels().get("service");
      if (byVersion) {
        String version = s.labels().get("version");
        service = service == null || version == null ? null : service + "\u0000" + version;
      }
      if (service != null && !Double.isNaN(s.value())) {
        out.merge(service, s.value(), Double::sum);
      }
    }
    return out;
  }

  private static double first(List<Usage.Sample> s, double otherwise) {
    return s.isEmpty() || !(s.get(0).value() > 0) ? otherwise : s.get(0).value();
  }

  static double physicalMemory() {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }
}
