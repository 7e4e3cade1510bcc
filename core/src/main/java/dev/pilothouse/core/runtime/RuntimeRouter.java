package dev.pilothouse.core.runtime;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceLogs;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.WorkloadRuntime;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.spec.RegionSpec;
import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The daemon's workloads: the spec says where its services run. Local processes always have a
 * controller (it drains what ran locally when a spec moves to a cluster). A cluster runtime — the
 * spec's {@code runtime}, or one per region of {@code regions} — is opened when the spec names it
 * (and opened again on the next tick when that fails) and closed, its workloads left running, when
 * the spec no longer names it. Each runtime gets the spec's services placed there; a service in
 * several regions is one service in {@link #status()} (its instances from every region), and every
 * action on it goes to each region that runs it.
 */
public final class RuntimeRouter implements Workloads, InstanceLogs, TrafficSplitter {
  /** The name of the one cluster runtime of a spec without regions. */
  static final String SINGLE = "";

  private final Workloads local;
  private final InstanceLogs localLogs;
  private final TrafficSplitter localTraffic;
  private final Function<RuntimeSpec, WorkloadRuntime> open;
  private final EventSink events;
  private final InstantSource clock;
  private Map<String, RuntimeSpec> current;
  private final Map<String, WorkloadRuntime> remotes = new LinkedHashMap<>();
  private final Set<String> failing = new HashSet<>();
  private Spec desired = Spec.empty();

  /**
   * @param initial the newest stored revision (what ran before a restart), or an empty spec
   * @param open connects to a cluster runtime (the Kubernetes module)
   */
  public RuntimeRouter(
      Workloads local,
      InstanceLogs localLogs,
      TrafficSplitter localTraffic,
      Spec initial,
      Function<RuntimeSpec, WorkloadRuntime> open,
      EventSink events,
      InstantSource clock) {
    this.local = requireNonNull(local, "local");
    this.localLogs = requireNonNull(localLogs, "localLogs");
    this.localTraffic = requireNonNull(localTraffic, "localTraffic");
    this.open = requireNonNull(open, "open");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    this.desired = requireNonNull(initial, "initial");
    this.current = runtimes(initial);
  }

  /** The cluster runtimes a spec names, by region ({@link #SINGLE} for its one runtime). */
  static Map<String, RuntimeSpec> runtimes(Spec spec) {
    Map<String, RuntimeSpec> m = new LinkedHashMap<>();
    if (!spec.regions().isEmpty()) {
      for (RegionSpec r : spec.regions()) {
        m.put(r.name(), r.runtime());
      }
    } else if (spec.runtime().kubernetes()) {
      m.put(SINGLE, spec.runtime());
    }
    return m;
  }

  @Override
  public synchronized void recover() {
    local.recover();
    current.keySet().forEach(this::connect);
  }

  /** The part of the desired state one runtime runs: the services placed there. */
  private Spec share(String region) {
    if (region.equals(SINGLE)) {
      return desired;
    }
    return desired.withServices(
        s -> desired.placement(s).stream().anyMatch(r -> r.name().equals(region)));
  }

  /**
   * Opens a region's runtime if it is not open; a failure (no kubeconfig, no answer) is an event
   * once, and the next tick tries again.
   */
  private void connect(String region) {
    if (remotes.containsKey(region)) {
      return;
    }
    RuntimeSpec r = current.get(region);
    try {
      WorkloadRuntime w = open.apply(r);
      w.recover();
      w.apply(share(region));
      remotes.put(region, w);
    } catch (RuntimeException e) {
      if (failing.add(region)) {
        events.emit(
            new NewEvent(
                clock.instant(),
                "RuntimeUnreachable",
                "",
                "",
                "cannot open " + describe(region, r) + ": " + e.getMessage() + "; retrying",
                Map.of("runtime", r.kind().wire(), "region", region)));
      }
      return;
    }
    failing.remove(region);
  }

  @Override
  public synchronized void apply(Spec spec) {
    Map<String, RuntimeSpec> wanted = runtimes(spec);
    for (String region : List.copyOf(current.keySet())) {
      if (!current.get(region).equals(wanted.get(region))) {
        WorkloadRuntime gone = remotes.remove(region);
        if (gone != null) {
          gone.close();
        }
        failing.remove(region);
      }
    }
    if (!wanted.equals(current)) {
      events.emit(
          new NewEvent(
              clock.instant(),
              "RuntimeChanged",
              "",
              "",
              "services now run on " + describe(wanted) + " (before: " + describe(current) + ")",
              Map.of("runtime", wanted.isEmpty() ? "local" : "kubernetes")));
      current = wanted;
    }
    desired = spec;
    if (current.isEmpty()) {
      local.apply(spec);
      return;
    }
    local.apply(Spec.empty()); // what ran here before drains and stops
    for (String region : current.keySet()) {
      WorkloadRuntime w = remotes.get(region);
      if (w == null) {
        connect(region); // applies its share once open
      } else {
        w.apply(share(region));
      }
    }
  }

  private static String describe(String region, RuntimeSpec r) {
    String where =
        r.kubernetes() ? "Kubernetes namespace '" + r.namespace() + "'" : "local processes";
    return region.equals(SINGLE) ? where : "region " + region + " (" + where + ")";
  }

  private static String describe(Map<String, RuntimeSpec> runtimes) {
    if (runtimes.isEmpty()) {
      return "local processes";
    }
    List<String> parts = new ArrayList<>();
    runtimes.forEach((region, r) -> parts.add(describe(region, r)));
    return String.join(", ", parts);
  }

  @Override
  public synchronized void tick() {
    local.tick();
    current.keySet().forEach(this::connect);
    for (WorkloadRuntime w : remotes.values()) {
      w.tick();
    }
  }

  @Override
  public synchronized List<ServiceStatus> status() {
    if (remotes.isEmpty()) {
      return local.status();
    }
    Map<String, List<ServiceStatus>> byName = new LinkedHashMap<>();
    for (WorkloadRuntime w : remotes.values()) {
      for (ServiceStatus s : w.status()) {
        byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
      }
    }
    for (ServiceStatus s : local.status()) { // services still draining here after a move
      byName.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(s);
    }
    List<ServiceStatus> all = new ArrayList<>();
    byName.values().forEach(parts -> all.add(merge(parts)));
    return all;
  }

  /** One service's status from the regions that run it: counts summed, the worst state. */
  static ServiceStatus merge(List<ServiceStatus> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    List<String> worst =
        List.of("crash-loop", "degraded", "progressing", "removing", "stopped", "running");
    String state =
        parts.stream()
            .map(ServiceStatus::state)
            .min(
                (a, b) ->
                    Integer.compare(
                        worst.indexOf(a) < 0 ? 99 : worst.indexOf(a),
                        worst.indexOf(b) < 0 ? 99 : worst.indexOf(b)))
            .orElse("running");
    List<InstanceStatus> instances = new ArrayList<>();
    parts.forEach(p -> instances.addAll(p.instances()));
    return new ServiceStatus(
        parts.get(0).name(),
        parts.get(0).version(),
        state,
        parts.stream().mapToInt(ServiceStatus::desiredReplicas).sum(),
        parts.stream().mapToInt(ServiceStatus::readyReplicas).sum(),
        parts.stream().mapToInt(ServiceStatus::generation).max().orElse(0),
        instances);
  }

  /**
   * The services whose instances run on this machine: what the built-in load balancer routes to and
   * the scraper reads (a cluster's pods are reached through its own Service or Gateway).
   */
  public synchronized List<ServiceStatus> onThisMachine() {
    return local.status();
  }

  /** The Pilothouse data planes running in the open clusters, each with what it routes. */
  public synchronized List<dev.pilothouse.core.traffic.ClusterDataPlane> clusterDataPlanes() {
    List<dev.pilothouse.core.traffic.ClusterDataPlane> out = new ArrayList<>();
    remotes.forEach(
        (region, w) -> {
          var endpoints = w.dataPlane();
          if (!endpoints.isEmpty()) {
            out.add(
                new dev.pilothouse.core.traffic.ClusterDataPlane(
                    region, share(region), w.status(), endpoints));
          }
        });
    return out;
  }

  /** The regions (cluster runtimes) that run a service; empty when it runs locally. */
  private List<String> regionsOf(String service) {
    if (current.isEmpty()) {
      return List.of();
    }
    if (current.containsKey(SINGLE)) {
      return List.of(SINGLE);
    }
    Optional<ServiceSpec> s = desired.service(service);
    return s.map(x -> desired.placement(x).stream().map(RegionSpec::name).toList())
        .orElse(List.copyOf(current.keySet()));
  }

  /** Where an action on the service goes; every one of them must be reachable. */
  private List<Workloads> runs(String service) {
    List<String> regions = regionsOf(service);
    if (regions.isEmpty()) {
      return List.of(local);
    }
    List<Workloads> out = new ArrayList<>();
    for (String region : regions) {
      WorkloadRuntime w = remotes.get(region);
      if (w == null) {
        throw new IllegalStateException(
            describe(region, current.get(region))
                + " is not reachable now; see the RuntimeUnreachable event");
      }
      out.add(w);
    }
    return out;
  }

  /** The reachable runtimes that run the service (for questions, which need not all answer). */
  private List<WorkloadRuntime> reachable(String service) {
    return regionsOf(service).stream()
        .map(remotes::get)
        .filter(java.util.Objects::nonNull)
        .toList();
  }

  /** The runtime running an instance: the region whose status lists it, else this machine. */
  private Workloads holding(String instanceId) {
    for (WorkloadRuntime w : remotes.values()) {
      if (w.status().stream()
          .flatMap(s -> s.instances().stream())
          .anyMatch(i -> i.id().equals(instanceId))) {
        return w;
      }
    }
    return local;
  }

  @Override
  public synchronized void restart(String service) {
    runs(service).forEach(w -> w.restart(service));
  }

  @Override
  public synchronized void replace(String instanceId, String reason) {
    holding(instanceId).replace(instanceId, reason);
  }

  @Override
  public synchronized void quarantine(String instanceId, String reason, Duration keepFor) {
    holding(instanceId).quarantine(instanceId, reason, keepFor);
  }

  @Override
  public synchronized void suspend(String service, String reason) {
    runs(service).forEach(w -> w.suspend(service, reason));
  }

  @Override
  public synchronized void resume(String service) {
    runs(service).forEach(w -> w.resume(service));
  }

  @Override
  public synchronized int running(String service) {
    return runs(service).stream().mapToInt(w -> w.running(service)).sum();
  }

  @Override
  public synchronized void setCanary(String service, ServiceSpec canary, int count) {
    runs(service).forEach(w -> w.setCanary(service, canary, count));
  }

  @Override
  public synchronized void promoteCanary(String service) {
    runs(service).forEach(w -> w.promoteCanary(service));
  }

  @Override
  public synchronized void clearCanary(String service) {
    runs(service).forEach(w -> w.clearCanary(service));
  }

  @Override
  public synchronized Optional<String> canaryTemplate(String service) {
    if (regionsOf(service).isEmpty()) {
      return local.canaryTemplate(service);
    }
    return reachable(service).stream()
        .map(w -> w.canaryTemplate(service))
        .flatMap(Optional::stream)
        .findFirst();
  }

  @Override
  public synchronized boolean canaryCrashLooping(String service) {
    if (regionsOf(service).isEmpty()) {
      return local.canaryCrashLooping(service);
    }
    return reachable(service).stream().anyMatch(w -> w.canaryCrashLooping(service));
  }

  @Override
  public synchronized void stopAll() {
    local.stopAll();
    remotes.values().forEach(Workloads::stopAll);
  }

  @Override
  public synchronized boolean idle() {
    return local.idle() && remotes.values().stream().allMatch(Workloads::idle);
  }

  /** The regions' runtimes that hold a service's logs; none when it runs on this machine. */
  private synchronized List<WorkloadRuntime> logSources(String service) {
    return regionsOf(service).isEmpty() ? List.of() : reachable(service);
  }

  @Override
  public boolean has(String service, String instance) throws IOException {
    List<WorkloadRuntime> from = logSources(service);
    if (from.isEmpty()) {
      return localLogs.has(service, instance);
    }
    for (WorkloadRuntime w : from) {
      if (w.has(service, instance)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException {
    List<WorkloadRuntime> from = logSources(service);
    if (from.isEmpty()) {
      localLogs.stream(service, instance, since, follow, out); // not under the lock: follow blocks
    } else if (from.size() == 1 || !follow) {
      for (WorkloadRuntime w : from) {
        w.stream(service, instance, since, follow, out);
      }
    } else { // several regions followed at once: whole lines from each
      List<Thread> readers = new ArrayList<>();
      List<IOException> failed = java.util.Collections.synchronizedList(new ArrayList<>());
      for (WorkloadRuntime w : from) {
        readers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        w.stream(service, instance, since, true, new Lines(out));
                      } catch (IOException e) {
                        failed.add(e);
                      }
                    }));
      }
      for (Thread t : readers) {
        try {
          t.join();
        } catch (InterruptedException e) {
          readers.forEach(Thread::interrupt);
          Thread.currentThread().interrupt();
          return;
        }
      }
      if (!failed.isEmpty()) {
        throw failed.get(0);
      }
    }
  }

  /** Buffers one reader's writes and passes them on whole at each flush. */
  private static final class Lines extends OutputStream {
    private final OutputStream out;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    Lines(OutputStream out) {
      this.out = out;
    }

    @Override
    public void write(int b) {
      buffer.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      buffer.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      synchronized (out) {
        buffer.writeTo(out);
        out.flush();
      }
      buffer.reset();
    }
  }

  /** Splits where the service runs: the built-in load balancer, or each region's cluster. */
  @Override
  public synchronized void split(String service, Split split) {
    // The built-in load balancer and a cluster's Pilothouse data plane route by the daemon's
    // record of the split; a cluster's Gateway by the runtime's.
    localTraffic.split(service, split);
    reachable(service).forEach(w -> w.split(service, split));
  }

  @Override
  public synchronized void clear(String service) {
    reachable(service).forEach(w -> w.clear(service));
    localTraffic.clear(service);
  }

  /** Closes the cluster connections (daemon shutdown; the workloads keep running). */
  public synchronized void close() {
    remotes.values().forEach(WorkloadRuntime::close);
    remotes.clear();
  }
}
