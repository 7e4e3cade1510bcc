package dev.pilothouse.cluster;

import dev.pilothouse.core.cluster.LeaseStore;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The lease in memory, on this JVM's monotonic clock, for the elector's timing rules: a test can
 * make it unreachable, slow, or hand the lease to another daemon at a given moment, which a real
 * database cannot be told to do on cue. The real one ({@code PostgresLease}) is tested against
 * PostgreSQL in the store module, and elections end to end in {@code FailoverTest}.
 */
final class MemoryLeases implements LeaseStore {
  private String holder;
  private String address = "";
  private long term;
  private long expires; // System.nanoTime()
  volatile boolean unreachable;
  volatile long answerAfterMillis;
  volatile long lastGrantedExpiry;
  volatile int releases;

  @Override
  public synchronized OptionalLong acquire(
      String who, String address, String site, Duration lease) {
    answer();
    long now = System.nanoTime();
    if (holder != null && now - expires < 0) {
      return OptionalLong.empty();
    }
    holder = who;
    this.address = address;
    term++;
    expires = now + lease.toNanos();
    lastGrantedExpiry = expires;
    return OptionalLong.of(term);
  }

  @Override
  public synchronized boolean renew(String who, long t, Duration lease) {
    answer();
    long now = System.nanoTime();
    if (!who.equals(holder) || t != term || now - expires > 0) {
      return false;
    }
    expires = now + lease.toNanos();
    lastGrantedExpiry = expires;
    return true;
  }

  @Override
  public synchronized Optional<Lease> current() {
    answer();
    return holder == null
        ? Optional.empty()
        : Optional.of(
            new Lease(
                holder, address, "site", term, Duration.ofNanos(expires - System.nanoTime())));
  }

  @Override
  public synchronized void release(String who, long t) {
    if (who.equals(holder) && t == term) {
      expires = System.nanoTime() - 1;
      releases++;
    }
  }

  /** Another daemon takes the lease now, whatever it had. */
  synchronized long seize(String who, String address, Duration lease) {
    holder = who;
    this.address = address;
    term++;
    expires = System.nanoTime() + lease.toNanos();
    return term;
  }

  @Override
  public void close() {}

  private void answer() {
    if (unreachable) {
      throw new LeaseException("the store does not answer", null);
    }
    long ms = answerAfterMillis;
    if (ms > 0) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
