package dev.pilothouse.core.instance;

import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Runs services as the desired state says, on one runtime: local processes ({@link
 * InstanceController}) or a Kubernetes namespace (Deployments, whose pods are the instances). The
 * rest of the system (deploys, rollouts, scaling, healing, backups, the API) sees services only
 * through this port; the contract-test kit ({@code WorkloadsContract} in core's test jar) holds
 * every runtime to the same behaviour.
 */
public interface Workloads {

  /**
   * Takes over what ran before a daemon restart (re-adopts it); call once before the first tick.
   */
  void recover();

  /** Makes spec the desired state; the next ticks converge to it. */
  void apply(Spec spec);

  /** One reconcile pass: observe instances, then take the next safe steps. */
  void tick();

  /** Every service with its instances, as of the last tick. */
  List<ServiceStatus> status();

  /** Replaces every instance of a service, one at a time, and clears a crash loop. */
  void restart(String service);

  /** Replaces one instance: a fresh one takes its place (remediation). */
  void replace(String instanceId, String reason);

  /**
   * Takes one instance out of traffic and out of its service's count (a fresh one takes its place),
   * keeps it running for diagnosis for keepFor, then stops it.
   */
  void quarantine(String instanceId, String reason, Duration keepFor);

  /** Stops every instance of a service and runs none until {@link #resume} (a restore). */
  void suspend(String service, String reason);

  /** Runs the service's instances again after {@link #suspend}. */
  void resume(String service);

  /** How many instances of the service are alive (starting, serving or stopping). */
  int running(String service);

  /** Runs count instances of canary beside the service's stable instances. */
  void setCanary(String service, ServiceSpec canary, int count);

  /** The service's canary spec becomes its spec; its instances follow. */
  void promoteCanary(String service);

  /** Removes the service's canary instances. */
  void clearCanary(String service);

  /** The launch template of a service's canary instances, or empty. */
  Optional<String> canaryTemplate(String service);

  /** Whether the service's canary has given up restarting (a reason to roll back). */
  boolean canaryCrashLooping(String service);

  /**
   * The daemon is shutting down: stops what ends with the daemon (local processes); a cluster's
   * workloads keep running.
   */
  void stopAll();

  /** Whether nothing is left that {@link #stopAll()} waits for. */
  boolean idle();
}
