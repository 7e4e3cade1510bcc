package dev.pilothouse.core.chaos;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Keeps chaos runs: saved after every step, read back by a restarted daemon and by reports. */
public interface ChaosRepository {
  /** Every run kept, newest first. */
  List<ChaosRun> chaosRuns();

  /** One run. */
  Optional<ChaosRun> chaosRun(String id);

  /** Saves a run (replacing its previous state). */
  void saveChaosRun(ChaosRun run);

  /** Forgets all but the newest keep runs that are over. */
  void pruneChaosRuns(int keep);

  /** The kill switch, when it is on. */
  Optional<Halt> chaosHalt();

  /** Turns the kill switch on (a halt) or off (null). */
  void saveChaosHalt(Halt halt);

  /** Chaos halted: since when and why. */
  record Halt(java.time.Instant at, String reason) {}

  /** Runs kept in memory (tests). */
  static ChaosRepository inMemory() {
    Map<String, ChaosRun> m = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicReference<Halt> halt =
        new java.util.concurrent.atomic.AtomicReference<>();
    return new ChaosRepository() {
      @Override
      public Optional<Halt> chaosHalt() {
        return Optional.ofNullable(halt.get());
      }

      @Override
      public void saveChaosHalt(Halt h) {
        halt.set(h);
      }

      @Override
      public List<ChaosRun> chaosRuns() {
        return m.values().stream()
            .sorted(Comparator.comparing(ChaosRun::startedAt).reversed())
            .toList();
      }

      @Override
      public Optional<ChaosRun> chaosRun(String id) {
        return Optional.ofNullable(m.get(id));
      }

      @Override
      public void saveChaosRun(ChaosRun run) {
        m.put(run.id(), run);
      }

      @Override
      public void pruneChaosRuns(int keep) {
        chaosRuns().stream()
            .filter(r -> r.state() == ChaosRun.State.DONE)
            .skip(keep)
            .forEach(r -> m.remove(r.id()));
      }
    };
  }
}
