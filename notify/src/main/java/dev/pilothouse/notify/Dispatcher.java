package dev.pilothouse.notify;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.Notifier;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends events of chosen types to every notifier, each delivery on its own virtual thread, retried
 * with exponential backoff (4 attempts: after 0.5, 1 and 2 s) so a slow or failing receiver never
 * holds up the daemon or the other receivers.
 */
public final class Dispatcher implements Consumer<Event>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);
  static final int ATTEMPTS = 4;

  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Duration firstBackoff;
  private volatile List<Notifier> notifiers = List.of();
  private volatile Set<String> types = Set.of();

  /** A dispatcher waiting firstBackoff before the first retry (doubling after). */
  public Dispatcher(Duration firstBackoff) {
    this.firstBackoff = requireNonNull(firstBackoff, "firstBackoff");
  }

  /** Sends these event types to these notifiers from now on. */
  public void configure(List<Notifier> notifiers, Set<String> types) {
    this.notifiers = List.copyOf(notifiers);
    this.types = Set.copyOf(types);
  }

  @Override
  public void accept(Event e) {
    if (!types.contains(e.type())) {
      return;
    }
    for (Notifier n : notifiers) {
      executor.execute(() -> deliver(n, e));
    }
  }

  private void deliver(Notifier n, Event e) {
    long wait = firstBackoff.toMillis();
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        n.send(e);
        return;
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception ex) {
        if (attempt == ATTEMPTS) {
          log.warn(
              "could not notify {} of event {} after {} attempts: {}",
              n.name(),
              e.seq(),
              ATTEMPTS,
              ex.toString());
          return;
        }
        try {
          Thread.sleep(wait); // backoff between delivery attempts
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        wait *= 2;
      }
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
