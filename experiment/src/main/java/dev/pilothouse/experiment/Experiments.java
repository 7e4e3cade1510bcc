package dev.pilothouse.experiment;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.experiment.ExperimentRecord;
import dev.pilothouse.core.experiment.ExperimentRepository;
import dev.pilothouse.core.spec.ExperimentSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the spec's experiments: starts one when it appears (or its definition changes), reads its
 * results from the metrics store every {@link #READ_EVERY}, concludes it once its duration has
 * passed or every variant has its sample size, and ends it when it leaves the spec (a promotion or
 * a stop is a new revision without it). Lifecycles are kept in the store; results are read again
 * after a restart (a concluded experiment's up to the moment it concluded).
 */
public final class Experiments {
  private static final Logger log = LoggerFactory.getLogger(Experiments.class);

  /** How often results are read while an experiment runs. */
  public static final Duration READ_EVERY = Duration.ofSeconds(5);

  /** An experiment with its lifecycle and latest results (null until first read). */
  public record Status(ExperimentSpec spec, ExperimentRecord record, Results results) {}

  private final Supplier<Spec> spec;
  private final MetricsQuery query;
  private final ExperimentRepository repo;
  private final EventSink events;
  private final InstantSource clock;
  private final Map<String, ExperimentRecord> records = new LinkedHashMap<>();
  private final Map<String, Results> results = new LinkedHashMap<>();
  private final Map<String, Instant> readAt = new LinkedHashMap<>();
  private final Map<String, ExperimentSpec> specs = new LinkedHashMap<>();

  public Experiments(
      Supplier<Spec> spec,
      MetricsQuery query,
      ExperimentRepository repo,
      EventSink events,
      InstantSource clock) {
    this.spec = requireNonNull(spec, "spec");
    this.query = requireNonNull(query, "query");
    this.repo = requireNonNull(repo, "repo");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    for (ExperimentRecord r : repo.experiments()) {
      records.put(r.name(), r);
    }
  }

  /** One pass over the spec's experiments. */
  public synchronized void tick() {
    Instant now = clock.instant();
    Spec s = spec.get();
    for (ExperimentSpec e : s.experiments()) {
      specs.put(e.name(), e);
      String definition = Integer.toHexString(e.toString().hashCode());
      ExperimentRecord r = records.get(e.name());
      if (r == null || r.phase().equals("Ended") || !r.definition().equals(definition)) {
        r = save(new ExperimentRecord(e.name(), e.service(), definition, now, "Running", null, ""));
        results.remove(e.name());
        emit(e, "ExperimentStarted", "experiment " + e.name() + " started on " + e.service());
      }
      if (r.phase().equals("Running")) {
        read(e, r, now, false);
        conclude(e, r, now);
      } else if (!results.containsKey(e.name())) {
        read(e, r, r.concludedAt(), true); // after a restart: up to the moment it concluded
      }
    }
    for (ExperimentRecord r : List.copyOf(records.values())) {
      if (!r.phase().equals("Ended") && s.experiment(r.name()).isEmpty()) {
        String outcome = r.outcome().isEmpty() ? "removed from the spec" : r.outcome();
        save(
            new ExperimentRecord(
                r.name(),
                r.service(),
                r.definition(),
                r.startedAt(),
                "Ended",
                r.concludedAt() == null ? now : r.concludedAt(),
                outcome));
        events.emit(
            new NewEvent(
                now,
                "ExperimentEnded",
                r.service(),
                "",
                "experiment " + r.name() + " ended: " + outcome,
                Map.of("experiment", r.name(), "outcome", outcome)));
      }
    }
  }

  /** Records how an experiment is about to end (a promotion or a stop), before the spec changes. */
  public synchronized void ending(String name, String outcome) {
    ExperimentRecord r = records.get(name);
    if (r != null && !r.phase().equals("Ended")) {
      save(
          new ExperimentRecord(
              r.name(),
              r.service(),
              r.definition(),
              r.startedAt(),
              r.phase(),
              r.concludedAt(),
              outcome));
    }
  }

  /** The experiment with its latest results, if it is in the spec or was. */
  public synchronized Optional<Status> status(String name) {
    ExperimentRecord r = records.get(name);
    ExperimentSpec e = spec.get().experiment(name).orElse(specs.get(name));
    if (r == null || e == null) {
      return Optional.empty();
    }
    return Optional.of(new Status(e, r, results.get(name)));
  }

  /** Every experiment known. */
  public synchronized List<Status> all() {
    return records.keySet().stream().map(this::status).flatMap(Optional::stream).toList();
  }

  private void read(ExperimentSpec e, ExperimentRecord r, Instant to, boolean now) {
    Instant last = readAt.get(e.name());
    if (!now && last != null && clock.instant().isBefore(last.plus(READ_EVERY))) {
      return;
    }
    readAt.put(e.name(), clock.instant());
    try {
      results.put(e.name(), Results.read(e, query, r.startedAt(), to));
    } catch (RuntimeException ex) {
      log.warn("reading the results of experiment {} failed: {}", e.name(), ex.getMessage());
    }
  }

  private void conclude(ExperimentSpec e, ExperimentRecord r, Instant now) {
    Results res = results.get(e.name());
    boolean timeUp = !e.duration().isZero() && !now.isBefore(r.startedAt().plus(e.duration()));
    boolean enough =
        e.minSamples() > 0
            && res != null
            && res.variants().stream().allMatch(v -> v.requests() >= e.minSamples());
    if (!timeUp && !enough) {
      return;
    }
    ExperimentRecord done =
        save(
            new ExperimentRecord(
                r.name(), r.service(), r.definition(), r.startedAt(), "Concluded", now, ""));
    read(e, done, now, true);
    Results fin = results.get(e.name());
    String leader =
        fin == null || fin.leader() == null ? "no significant winner" : "leader " + fin.leader();
    emit(
        e,
        "ExperimentConcluded",
        "experiment "
            + e.name()
            + " concluded ("
            + (timeUp ? "its duration passed" : "every variant has " + e.minSamples() + " requests")
            + "): "
            + leader);
  }

  private ExperimentRecord save(ExperimentRecord r) {
    repo.saveExperiment(r);
    records.put(r.name(), r);
    return r;
  }

  private void emit(ExperimentSpec e, String type, String message) {
    events.emit(
        new NewEvent(
            clock.instant(), type, e.service(), "", message, Map.of("experiment", e.name())));
  }
}
