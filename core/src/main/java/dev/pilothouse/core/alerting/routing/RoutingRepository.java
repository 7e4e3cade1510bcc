package dev.pilothouse.core.alerting.routing;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Where silences and the notification log are kept, so that a restart changes neither. */
public interface RoutingRepository {
  /** Every silence, expired ones included (until they are purged). */
  List<Silence> silences();

  /** Creates or replaces a silence by its id. */
  void saveSilence(Silence s);

  /** Removes silences that expired before the given moment. */
  void purgeSilences(Instant expiredBefore);

  /**
   * The last notification of a group to one integration of a receiver.
   *
   * @param firing fingerprints of the firing alerts it held
   * @param resolved fingerprints of the resolved alerts it held
   */
  record Notified(
      String key, List<String> firing, List<String> resolved, Instant at, Instant expiresAt) {
    public Notified {
      firing = List.copyOf(firing);
      resolved = List.copyOf(resolved);
    }
  }

  Optional<Notified> notified(String key);

  void saveNotified(Notified n);

  /** Removes entries that expired before the given moment. */
  void purgeNotified(Instant now);
}
