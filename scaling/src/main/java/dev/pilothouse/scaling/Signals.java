package dev.pilothouse.scaling;

import dev.pilothouse.core.instance.InstanceStatus;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/** What the autoscaler measures, read in-process every second (no scrape lag). */
public interface Signals {
  /**
   * Requests each instance (backend id) has served so far and has in flight now, counted by the
   * load balancer; instances it does not know are left out (and so is everything without one).
   */
  Map<String, Load> load(Collection<String> instances);

  /** CPU time and resident memory of each instance's process; unreadable ones are left out. */
  Map<String, Usage> usage(Collection<InstanceStatus> instances);

  /**
   * The 99th percentile latency in milliseconds of these instances' requests of the last window.
   */
  OptionalDouble latencyP99Ms(Set<String> instances, Duration window);

  /** The sum of a PromQL query's series at a time; empty when it returns nothing or fails. */
  OptionalDouble query(String promql, java.time.Instant at);

  /**
   * Requests of a route that found no ready instance so far (held while the service is at zero);
   * empty without a load balancer.
   */
  java.util.OptionalLong coldRequests(String route);

  /** Cumulative requests and the requests in flight at the load balancer. */
  record Load(long requests, int inFlight) {}

  /** Cumulative CPU seconds and resident bytes of a process. */
  record Usage(double cpuSeconds, long residentBytes) {}
}
