package dev.pilothouse.demo;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's fault knobs. Set from environment variables at start ({@code DEMO_ERROR_RATE} …) and
 * from {@code POST /admin/faults} at run time.
 *
 * @param errorRate share of requests to / answered 500, in [0, 1]
 * @param latencyMs added latency per request to /
 * @param crashAfterS exit with code 1 this many seconds after start (0: never)
 * @param hang stop answering every request
 * @param memoryGrowthMbPerS megabytes of heap retained per second
 * @param slowStartS seconds before /readyz passes
 */
record Faults(
    double errorRate,
    long latencyMs,
    double crashAfterS,
    boolean hang,
    double memoryGrowthMbPerS,
    double slowStartS) {

  Faults {
    if (!(errorRate >= 0 && errorRate <= 1)) {
      throw new IllegalArgumentException(
          "error_rate must be between 0 and 1, but was " + errorRate);
    }
    if (latencyMs < 0 || crashAfterS < 0 || memoryGrowthMbPerS < 0 || slowStartS < 0) {
      throw new IllegalArgumentException("fault values must not be negative");
    }
  }

  static Faults none() {
    return new Faults(0, 0, 0, false, 0, 0);
  }

  static Faults fromEnv(Map<String, String> env) {
    return none().with(env, "DEMO_");
  }

  /** A copy with the keys given in values changed; keys are case-insensitive, prefix removed. */
  Faults with(Map<String, String> values, String prefix) {
    Map<String, String> v = new LinkedHashMap<>();
    values.forEach(
        (k, val) -> {
          String key = k.toUpperCase(Locale.ROOT);
          if (key.startsWith(prefix)) {
            v.put(key.substring(prefix.length()), val.trim());
          }
        });
    try {
      return new Faults(
          v.containsKey("ERROR_RATE") ? Double.parseDouble(v.get("ERROR_RATE")) : errorRate,
          v.containsKey("LATENCY_MS") ? Long.parseLong(v.get("LATENCY_MS")) : latencyMs,
          v.containsKey("CRASH_AFTER_S") ? Double.parseDouble(v.get("CRASH_AFTER_S")) : crashAfterS,
          v.containsKey("HANG") ? Boolean.parseBoolean(v.get("HANG")) : hang,
          v.containsKey("MEMORY_GROWTH_MB_PER_S")
              ? Double.parseDouble(v.get("MEMORY_GROWTH_MB_PER_S"))
              : memoryGrowthMbPerS,
          v.containsKey("SLOW_START_S") ? Double.parseDouble(v.get("SLOW_START_S")) : slowStartS);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number: " + e.getMessage(), e);
    }
  }

  String json() {
    return String.format(
        Locale.ROOT,
        "{\"error_rate\":%s,\"latency_ms\":%d,\"crash_after_s\":%s,\"hang\":%s,"
            + "\"memory_growth_mb_per_s\":%s,\"slow_start_s\":%s}",
        errorRate,
        latencyMs,
        crashAfterS,
        hang,
        memoryGrowthMbPerS,
        slowStartS);
  }
}
