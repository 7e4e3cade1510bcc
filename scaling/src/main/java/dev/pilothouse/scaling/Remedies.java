package dev.pilothouse.scaling;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What remediation runbooks can do to the system; the server carries each out through the instance
 * controller and the deploy machinery. A method throws {@link IllegalStateException} with the
 * reason when the action cannot be taken (no earlier revision to roll back to, an autoscaled
 * service to scale out).
 */
public interface Remedies {
  /** Starts a fresh instance in this one's place and drains it. */
  void replace(String instanceId, String reason);

  /** Takes the instance out of traffic and the count, keeping it running for keepFor. */
  void quarantine(String instanceId, String reason, Duration keepFor);

  /** Replaces every instance of the service, one at a time. */
  void restart(String service);

  /** Returns the service to the revision before its current spec. */
  void rollback(String service);

  /** Adds instances to the service. */
  void scaleOut(String service, int by);

  /** Runs a command without a shell; returns its exit code (-1 when it timed out). */
  int run(List<String> argv, Map<String, String> env, Duration timeout);
}
