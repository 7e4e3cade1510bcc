package dev.pilothouse.security;

import io.github.bucket4j.Bucket;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Failed authentications, limited per client address: after LIMIT failures within a minute (a token
 * bucket refilled by LIMIT a minute), every call from that address is refused until the bucket
 * refills, right token or not, so guessing stays slow. Addresses are kept for the most recent
 * MAX_ADDRESSES.
 */
public final class FailedLogins {
  public static final int LIMIT = 20;
  static final int MAX_ADDRESSES = 4096;

  private final Map<String, Bucket> buckets =
      new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> e) {
          return size() > MAX_ADDRESSES;
        }
      };

  /** Seconds until calls from this address are taken again; 0 when they are taken now. */
  public synchronized long blockedForSeconds(String address) {
    Bucket b = buckets.get(address);
    if (b == null || b.getAvailableTokens() > 0) {
      return 0;
    }
    long nanos = b.estimateAbilityToConsume(1).getNanosToWaitForRefill();
    return Math.max(1, Duration.ofNanos(nanos).toSeconds() + 1);
  }

  /**
   * Counts a failed authentication from this address.
   *
   * @return whether this failure used the address's last one: its calls are refused from now on
   */
  public synchronized boolean failed(String address) {
    Bucket b =
        buckets.computeIfAbsent(
            address,
            a ->
                Bucket.builder()
                    .addLimit(l -> l.capacity(LIMIT).refillGreedy(LIMIT, Duration.ofMinutes(1)))
                    .build());
    return b.tryConsume(1) && b.getAvailableTokens() == 0;
  }
}
