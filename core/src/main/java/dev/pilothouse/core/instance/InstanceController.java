package dev.pilothouse.core.instance;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Keeps each declared service at its declared number of ready instances: a level-triggered
 * reconcile loop that starts missing instances, restarts exited ones with backoff, replaces those
 * that fail liveness, rolls instances onto a changed template one at a time, and gives up into a
 * visible crash-loop state.
 *
 * <p>All decisions happen in {@link #tick()}, which reads time only from the injected clock, so
 * tests drive it in virtual time.
 */
public final class InstanceController implements Workloads {
  /** While an instance has never been ready, readiness is checked at least this often. */
  static final Duration STARTUP_PROBE_INTERVAL = Duration.ofMillis(250);

  /** Canary instances of a service occupy slots from this number up. */
  public static final int CANARY_SLOT_BASE = 10_000;

  /** Quarantined instances move to slots from here on: outside every count. */
  public static final int QUARANTINE_SLOT_BASE = 1_000_000;

  /** How long a quarantined instance re-adopted after a daemon restart is kept at most. */
  static final Duration QUARANTINE_AFTER_RESTART = Duration.ofHours(1);

  /** The least time between taking an instance out of the routes and signalling it. */
  static final Duration MIN_DRAIN = Duration.ofMillis(200);

  /** Without a readiness check, an instance counts as ready once it has run this long. */
  static final Duration MIN_READY_WITHOUT_CHECK = Duration.ofSeconds(1);

  /** Collaborators and settings of a controller. */
  public record Options(
      InstanceRuntime runtime,
      InstanceRepository repository,
      EventSink events,
      Prober prober,
      PortAllocator ports,
      InstantSource clock,
      RandomGenerator random,
      Supplier<String> ids,
      TrafficGate traffic,
      SecretSource secrets) {
    /** Options for routed instances whose environment names no secrets. */
    public Options(
        InstanceRuntime runtime,
        InstanceRepository repository,
        EventSink events,
        Prober prober,
        PortAllocator ports,
        InstantSource clock,
        RandomGenerator random,
        Supplier<String> ids,
        TrafficGate traffic) {
      this(
          runtime,
          repository,
          events,
          prober,
          ports,
          clock,
          random,
          ids,
          traffic,
          SecretSource.none());
    }

    /** Options for instances that get no traffic through the load balancer. */
    public Options(
        InstanceRuntime runtime,
        InstanceRepository repository,
        EventSink events,
        Prober prober,
        PortAllocator ports,
        InstantSource clock,
        RandomGenerator random,
        Supplier<String> ids) {
      this(runtime, repository, events, prober, ports, clock, random, ids, TrafficGate.none());
    }

    public Options {
      requireNonNull(runtime, "runtime");
      requireNonNull(repository, "repository");
      requireNonNull(events, "events");
      requireNonNull(prober, "prober");
      requireNonNull(ports, "ports");
      requireNonNull(clock, "clock");
      requireNonNull(random, "random");
      requireNonNull(ids, "ids");
      requireNonNull(traffic, "traffic");
      requireNonNull(secrets, "secrets");
    }
  }

  private final Options o;
  private final Map<String, ServiceState> services = new LinkedHashMap<>();
  private final Map<String, Instance> instances = new LinkedHashMap<>();
  private final Map<String, Integer> generations = new HashMap<>();
  private boolean stoppingAll;

  private InstanceController(Options options) {
    this.o = options;
  }

  /** A controller over the given collaborators; call {@link #recover()} before the first tick. */
  public static InstanceController create(Options options) {
    return new InstanceController(requireNonNull(options, "options"));
  }

  /**
   * Re-adopts the instances recorded before a restart that still run as recorded, forgets the rest,
   * and kills processes this runtime started that no record knows (orphans).
   */
  @Override
  public synchronized void recover() {
    generations.putAll(o.repository().loadGenerations());
    Instant now = o.clock().instant();
    for (InstanceRecord r : o.repository().loadInstances()) {
      Optional<RunningProcess> p = o.runtime().adopt(r.id(), r.pid(), r.startTicks());
      if (p.isEmpty()) {
        o.repository().deleteInstance(r.id());
        emit(
            "InstanceLost",
            r.service(),
            r.id(),
            "instance was gone after daemon restart",
            Map.of());
        continue;
      }
      Instance i =
          new Instance(
              r.id(),
              r.service(),
              r.slot(),
              r.template(),
              r.version(),
              p.get(),
              r.port(),
              r.startedAt(),
              r.restarts(),
              InstanceState.ofWire(r.state()));
      i.ready = r.ready();
      i.everReady = r.ready() || i.state == InstanceState.RUNNING;
      if (i.state == InstanceState.STOPPING) {
        i.stopRequestedAt = now.minus(MIN_DRAIN);
        i.drainUntil = now;
        i.stopReason = "stop resumed after daemon restart";
      }
      if (i.state == InstanceState.QUARANTINED) {
        i.quarantineUntil = now.plus(QUARANTINE_AFTER_RESTART);
      }
      instances.put(i.id, i);
      emit(
          "InstanceAdopted",
          i.service,
          i.id,
          "re-adopted running instance",
          Map.of("pid", Long.toString(i.process.pid())));
    }
    for (long pid : o.runtime().reapOrphans(Set.copyOf(instances.keySet()))) {
      emit("OrphanKilled", "", "", "killed orphan process", Map.of("pid", Long.toString(pid)));
    }
  }

  /** Makes spec the desired state; the next ticks converge to it. */
  @Override
  public synchronized void apply(Spec spec) {
    requireNonNull(spec, "spec");
    Set<String> declared = new HashSet<>();
    for (ServiceSpec s : spec.services()) {
      declared.add(s.name());
      ServiceState st = services.computeIfAbsent(s.name(), n -> new ServiceState());
      boolean templateChanged = st.spec != null && !st.spec.template().equals(s.template());
      st.spec = s;
      st.removed = false;
      if (templateChanged) {
        st.slots.values().forEach(Slot::reset);
        if (st.canary != null && st.canary.template().equals(s.template())) {
          adoptCanary(s.name(), st);
        }
      }
    }
    for (Map.Entry<String, ServiceState> e : services.entrySet()) {
      if (!declared.contains(e.getKey())) {
        e.getValue().removed = true;
      }
    }
    // Services recorded before a restart but not yet in any applied spec are also removed.
    for (Instance i : instances.values()) {
      if (!declared.contains(i.service) && !services.containsKey(i.service)) {
        ServiceState st = new ServiceState();
        st.removed = true;
        services.put(i.service, st);
      }
    }
    stoppingAll = false;
  }

  /**
   * The service's new spec is its canary's (a promotion): the canary instances become stable
   * instances in the lowest slots, without a restart; the old instances of those slots are then
   * drained and stopped, and any remaining slots roll as usual.
   */
  private void adoptCanary(String service, ServiceState st) {
    String template = desiredTemplate(service, st.spec);
    List<Instance> canaries =
        instances.values().stream()
            .filter(
                i ->
                    i.service.equals(service)
                        && i.slot >= CANARY_SLOT_BASE
                        && i.state != InstanceState.STOPPING)
            .sorted(java.util.Comparator.comparingInt(i -> i.slot))
            .toList();
    int next = 0;
    for (Instance i : canaries) {
      if (next >= st.spec.replicas()) {
        break;
      }
      Slot canarySlot = st.slots.get(i.slot);
      i.slot = next++;
      i.template = template;
      if (canarySlot != null) {
        st.slots.put(i.slot, canarySlot);
      }
      o.repository().saveInstance(i.record());
    }
    st.canary = null;
    st.canaryCount = 0;
    st.slots.keySet().removeIf(k -> k >= CANARY_SLOT_BASE);
    emit(
        "CanaryAdopted",
        service,
        "",
        next + " canary instance" + (next == 1 ? "" : "s") + " now serve as stable instances",
        Map.of("count", Integer.toString(next)));
  }

  /**
   * Replaces one instance: it leaves the routes and drains while a fresh instance starts in its
   * slot (remediation).
   */
  @Override
  public synchronized void replace(String instanceId, String reason) {
    Instance i = live(instanceId);
    stop(i, o.clock().instant(), reason, false);
  }

  /**
   * Quarantines one instance: out of traffic and out of its service's count (a fresh instance takes
   * its slot), kept running for diagnosis for keepFor, then stopped.
   */
  @Override
  public synchronized void quarantine(String instanceId, String reason, Duration keepFor) {
    Instance i = live(instanceId);
    Instant now = o.clock().instant();
    int slot = QUARANTINE_SLOT_BASE;
    for (Instance other : instances.values()) {
      slot = Math.max(slot, other.slot + 1);
    }
    i.slot = slot;
    i.state = InstanceState.QUARANTINED;
    i.ready = false;
    i.quarantineUntil = now.plus(keepFor);
    o.repository().saveInstance(i.record());
    emit(
        "InstanceQuarantined",
        i.service,
        i.id,
        "quarantined (out of traffic, kept running until " + i.quarantineUntil + "): " + reason,
        Map.of("pid", Long.toString(i.process.pid()), "until", i.quarantineUntil.toString()));
  }

  private Instance live(String instanceId) {
    Instance i = instances.get(instanceId);
    if (i == null || i.state == InstanceState.STOPPING || i.state == InstanceState.QUARANTINED) {
      throw new IllegalStateException(
          "instance " + instanceId + " is not running (gone, stopping or quarantined)");
    }
    return i;
  }

  /**
   * Stops every instance of a service and runs none until {@link #resume}: a restore of its data
   * needs it stopped. {@link #running(String)} tells when the last instance has exited.
   */
  @Override
  public synchronized void suspend(String service, String reason) {
    ServiceState st = requireService(service);
    st.suspended = true;
    st.suspendedFor = reason;
    emit("ServiceSuspended", service, "", "suspended: " + reason, Map.of());
  }

  /** Runs the service's instances again after {@link #suspend}. */
  @Override
  public synchronized void resume(String service) {
    ServiceState st = requireService(service);
    if (st.suspended) {
      st.suspended = false;
      st.slots.values().forEach(Slot::reset);
      emit("ServiceResumed", service, "", "resumed after: " + st.suspendedFor, Map.of());
    }
  }

  /** How many instance processes of the service are alive (starting, serving or stopping). */
  @Override
  public synchronized int running(String service) {
    return (int) instances.values().stream().filter(i -> i.service.equals(service)).count();
  }

  /** Replaces every instance of a service, one at a time, and clears a crash loop. */
  @Override
  public synchronized void restart(String service) {
    ServiceState st = requireService(service);
    int gen = generations.getOrDefault(service, 0) + 1;
    generations.put(service, gen);
    o.repository().saveGeneration(service, gen);
    st.slots.values().forEach(Slot::reset);
    emit("RestartRequested", service, "", "rolling restart requested", Map.of());
  }

  /**
   * Runs count instances of canary beside the service's stable instances (a canary deploy); the
   * stable instances keep the service's applied spec. A different canary replaces the previous
   * canary's instances. Asking again for the same canary and count changes nothing.
   */
  @Override
  public synchronized void setCanary(String service, ServiceSpec canary, int count) {
    ServiceState st = requireService(service);
    requireNonNull(canary, "canary");
    if (!canary.name().equals(service)) {
      throw new IllegalArgumentException(
          "canary spec is for '" + canary.name() + "', not '" + service + "'");
    }
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, but was " + count);
    }
    boolean same = st.canary != null && st.canary.template().equals(canary.template());
    if (!same) {
      st.slots.keySet().removeIf(k -> k >= CANARY_SLOT_BASE);
    } else if (st.canaryCount == count) {
      return; // asked again (a rollout waiting for its canary to grow): nothing changes
    }
    st.canary = canary;
    st.canaryCount = count;
    emit(
        "CanaryScaled",
        service,
        "",
        "canary " + canary.version() + " at " + count + " instance" + (count == 1 ? "" : "s"),
        Map.of("count", Integer.toString(count), "version", canary.version()));
  }

  /**
   * The service's canary spec becomes its spec (a promotion): the canary instances become its
   * instances without a restart, the rest roll onto the new spec. Does nothing without a canary.
   * The desired state that follows (the promoted revision) then changes nothing here.
   */
  @Override
  public synchronized void promoteCanary(String service) {
    ServiceState st = services.get(service);
    if (st == null || st.canary == null || st.spec == null) {
      return;
    }
    ServiceSpec next = st.canary;
    if (st.spec.template().equals(next.template())) {
      st.spec = next;
      return;
    }
    st.spec = next;
    st.slots.values().forEach(Slot::reset);
    adoptCanary(service, st);
  }

  /** Removes the service's canary instances (drained, then stopped). */
  @Override
  public synchronized void clearCanary(String service) {
    ServiceState st = services.get(service);
    if (st != null && st.canary != null) {
      st.canary = null;
      st.canaryCount = 0;
      st.slots.keySet().removeIf(k -> k >= CANARY_SLOT_BASE);
      emit("CanaryRemoved", service, "", "canary removed", Map.of());
    }
  }

  /** The launch template of a service's canary instances, or empty. */
  @Override
  public synchronized Optional<String> canaryTemplate(String service) {
    ServiceState st = services.get(service);
    return st == null || st.canary == null
        ? Optional.empty()
        : Optional.of(canaryTemplate(st.canary));
  }

  /** Whether the service's canary has given up restarting (a reason to roll back). */
  @Override
  public synchronized boolean canaryCrashLooping(String service) {
    ServiceState st = services.get(service);
    return st != null
        && st.slots.entrySet().stream()
            .anyMatch(e -> e.getKey() >= CANARY_SLOT_BASE && e.getValue().crashLoop);
  }

  private static String canaryTemplate(ServiceSpec canary) {
    return canary.template() + "-canary";
  }

  /** The spec an instance was started from: the canary's for canary slots. */
  private static ServiceSpec specFor(ServiceState st, Instance i) {
    return i.slot >= CANARY_SLOT_BASE && st.canary != null ? st.canary : st.spec;
  }

  /** Stops every instance (gracefully); {@link #idle()} tells when all have exited. */
  @Override
  public synchronized void stopAll() {
    stoppingAll = true;
    Instant now = o.clock().instant();
    for (Instance i : List.copyOf(instances.values())) {
      if (i.state != InstanceState.STOPPING) {
        stop(i, now, "daemon shutting down", false);
      }
    }
  }

  /** Whether no instance process is left. */
  @Override
  public synchronized boolean idle() {
    return instances.isEmpty();
  }

  /** One reconcile pass: observe exits and checks, then take the next safe steps. */
  @Override
  public synchronized void tick() {
    Instant now = o.clock().instant();
    for (Instance i : List.copyOf(instances.values())) {
      if (!i.process.alive()) {
        onExit(i, now);
      } else if (i.state == InstanceState.STOPPING) {
        continueStop(i, now);
      } else if (i.state == InstanceState.QUARANTINED) {
        if (!now.isBefore(i.quarantineUntil)) {
          stop(i, now, "quarantine over", false);
        }
      } else {
        probe(i, now);
      }
    }
    if (stoppingAll) {
      return;
    }
    for (Map.Entry<String, ServiceState> e : List.copyOf(services.entrySet())) {
      reconcile(e.getKey(), e.getValue(), now);
    }
  }

  /** Status of every known service, in declaration order. */
  @Override
  public synchronized List<ServiceStatus> status() {
    List<ServiceStatus> out = new ArrayList<>();
    for (Map.Entry<String, ServiceState> e : services.entrySet()) {
      String name = e.getKey();
      ServiceState st = e.getValue();
      List<InstanceStatus> list = new ArrayList<>();
      int ready = 0;
      boolean starting = false;
      int counted = 0;
      for (Instance i : instances.values()) {
        if (i.service.equals(name)) {
          list.add(i.status());
          if (i.ready && i.state != InstanceState.STOPPING) {
            ready++;
          }
          starting |= i.state == InstanceState.STARTING;
          counted += i.state == InstanceState.QUARANTINED ? 0 : 1;
        }
      }
      int desired =
          st.removed || st.spec == null
              ? 0
              : st.spec.replicas() + (st.canary == null ? 0 : st.canaryCount);
      String state;
      if (st.removed) {
        state = "removing";
      } else if (st.slots.values().stream().anyMatch(s -> s.crashLoop)) {
        state = "crash-loop";
      } else if (ready >= desired && counted == desired) {
        state = desired == 0 ? "stopped" : "running";
      } else if (starting || counted != desired) {
        state = "progressing";
      } else {
        state = "degraded";
      }
      out.add(
          new ServiceStatus(
              name,
              st.spec == null ? "" : st.spec.version(),
              state,
              desired,
              ready,
              generations.getOrDefault(name, 0),
              List.copyOf(list)));
    }
    return out;
  }

  private ServiceState requireService(String service) {
    ServiceState st = services.get(service);
    if (st == null || st.removed) {
      throw new IllegalArgumentException("no service named '" + service + "'");
    }
    return st;
  }

  private String desiredTemplate(String service, ServiceSpec spec) {
    return spec.template() + "-" + generations.getOrDefault(service, 0);
  }

  private void reconcile(String name, ServiceState st, Instant now) {
    List<Instance> mine = instances.values().stream().filter(i -> i.service.equals(name)).toList();
    if (st.removed || st.spec == null) {
      for (Instance i : mine) {
        if (i.state != InstanceState.STOPPING) {
          stop(i, now, "service removed from spec", false);
        }
      }
      if (mine.isEmpty()) {
        services.remove(name);
      }
      return;
    }
    if (st.suspended) {
      for (Instance i : mine) {
        if (i.state != InstanceState.STOPPING) {
          stop(i, now, "suspended: " + st.suspendedFor, false);
        }
      }
      return;
    }
    ServiceSpec spec = st.spec;
    String template = desiredTemplate(name, spec);
    String canaryTemplate = st.canary == null ? "" : canaryTemplate(st.canary);
    for (Instance i : mine) {
      if (i.state == InstanceState.STOPPING || i.state == InstanceState.QUARANTINED) {
        continue;
      }
      if (i.slot < CANARY_SLOT_BASE && i.slot >= spec.replicas()) {
        stop(i, now, "scaled down", false);
      } else if (i.slot >= CANARY_SLOT_BASE
          && (i.slot - CANARY_SLOT_BASE >= st.canaryCount || !i.template.equals(canaryTemplate))) {
        stop(i, now, "canary removed", false);
      }
    }
    st.slots
        .keySet()
        .removeIf(
            k ->
                (k < CANARY_SLOT_BASE && k >= spec.replicas())
                    || k >= CANARY_SLOT_BASE + st.canaryCount);
    int maxSurge = spec.plan().replacement().maxSurge().resolve(spec.replicas(), true);
    int maxUnavailable = spec.plan().replacement().maxUnavailable().resolve(spec.replicas(), false);
    if (maxSurge == 0 && maxUnavailable == 0) {
      maxSurge = 1;
    }
    int surging = 0;
    int unavailable = 0;
    for (int s = 0; s < spec.replicas(); s++) {
      final int slotNo = s;
      List<Instance> live =
          mine.stream().filter(i -> i.slot == slotNo && i.state != InstanceState.STOPPING).toList();
      boolean hasOld = live.stream().anyMatch(i -> !i.template.equals(template));
      boolean newStarting = live.stream().anyMatch(i -> i.template.equals(template) && !i.ready);
      if (hasOld && newStarting) {
        surging++;
      }
      if (live.stream().noneMatch(i -> i.ready)) {
        unavailable++;
      }
    }
    for (int s = 0; s < spec.replicas(); s++) {
      final int slotNo = s;
      Slot slot = st.slots.computeIfAbsent(s, k -> new Slot());
      List<Instance> live =
          mine.stream().filter(i -> i.slot == slotNo && i.state != InstanceState.STOPPING).toList();
      List<Instance> current = live.stream().filter(i -> i.template.equals(template)).toList();
      List<Instance> old = live.stream().filter(i -> !i.template.equals(template)).toList();
      if (current.isEmpty()) {
        if (slot.crashLoop || slot.completed || now.isBefore(slot.nextStartAt)) {
          continue;
        }
        if (!old.isEmpty()) {
          // Rolling replacement within maxSurge (start the new one while the old one serves)
          // and maxUnavailable (stop the old one first).
          if (surging < maxSurge) {
            surging++;
          } else if (unavailable < maxUnavailable) {
            unavailable += old.stream().anyMatch(i -> i.ready) ? 1 : 0;
            for (Instance i : old) {
              stop(i, now, "replaced (maxUnavailable " + maxUnavailable + ")", false);
            }
          } else {
            continue;
          }
        }
        start(name, spec, slotNo, template, slot, now);
      } else {
        if (current.stream().anyMatch(i -> i.ready)) {
          for (Instance i : old) {
            stop(i, now, "replaced by " + current.get(0).id, false);
          }
        }
        for (int k = 1; k < current.size(); k++) {
          stop(current.get(k), now, "duplicate in slot", false);
        }
      }
    }
    for (int k = 0; st.canary != null && k < st.canaryCount; k++) {
      final int slotNo = CANARY_SLOT_BASE + k;
      Slot slot = st.slots.computeIfAbsent(slotNo, x -> new Slot());
      boolean running =
          mine.stream().anyMatch(i -> i.slot == slotNo && i.state != InstanceState.STOPPING);
      if (!running && !slot.crashLoop && !slot.completed && !now.isBefore(slot.nextStartAt)) {
        start(name, st.canary, slotNo, canaryTemplate, slot, now);
      }
    }
  }

  private void start(
      String name, ServiceSpec spec, int slotNo, String template, Slot slot, Instant now) {
    Set<Integer> used = new HashSet<>();
    instances.values().forEach(i -> used.add(i.port));
    int port = o.ports().allocate(used);
    String id = name + "-" + o.ids().get();
    Map<String, String> env = new LinkedHashMap<>();
    String portText = Integer.toString(port);
    spec.env().forEach((k, v) -> env.put(k, v.replace("${PORT}", portText)));
    env.put("PORT", portText);
    List<String> args = spec.args().stream().map(a -> a.replace("${PORT}", portText)).toList();
    Map<String, String> files = new LinkedHashMap<>();
    for (var e : spec.secretEnv().entrySet()) {
      Optional<String> value = o.secrets().value(e.getValue().secret());
      if (value.isEmpty()) {
        emit(
            "StartFailed",
            name,
            id,
            "secret '"
                + e.getValue().secret()
                + "' (env "
                + e.getKey()
                + ") is not set; set it with 'pilothouse secrets set "
                + e.getValue().secret()
                + "'",
            Map.of());
        fail(name, spec, slot, now, Duration.ZERO);
        return;
      }
      (e.getValue().file() ? files : env).put(e.getKey(), value.get());
    }
    Launch launch =
        new Launch(
            id,
            name,
            spec.command(),
            args,
            env,
            Path.of(spec.workdir()),
            port,
            spec.inheritEnv(),
            files);
    RunningProcess p;
    try {
      p = o.runtime().start(launch);
    } catch (LaunchException e) {
      emit("StartFailed", name, id, e.getMessage(), Map.of());
      fail(name, spec, slot, now, Duration.ZERO);
      return;
    }
    Instance i =
        new Instance(
            id,
            name,
            slotNo,
            template,
            spec.version(),
            p,
            port,
            now,
            slot.restarts,
            InstanceState.STARTING);
    instances.put(id, i);
    o.repository().saveInstance(i.record());
    emit(
        "InstanceStarted",
        name,
        id,
        "started instance",
        Map.of(
            "pid", Long.toString(p.pid()),
            "port", portText,
            "slot", Integer.toString(slotNo),
            "version", spec.version()));
  }

  private void probe(Instance i, Instant now) {
    ServiceState st = services.get(i.service);
    if (st == null || st.spec == null) {
      return;
    }
    ServiceSpec spec = specFor(st, i);
    Probe readiness = spec.readiness();
    if (readiness == null && !i.ready && !now.isBefore(i.startedAt.plus(MIN_READY_WITHOUT_CHECK))) {
      markReady(i, now);
    }
    if (readiness != null) {
      Optional<Boolean> r = poll(i.readiness);
      if (r.isPresent()) {
        onReadiness(i, readiness, r.get(), now);
      }
      Duration interval =
          i.everReady ? readiness.interval() : min(readiness.interval(), STARTUP_PROBE_INTERVAL);
      Instant first = i.startedAt.plus(readiness.initialDelay());
      launch(i, i.readiness, readiness, interval, first, now, spec);
    }
    Probe liveness = spec.liveness();
    if (liveness != null && i.state != InstanceState.STOPPING) {
      Optional<Boolean> r = poll(i.liveness);
      if (r.isPresent() && i.state != InstanceState.STOPPING) {
        i.liveness.record(r.get());
        if (i.liveness.failures >= liveness.failureThreshold()) {
          emit(
              "LivenessFailed",
              i.service,
              i.id,
              "liveness check failed " + i.liveness.failures + " times in a row; replacing",
              Map.of());
          stop(i, now, "liveness failed", true);
          return;
        }
      }
      if (i.everReady) {
        Instant first = i.startedAt.plus(liveness.initialDelay());
        launch(i, i.liveness, liveness, liveness.interval(), first, now, spec);
      }
    }
  }

  private void onReadiness(Instance i, Probe p, boolean passed, Instant now) {
    i.readiness.record(passed);
    if (!i.ready && i.readiness.successes >= p.successThreshold()) {
      markReady(i, now);
    } else if (i.ready && i.readiness.failures >= p.failureThreshold()) {
      i.ready = false;
      o.repository().saveInstance(i.record());
      emit("InstanceNotReady", i.service, i.id, "readiness check failing", Map.of());
    }
  }

  private void markReady(Instance i, Instant now) {
    i.ready = true;
    i.everReady = true;
    i.state = InstanceState.RUNNING;
    o.repository().saveInstance(i.record());
    emit(
        "InstanceReady",
        i.service,
        i.id,
        "instance is ready",
        Map.of("startup_ms", Long.toString(Duration.between(i.startedAt, now).toMillis())));
  }

  private void launch(
      Instance i,
      ProbeState ps,
      Probe probe,
      Duration interval,
      Instant first,
      Instant now,
      ServiceSpec spec) {
    if (ps.pending != null || now.isBefore(first) || now.isBefore(ps.nextAt)) {
      return;
    }
    ps.nextAt = now.plus(interval);
    Map<String, String> env = new HashMap<>(spec.env());
    env.put("PORT", Integer.toString(i.port));
    int port = probe.port() == 0 ? i.port : probe.port();
    ps.pending =
        o.prober().check(probe, new Prober.Target("127.0.0.1", port, Path.of(spec.workdir()), env));
  }

  private static Optional<Boolean> poll(ProbeState ps) {
    if (ps.pending == null || !ps.pending.isDone()) {
      return Optional.empty();
    }
    boolean passed;
    try {
      passed = ps.pending.getNow(false);
    } catch (RuntimeException e) {
      passed = false;
    }
    ps.pending = null;
    return Optional.of(passed);
  }

  /**
   * Starts stopping an instance. It leaves the routes at once; an intentional stop then waits until
   * its requests have finished (up to the drain timeout) before the stop signal; a broken instance
   * (countsAsFailure) is signalled at once.
   */
  private void stop(Instance i, Instant now, String reason, boolean countsAsFailure) {
    ServiceState st = services.get(i.service);
    Duration drain =
        countsAsFailure || st == null || st.spec == null
            ? Duration.ZERO
            : st.spec.stop().drainTimeout();
    i.state = InstanceState.STOPPING;
    i.ready = false;
    i.stopReason = reason;
    i.stopCountsAsFailure = countsAsFailure;
    i.stopRequestedAt = countsAsFailure ? now.minus(MIN_DRAIN) : now;
    i.drainUntil = now.plus(drain);
    o.repository().saveInstance(i.record());
    emit(
        "InstanceStopping",
        i.service,
        i.id,
        reason,
        Map.of("drain_timeout_ms", Long.toString(drain.toMillis())));
    continueStop(i, now);
  }

  /** Signals a draining instance once drained, and kills it once its stop timeout has passed. */
  private void continueStop(Instance i, Instant now) {
    ServiceState st = services.get(i.service);
    if (!i.signalSent) {
      boolean drained =
          !now.isBefore(i.stopRequestedAt.plus(MIN_DRAIN)) && o.traffic().inFlight(i.id) == 0;
      if (!drained && now.isBefore(i.drainUntil)) {
        return;
      }
      Duration timeout =
          st == null || st.spec == null ? Duration.ofSeconds(10) : st.spec.stop().timeout();
      String signal = st == null || st.spec == null ? "TERM" : st.spec.stop().signal();
      i.signalSent = true;
      i.stopDeadline = now.plus(timeout);
      o.runtime().signal(i.process, signal);
      return;
    }
    if (!i.killSent && !now.isBefore(i.stopDeadline)) {
      i.killSent = true;
      o.runtime().signal(i.process, "KILL");
    }
  }

  private void onExit(Instance i, Instant now) {
    instances.remove(i.id);
    o.runtime().cleanup(i.process);
    o.repository().deleteInstance(i.id);
    OptionalInt code = i.process.exitCode();
    String codeText = code.isPresent() ? Integer.toString(code.getAsInt()) : "unknown";
    boolean intentional = i.state == InstanceState.STOPPING && !i.stopCountsAsFailure;
    emit(
        "InstanceExited",
        i.service,
        i.id,
        intentional ? "instance stopped: " + i.stopReason : exitMessage(i, codeText),
        Map.of("exit_code", codeText, "uptime_ms", Long.toString(uptime(i, now).toMillis())));
    if (intentional || stoppingAll) {
      return;
    }
    ServiceState st = services.get(i.service);
    if (st == null || st.removed || st.spec == null) {
      return;
    }
    boolean canary = i.slot >= CANARY_SLOT_BASE;
    if (canary
        ? st.canary == null || i.slot - CANARY_SLOT_BASE >= st.canaryCount
        : i.slot >= st.spec.replicas()) {
      return;
    }
    ServiceSpec spec = specFor(st, i);
    Slot slot = st.slots.computeIfAbsent(i.slot, k -> new Slot());
    RestartPolicy policy = spec.restart();
    boolean cleanExit = code.isPresent() && code.getAsInt() == 0 && !i.stopCountsAsFailure;
    if (policy.mode() == RestartPolicy.Mode.NEVER
        || (policy.mode() == RestartPolicy.Mode.ON_FAILURE && cleanExit)) {
      slot.completed = true;
      emit("InstanceNotRestarted", i.service, i.id, "restart policy is " + policy.mode(), Map.of());
      return;
    }
    fail(i.service, spec, slot, now, uptime(i, now));
  }

  private static String exitMessage(Instance i, String codeText) {
    return i.stopCountsAsFailure
        ? "instance killed: " + i.stopReason
        : "instance exited unexpectedly with code " + codeText;
  }

  private void fail(String name, ServiceSpec spec, Slot slot, Instant now, Duration uptime) {
    RestartPolicy policy = spec.restart();
    if (uptime.compareTo(policy.resetAfter()) >= 0) {
      slot.failures = 0;
    }
    slot.failures++;
    if (slot.failures > policy.maxRestarts()) {
      slot.crashLoop = true;
      emit(
          "CrashLoop",
          name,
          "",
          "instance failed "
              + slot.failures
              + " times in a row; giving up. Fix the service, then run 'pilothouse restart "
              + name
              + "' or apply a changed spec",
          Map.of("failures", Integer.toString(slot.failures)));
      return;
    }
    Duration delay = Backoff.delay(policy, slot.failures, o.random());
    slot.nextStartAt = now.plus(delay);
    slot.restarts++;
    emit(
        "RestartScheduled",
        name,
        "",
        "restarting in " + delay.toMillis() + "ms",
        Map.of(
            "delay_ms", Long.toString(delay.toMillis()),
            "failures", Integer.toString(slot.failures)));
  }

  private static Duration uptime(Instance i, Instant now) {
    Duration d = Duration.between(i.startedAt, now);
    return d.isNegative() ? Duration.ZERO : d;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void emit(
      String type, String service, String instance, String message, Map<String, String> fields) {
    o.events().emit(new NewEvent(o.clock().instant(), type, service, instance, message, fields));
  }

  /** Desired state and replica slots of one service. */
  private static final class ServiceState {
    ServiceSpec spec;
    boolean removed;
    final Map<Integer, Slot> slots = new HashMap<>();
    ServiceSpec canary;
    int canaryCount;
    boolean suspended;
    String suspendedFor = "";
  }
}
