package dev.pilothouse.tsdb.scrape;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * An instance's CPU time and resident memory with its helpers' counted as its own — the processes a
 * chaos experiment runs on its behalf (a CPU burn, held memory), as a stressor in a container's
 * cgroup counts as the container's. A helper's CPU time stays counted after it exits, so the
 * instance's counter never goes back.
 */
public final class InstanceUsage {
  private final Path proc;
  private final Supplier<Map<String, List<Long>>> helpers;
  private final Map<String, Map<Long, Double>> helperCpu = new ConcurrentHashMap<>();

  /**
   * @param helpers live helper pids per instance id
   */
  public InstanceUsage(Path proc, Supplier<Map<String, List<Long>>> helpers) {
    this.proc = proc;
    this.helpers = helpers;
  }

  /** Reads processes alone: no helpers. */
  public static InstanceUsage alone(Path proc) {
    return new InstanceUsage(proc, Map::of);
  }

  /** The instance's usage with its helpers'; empty when its own process is gone. */
  public Optional<ProcessUsage> read(String instanceId, long pid) {
    Optional<ProcessUsage> own = ProcessUsage.read(proc, pid);
    if (own.isEmpty()) {
      helperCpu.remove(instanceId);
      return own;
    }
    List<Long> live = helpers.get().getOrDefault(instanceId, List.of());
    Map<Long, Double> cpu = helperCpu.get(instanceId);
    if (live.isEmpty() && cpu == null) {
      return own;
    }
    cpu = helperCpu.computeIfAbsent(instanceId, k -> new ConcurrentHashMap<>());
    long rss = own.get().residentBytes();
    for (long h : live) {
      Optional<ProcessUsage> u = ProcessUsage.read(proc, h);
      if (u.isPresent()) {
        cpu.merge(h, u.get().cpuSeconds(), Math::max);
        rss += u.get().residentBytes();
      }
    }
    double total = own.get().cpuSeconds();
    for (double c : new HashMap<>(cpu).values()) {
      total += c;
    }
    return Optional.of(new ProcessUsage(total, rss));
  }
}
