package dev.pilothouse.proxy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Virtual time for the data plane: stands still until a test moves it. */
final class ManualTicker implements Ticker {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000_000L);
  private final AtomicLong millis = new AtomicLong(1_800_000_000_000L);

  @Override
  public long nanoTime() {
    return nanos.get();
  }

  @Override
  public long epochMillis() {
    return millis.get();
  }

  void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    millis.addAndGet(d.toMillis());
  }
}
