package dev.pilothouse.tsdb;

import java.lang.ref.WeakReference;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * Large buffers kept between uses (at most a few), for as long as the collector does not want the
 * memory: each is held weakly, so a collection that finds it unused frees it, as Go's sync.Pool
 * does. Ingestion uses them for what every request needs anew and drops after (an appender's
 * arrays, a decompressed request), which otherwise made the young generation fill several times as
 * fast; and buffers nobody uses are not memory the store holds. Thread-safe.
 *
 * @param <T> the kind of buffer
 */
public final class Spares<T> {
  private final ArrayBlockingQueue<WeakReference<T>> kept;

  /** Keeps at most this many buffers. */
  public Spares(int max) {
    this.kept = new ArrayBlockingQueue<>(max);
  }

  /** A kept buffer, or null when none is left. */
  public T take() {
    WeakReference<T> r;
    while ((r = kept.poll()) != null) {
      T t = r.get();
      if (t != null) {
        return t;
      }
    }
    return null;
  }

  /** Keeps a buffer for a later {@link #take} (dropped when as many are kept as allowed). */
  public void give(T buffer) {
    kept.offer(new WeakReference<>(buffer));
  }
}
