package dev.pilothouse.runtime.kubernetes;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The cluster's own Warning events about what this runtime runs (a pod that cannot be scheduled, a
 * failing probe, a volume that will not mount, a ReplicaSet refused by a quota), read from the
 * Events API at most every {@link #INTERVAL} and handed on once each: a Kubernetes event that
 * repeats (its count rises) is handed on again. Events from before the runtime was opened are not
 * repeated (the daemon before it saw them).
 */
final class ClusterWarnings {
  /** How often the namespace's events are listed. */
  static final Duration INTERVAL = Duration.ofSeconds(2);

  /** The most events read per listing. */
  static final long LIMIT = 1000;

  /** One warning about one of the runtime's objects. */
  record Warning(String service, String pod, String reason, String message, int count) {}

  private final KubernetesClient client;
  private final String namespace;
  private final InstantSource clock;
  private final Instant opened;
  private Instant next = Instant.MIN;
  private Set<String> seen = new HashSet<>();

  ClusterWarnings(KubernetesClient client, String namespace, InstantSource clock) {
    this.client = client;
    this.namespace = namespace;
    this.clock = clock;
    this.opened = clock.instant();
  }

  /**
   * The warnings not handed on before, if it is time to look; owner names the service of an object
   * ("Pod NAME", "Deployment NAME", "ReplicaSet NAME"), empty for objects not this runtime's.
   */
  List<Warning> poll(Function<ObjectReference, Optional<String>> owner) {
    Instant now = clock.instant();
    if (now.isBefore(next)) {
      return List.of();
    }
    next = now.plus(INTERVAL);
    List<Event> events =
        client
            .v1()
            .events()
            .inNamespace(namespace)
            .list(new ListOptionsBuilder().withLimit(LIMIT).build())
            .getItems();
    Set<String> listed = new HashSet<>();
    List<Warning> out = new ArrayList<>();
    for (Event e : events) {
      if (!"Warning".equals(e.getType()) || e.getInvolvedObject() == null) {
        continue;
      }
      Optional<String> service = owner.apply(e.getInvolvedObject());
      if (service.isEmpty()) {
        continue;
      }
      int count = e.getCount() == null ? 1 : e.getCount();
      String key = e.getMetadata().getUid() + "#" + count;
      listed.add(key);
      if (seen.contains(key) || last(e).map(t -> t.isBefore(opened)).orElse(false)) {
        continue;
      }
      ObjectReference o = e.getInvolvedObject();
      out.add(
          new Warning(
              service.get(),
              "Pod".equals(o.getKind()) ? o.getName() : "",
              e.getReason() == null ? "" : e.getReason(),
              e.getMessage() == null ? "" : e.getMessage().strip(),
              count));
    }
    seen = listed; // events the API no longer lists are forgotten
    return out;
  }

  /** When the event last happened, if it says. */
  private static Optional<Instant> last(Event e) {
    for (String t :
        new String[] {
          e.getLastTimestamp(),
          e.getEventTime() == null ? null : e.getEventTime().getTime(),
          e.getFirstTimestamp()
        }) {
      if (t != null && !t.isEmpty()) {
        try {
          return Optional.of(Instant.parse(t));
        } catch (java.time.format.DateTimeParseException ignored) {
          // try the next
        }
      }
    }
    return Optional.empty();
  }

  /** The fields of the daemon's event for a warning. */
  static Map<String, String> fields(Warning w) {
    return Map.of("reason", w.reason(), "count", Integer.toString(w.count()));
  }
}
