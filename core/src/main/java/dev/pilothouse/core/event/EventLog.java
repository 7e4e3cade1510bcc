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

  /** The sequence number of the first event whose chain link is broken, if any. */
  Optional<Long> verify();
}
