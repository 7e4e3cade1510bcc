package dev.pilothouse.core.event;

import dev.pilothouse.core.spec.Hashing;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Computes and checks the hash chain over events. */
public final class EventChain {
  /** The previous hash of the first event. */
  public static final String GENESIS = "0".repeat(64);

  private EventChain() {}

  /** The hash of an event with this content following prevHash. */
  public static String hash(
      String prevHash,
      long seq,
      String at,
      String type,
      String service,
      String instance,
      String message,
      Map<String, String> fields) {
    StringBuilder b = new StringBuilder(prevHash).append('\n');
    b.append(seq).append('\n').append(at).append('\n').append(type).append('\n');
    b.append(service).append('\n').append(instance).append('\n').append(message).append('\n');
    fields.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> b.append(e.getKey()).append('=').append(e.getValue()).append('\n'));
    return Hashing.sha256Hex(b.toString());
  }

  /**
   * Checks a run of consecutive events; returns the sequence number of the first event whose link
   * or hash does not match, or empty when the chain is intact.
   */
  public static Optional<Long> firstBroken(String prevHash, List<Event> events) {
    String prev = prevHash;
    for (Event e : events) {
      String expected =
          hash(
              prev,
              e.seq(),
              e.at().toString(),
              e.type(),
              e.service(),
              e.instance(),
              e.message(),
              e.fields());
      if (!e.prevHash().equals(prev) || !e.hash().equals(expected)) {
        return Optional.of(e.seq());
      }
      prev = e.hash();
    }
    return Optional.empty();
  }
}
