package dev.pilothouse.core.traffic;

/** Sets how a service's traffic is split between versions; the rollout controller drives it. */
public interface TrafficSplitter {
  /** Splits the service's traffic; takes effect with the next route-table swap. */
  void split(String service, Split split);

  /** Sends all of the service's traffic to its ready instances again, whatever their version. */
  void clear(String service);
}
