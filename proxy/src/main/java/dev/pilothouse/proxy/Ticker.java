package dev.pilothouse.proxy;

/**
 * The data plane's time: a monotonic clock for deadlines, idle times, ejections and latencies, and
 * the wall clock for the access log. {@link #SYSTEM} in production; tests pass one they move by
 * hand, so timeouts and ejections are tested in virtual time.
 */
public interface Ticker {
  /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
  long nanoTime();

  /** Milliseconds since the epoch, as {@link System#currentTimeMillis()}. */
  long epochMillis();

  /** The system's clocks. */
  Ticker SYSTEM =
      new Ticker() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public long epochMillis() {
          return System.currentTimeMillis();
        }
      };
}
