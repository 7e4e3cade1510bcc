package dev.pilothouse.core.chaos;

import java.time.Duration;

/**
 * How chaos reaches the load balancer: L7 faults on a service's route, and an instance's traffic
 * sent through another port (a toxic proxy in front of it). Both live in memory only, so a
 * restarted daemon's first route table carries neither.
 */
public interface RouteFaults {
  /** Sets the faults of a service's route, in place of its spec's. */
  void routeFault(String service, Fault fault);

  /** Gives a service's route its spec's faults back. */
  void clearRouteFault(String service);

  /** Sends the load balancer's traffic for an instance to this port on 127.0.0.1. */
  void redirect(String instanceId, int port);

  /** Sends an instance's traffic to the instance again. */
  void clearRedirect(String instanceId);

  /**
   * A route's faults.
   *
   * @param header when not empty, only requests carrying it are hit
   * @param callers when not empty, only requests from these services' instances are hit (the load
   *     balancer knows a caller by the process that holds the connection's socket)
   * @param silent aborted requests get no answer at all (a black hole) instead of abortStatus
   */
  record Fault(
      Duration delay,
      int delayPercent,
      int abortStatus,
      int abortPercent,
      String header,
      java.util.List<String> callers,
      boolean silent) {
    public Fault {
      callers = java.util.List.copyOf(callers);
    }

    public Fault(
        Duration delay, int delayPercent, int abortStatus, int abortPercent, String header) {
      this(delay, delayPercent, abortStatus, abortPercent, header, java.util.List.of(), false);
    }
  }

  /** No load balancer: every fault is refused. */
  RouteFaults NONE =
      new RouteFaults() {
        @Override
        public void routeFault(String service, Fault fault) {
          throw new IllegalStateException("no load balancer runs");
        }

        @Override
        public void clearRouteFault(String service) {}

        @Override
        public void redirect(String instanceId, int port) {
          throw new IllegalStateException("no load balancer runs");
        }

        @Override
        public void clearRedirect(String instanceId) {}
      };
}
