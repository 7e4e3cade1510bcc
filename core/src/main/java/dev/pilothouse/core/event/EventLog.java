package dev.pilothouse.core.event;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The append-only, hash-chained record of everything that happened. */
public interface EventLog extends EventSink {
  /** Events with seq greater than after, oldest first, at most limit of them. */
  List<Event> after(long after, int limit);

  /** The newest events, oldest first, at most limit of them. */
  List<Event> latest(int limit);

  /** Registers a listener called after each append; returns a handle that unregisters it. */
  AutoCloseable subscribe(Consumer<Event> listener);

  /** Checks the whole chain from the first event. */
  Verification verify();

  /**
   * The outcome of checking the chain.
   *
   * @param events how many events were checked
   * @param broken the first event that does not verify, or null when the chain is intact
   */
  record Verification(long events, EventChain.Break broken) {
    public boolean intact() {
      return broken == null;
    }

    public Optional<EventChain.Break> firstBreak() {
      return Optional.ofNullable(broken);
    }
  }
}
