package dev.pilothouse.core.incident;

import java.util.List;
import java.util.Optional;

/** Where incidents are kept, with the position in the event log they have been built up to. */
public interface IncidentRepository {
  /** The open incidents, and the event log position they include. */
  Snapshot incidentSnapshot();

  /** Incidents newest first, open or not. */
  List<Incident> recent(int limit);

  Optional<Incident> incident(long id);

  /** Saves incidents and the position together, at once. */
  void save(List<Incident> changed, long eventCursor);

  /** A new incident's id (never reused). */
  long nextId();

  /** The open incidents and the event position. */
  record Snapshot(List<Incident> open, long eventCursor) {}
}
