package dev.pilothouse.core.instance;

/** Tells how many requests an instance is still serving, so it can be drained before it stops. */
@FunctionalInterface
public interface TrafficGate {
  /** Requests in flight to the instance; 0 when it gets no traffic. */
  int inFlight(String instanceId);

  /** A gate for instances that get no traffic through Pilothouse. */
  static TrafficGate none() {
    return id -> 0;
  }
}
