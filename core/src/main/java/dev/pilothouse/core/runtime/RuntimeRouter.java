package dev.pilothouse.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceLogs;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.WorkloadRuntime;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The daemon's workloads: the spec's {@code runtime} says where its services run. Local processes
 * always have a controller (it drains what ran locally when a spec moves to a cluster); a cluster
 * runtime is opened when the spec names it and closed (its workloads left running) when the spec
 * names another. Every service-level call goes to the runtime that runs the service.
 */
public final class RuntimeRouter implements Workloads, InstanceLogs, TrafficSplitter {
  private final Workloads local;
  private final InstanceLogs localLogs;
  private final TrafficSplitter localTraffic;
  private final Function<RuntimeSpec, WorkloadRuntime> open;
  private final EventSink events;
  private final InstantSource clock;
  private RuntimeSpec current;
  private WorkloadRuntime remote;
  private Spec desired = Spec.empty();
  private boolean failing;

  /**
   * @param initial the runtime of the newest stored revision (what ran before a restart)
   * @param open connects to a cluster runtime (the Kubernetes module)
   */
  public RuntimeRouter(
      Workloads local,
      InstanceLogs localLogs,
      TrafficSplitter localTraffic,
      RuntimeSpec initial,
      Function<RuntimeSpec, WorkloadRuntime> open,
      EventSink events,
      InstantSource clock) {
    this.local = requireNonNull(local, "local");
    this.localLogs = requireNonNull(localLogs, "localLogs");
    this.localTraffic = requireNonNull(localTraffic, "localTraffic");
    this.open = requireNonNull(open, "open");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    this.current = requireNonNull(initial, "initial");
  }

  /** The runtime the services run on now. */
  public synchronized RuntimeSpec runtime() {
    return current;
  }

  @Override
  public synchronized void recover() {
    local.recover();
    connect();
  }

  /**
   * Opens the cluster runtime the spec names if it is not open; a failure (no kubeconfig, no
   * answer) is an event, and the next tick tries again.
   */
  private void connect() {
    if (!current.kubernetes() || remote != null) {
      return;
    }
    try {
      WorkloadRuntime r = open.apply(current);
      r.recover();
      r.apply(desired);
      remote = r;
    } catch (RuntimeException e) {
      if (!failing) {
        failing = true;
        events.emit(
            new NewEvent(
                clock.instant(),
                "RuntimeUnreachable",
                "",
                "",
                "cannot open " + describe(current) + ": " + e.getMessage() + "; retrying",
                Map.of("runtime", current.kind().wire())));
      }
      return;
    }
    failing = false;
  }

  @Override
  public synchronized void apply(Spec spec) {
    RuntimeSpec wanted = spec.runtime();
    if (!wanted.equals(current)) {
      if (remote != null) {
        remote.close();
        remote = null;
      }
      events.emit(
          new NewEvent(
              clock.instant(),
              "RuntimeChanged",
              "",
              "",
              "services now run on " + describe(wanted) + " (before: " + describe(current) + ")",
              Map.of("runtime", wanted.kind().wire())));
      current = wanted;
    }
    desired = spec;
    if (current.kubernetes()) {
      local.apply(Spec.empty()); // what ran here before drains and stops
      if (remote == null) {
        connect(); // applies desired once open
      } else {
        remote.apply(spec);
      }
    } else {
      local.apply(spec);
    }
  }

  private static String describe(RuntimeSpec r) {
    return r.kubernetes() ? "Kubernetes namespace '" + r.namespace() + "'" : "local processes";
  }

  @Override
  public synchronized void tick() {
    local.tick();
    connect();
    if (remote != null) {
      remote.tick();
    }
  }

  @Override
  public synchronized List<ServiceStatus> status() {
    if (remote == null) {
      return local.status();
    }
    List<ServiceStatus> all = new ArrayList<>(remote.status());
    all.addAll(local.status()); // services still draining here after a move
    return all;
  }

  /**
   * The services whose instances run on this machine: what the built-in load balancer routes to and
   * the scraper reads (a cluster's pods are reached through its own Service).
   */
  public synchronized List<ServiceStatus> onThisMachine() {
    return local.status();
  }

  private Workloads runs() {
    if (current.kubernetes() && remote == null) {
      throw new IllegalStateException(
          describe(current) + " is not reachable now; see the RuntimeUnreachable event");
    }
    return remote != null ? remote : local;
  }

  @Override
  public synchronized void restart(String service) {
    runs().restart(service);
  }

  @Override
  public synchronized void replace(String instanceId, String reason) {
    runs().replace(instanceId, reason);
  }

  @Override
  public synchronized void quarantine(String instanceId, String reason, Duration keepFor) {
    runs().quarantine(instanceId, reason, keepFor);
  }

  @Override
  public synchronized void suspend(String service, String reason) {
    runs().suspend(service, reason);
  }

  @Override
  public synchronized void resume(String service) {
    runs().resume(service);
  }

  @Override
  public synchronized int running(String service) {
    return runs().running(service);
  }

  @Override
  public synchronized void setCanary(String service, ServiceSpec canary, int count) {
    runs().setCanary(service, canary, count);
  }

  @Override
  public synchronized void promoteCanary(String service) {
    runs().promoteCanary(service);
  }

  @Override
  public synchronized void clearCanary(String service) {
    runs().clearCanary(service);
  }

  @Override
  public synchronized Optional<String> canaryTemplate(String service) {
    return remote == null && current.kubernetes()
        ? Optional.empty()
        : runs().canaryTemplate(service);
  }

  @Override
  public synchronized boolean canaryCrashLooping(String service) {
    return !(remote == null && current.kubernetes()) && runs().canaryCrashLooping(service);
  }

  @Override
  public synchronized void stopAll() {
    local.stopAll();
    if (remote != null) {
      remote.stopAll();
    }
  }

  @Override
  public synchronized boolean idle() {
    return local.idle() && (remote == null || remote.idle());
  }

  @Override
  public void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException {
    InstanceLogs logs;
    synchronized (this) {
      logs = remote != null ? remote : localLogs;
    }
    logs.stream(service, instance, since, follow, out); // not under the lock: follow blocks
  }

  /** Splits on the runtime that runs the service: the built-in load balancer, or the cluster's. */
  @Override
  public synchronized void split(String service, Split split) {
    if (remote != null) {
      remote.split(service, split);
    } else {
      localTraffic.split(service, split);
    }
  }

  @Override
  public synchronized void clear(String service) {
    if (remote != null) {
      remote.clear(service);
    }
    localTraffic.clear(service);
  }

  /** Closes the cluster connection, if any (daemon shutdown; the workloads keep running). */
  public synchronized void close() {
    if (remote != null) {
      remote.close();
      remote = null;
    }
  }
}
