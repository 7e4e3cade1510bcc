package dev.pilothouse.core.instance;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.Probe;
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
import java.util.concurrent.CompletableFuture;

/** Small hand-written fakes of the controller's ports, driven in virtual time. */
final class Fakes {
  private Fakes() {}

  /** A clock that moves only when told. */
  static final class Clock implements InstantSource {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  /** A process that lives until told to exit. */
  static final class Proc implements RunningProcess {
    final long pid;
    final Launch launch;
    boolean alive = true;
    int exit = -1;
    boolean ignoresTerm;
    final List<String> signals = new ArrayList<>();

    Proc(long pid, Launch launch) {
      this.pid = pid;
      this.launch = launch;
    }

    @Override
    public long pid() {
      return pid;
    }

    @Override
    public long startTicks() {
      return pid * 10;
    }

    @Override
    public boolean alive() {
      return alive;
    }

    @Override
    public OptionalInt exitCode() {
      return alive ? OptionalInt.empty() : OptionalInt.of(exit);
    }

    void die(int code) {
      alive = false;
      exit = code;
    }
  }

  /** Starts fake processes; TERM and KILL end them unless told otherwise. */
  static final class Runtime implements InstanceRuntime {
    long nextPid = 100;
    final Map<String, Proc> byId = new LinkedHashMap<>();
    final Set<String> adoptable = new HashSet<>();
    final Set<String> orphanIds = new HashSet<>();
    final Set<String> reaped = new HashSet<>();
    boolean failStarts;
    boolean ignoreTerm;

    @Override
    public RunningProcess start(Launch launch) {
      if (failStarts) {
        throw new LaunchException("command 'x' was not found in PATH");
      }
      Proc p = new Proc(nextPid++, launch);
      p.ignoresTerm = ignoreTerm;
      byId.put(launch.instanceId(), p);
      return p;
    }

    @Override
    public Optional<RunningProcess> adopt(String instanceId, long pid, long startTicks) {
      if (!adoptable.contains(instanceId)) {
        return Optional.empty();
      }
      Proc p = new Proc(pid, null);
      byId.put(instanceId, p);
      return Optional.of(p);
    }

    @Override
    public Set<Long> reapOrphans(Set<String> keep) {
      Set<Long> killed = new HashSet<>();
      for (String id : orphanIds) {
        if (!keep.contains(id)) {
          reaped.add(id);
          killed.add(999L);
        }
      }
      return killed;
    }

    @Override
    public void signal(RunningProcess process, String signal) {
      Proc p = (Proc) process;
      p.signals.add(signal);
      if (signal.equals("KILL") || !p.ignoresTerm) {
        p.die(signal.equals("KILL") ? 137 : 143);
      }
    }

    @Override
    public void cleanup(RunningProcess process) {}

    List<Proc> alive() {
      return byId.values().stream().filter(p -> p.alive).toList();
    }

    Proc proc(String id) {
      return byId.get(id);
    }
  }

  /** Check results set per instance port; unset ports pass. */
  static final class ProberFake implements Prober {
    final Map<Integer, Boolean> results = new HashMap<>();
    final Map<Integer, Boolean> liveness = new HashMap<>();
    int calls;

    /** The readiness result of ports without an entry in results. */
    boolean defaultResult = true;

    @Override
    public CompletableFuture<Boolean> check(Probe probe, Target target) {
      calls++;
      boolean live = probe.path().equals("/live");
      Map<Integer, Boolean> table = live ? liveness : results;
      return CompletableFuture.completedFuture(
          table.getOrDefault(target.port(), live || defaultResult));
    }
  }

  /** Keeps records in memory. */
  static final class Repo implements InstanceRepository {
    final Map<String, InstanceRecord> rows = new LinkedHashMap<>();
    final Map<String, Integer> generations = new HashMap<>();

    @Override
    public List<InstanceRecord> loadInstances() {
      return List.copyOf(rows.values());
    }

    @Override
    public void saveInstance(InstanceRecord record) {
      rows.put(record.id(), record);
    }

    @Override
    public void deleteInstance(String id) {
      rows.remove(id);
    }

    @Override
    public Map<String, Integer> loadGenerations() {
      return Map.copyOf(generations);
    }

    @Override
    public void saveGeneration(String service, int generation) {
      generations.put(service, generation);
    }
  }

  /** Collects events. */
  static final class Events implements EventSink {
    final List<NewEvent> list = new ArrayList<>();

    @Override
    public void emit(NewEvent event) {
      list.add(event);
    }

    List<String> types() {
      return list.stream().map(NewEvent::type).toList();
    }

    long count(String type) {
      return list.stream().filter(e -> e.type().equals(type)).count();
    }
  }
}
