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

  /**
   * The hash of an event with this content following prevHash, over a length-prefixed encoding
   * (each field as its UTF-8 length, a colon, then its bytes): no two different events encode the
   * same, whatever newlines or '=' their fields hold.
   */
  public static String hash(
      String prevHash,
      long seq,
      String at,
      String type,
      String service,
      String instance,
      String message,
      Map<String, String> fields) {
    StringBuilder b = new StringBuilder("v2\n");
    field(b, prevHash);
    field(b, Long.toString(seq));
    field(b, at);
    field(b, type);
    field(b, service);
    field(b, instance);
    field(b, message);
    field(b, Integer.toString(fields.size()));
    fields.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              field(b, e.getKey());
              field(b, e.getValue());
            });
    return Hashing.sha256Hex(b.toString());
  }

  private static void field(StringBuilder b, String s) {
    b.append(s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).append(':').append(s);
  }

  /** The first encoding (newline-separated), still accepted for events recorded with it. */
  static String legacyHash(
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
   * Where a chain stops verifying.
   *
   * @param seq the first event that does not verify
   * @param reason what is wrong with it, in words for an operator
   */
  public record Break(long seq, String reason) {}

  /**
   * Checks a run of consecutive events that follows prevHash (and event number prevSeq); returns
   * the first event that does not verify and why, or empty when the run is intact.
   */
  public static Optional<Break> check(String prevHash, long prevSeq, List<Event> events) {
    String prev = prevHash;
    long expectedSeq = prevSeq + 1;
    for (Event e : events) {
      if (e.seq() != expectedSeq) {
        return Optional.of(
            new Break(
                e.seq(),
                e.seq() > expectedSeq
                    ? "events " + expectedSeq + ".." + (e.seq() - 1) + " are missing"
                    : "out of order: it follows event " + (expectedSeq - 1)));
      }
      if (!e.prevHash().equals(prev)) {
        return Optional.of(
            new Break(
                e.seq(),
                "its link does not match the event before it (an earlier event was replaced,"
                    + " removed or reordered)"));
      }
      if (!contentMatches(prev, e)) {
        return Optional.of(new Break(e.seq(), "edited: its content does not match its hash"));
      }
      prev = e.hash();
      expectedSeq++;
    }
    return Optional.empty();
  }

  /** A way of hashing an event's content after the previous hash. */
  private interface Encoding {
    String hash(
        String prev,
        long seq,
        String at,
        String type,
        String service,
        String instance,
        String message,
        Map<String, String> fields);
  }

  /** The current encoding, then the one events written before it carry. */
  private static final List<Encoding> ENCODINGS = List.of(EventChain::hash, EventChain::legacyHash);

  /** Whether the event's hash covers its content after prev, in either encoding. */
  private static boolean contentMatches(String prev, Event e) {
    String at = e.at().toString();
    for (Encoding enc : ENCODINGS) {
      String h =
          enc.hash(prev, e.seq(), at, e.type(), e.service(), e.instance(), e.message(), e.fields());
      if (e.hash().equals(h)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Checks a run of consecutive events; returns the sequence number of the first event whose link
   * or hash does not match, or empty when the chain is intact.
   */
  public static Optional<Long> firstBroken(String prevHash, List<Event> events) {
    if (events.isEmpty()) {
      return Optional.empty();
    }
    return check(prevHash, events.get(0).seq() - 1, events).map(Break::seq);
  }
}
