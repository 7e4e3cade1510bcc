package dev.pilothouse.core.scaling;

import dev.pilothouse.core.event.NewEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Keeps the autoscaler's decisions, so that a restarted daemon runs the counts it chose. */
public interface ScaleRepository {
  /** The latest decision per service; cheap enough to read on every reconcile tick. */
  Map<String, ScaleState> scales();

  /** Stores a decision and the event that reports it, together (neither without the other). */
  void saveScale(ScaleState state, NewEvent event);

  /** Forgets a service's decision (its autoscaling was removed). */
  void deleteScale(String service);

  /** No autoscaler: nothing is ever chosen, every call to save is refused. */
  ScaleRepository NONE =
      new ScaleRepository() {
        @Override
        public Map<String, ScaleState> scales() {
          return Map.of();
        }

        @Override
        public void saveScale(ScaleState state, NewEvent event) {
          throw new UnsupportedOperationException("no scale repository");
        }

        @Override
        public void deleteScale(String service) {}
      };

  /** Decisions kept in memory (tests, and the events go to sink). */
  static ScaleRepository inMemory(dev.pilothouse.core.event.EventSink sink) {
    Map<String, ScaleState> m = new ConcurrentHashMap<>();
    return new ScaleRepository() {
      @Override
      public Map<String, ScaleState> scales() {
        return Map.copyOf(m);
      }

      @Override
      public void saveScale(ScaleState state, NewEvent event) {
        m.put(state.service(), state);
        sink.emit(event);
      }

      @Override
      public void deleteScale(String service) {
        m.remove(service);
      }
    };
  }
}
