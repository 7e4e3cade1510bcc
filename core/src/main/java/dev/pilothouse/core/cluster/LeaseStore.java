package dev.pilothouse.core.cluster;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The one leader's lease, kept where every daemon's state is (a row in PostgreSQL). Times are the
 * database's own clock, so that daemons on machines whose clocks disagree still agree on expiry.
 * The term is the fencing token: it grows by one with every new leader, and the store refuses the
 * writes of any term but the newest.
 */
public interface LeaseStore extends AutoCloseable {

  /**
   * Who leads, as the store last recorded it.
   *
   * @param holder the leader's daemon id
   * @param address where the leader's API answers (followers forward there)
   * @param site the leader's host and state directory
   * @param term the fencing token
   * @param remaining how long the lease still runs (zero or negative: expired)
   */
  record Lease(String holder, String address, String site, long term, Duration remaining) {
    public boolean live() {
      return remaining.isPositive();
    }
  }

  /**
   * Takes the lease when nobody holds a live one; the new term, or empty when another holds it.
   *
   * @throws LeaseException when the store cannot be reached
   */
  OptionalLong acquire(String holder, String address, String site, Duration lease);

  /**
   * Extends the lease of holder's term by lease from now; false when it is no longer holder's (it
   * expired, or another took it).
   *
   * @throws LeaseException when the store cannot be reached
   */
  boolean renew(String holder, long term, Duration lease);

  /**
   * The lease as recorded, if anyone ever held one.
   *
   * @throws LeaseException when the store cannot be reached
   */
  Optional<Lease> current();

  /** Ends holder's lease at once (a clean stop), so that a follower need not wait for it. */
  void release(String holder, long term);

  @Override
  void close();

  /** The store could not be reached or answered with an error. */
  final class LeaseException extends RuntimeException {
    public LeaseException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
