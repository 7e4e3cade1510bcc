package dev.pilothouse.anomaly;

import dev.pilothouse.core.anomaly.AnomalyDetection;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The detectors the spec asks for, run over the metrics store: every interval each detector's
 * expression is evaluated, each of its series scored by a detector of its own, and the scores
 * written back as {@code anomaly:score} (the series' labels plus {@code detector}), so that rules
 * and dashboards use them like any series. A detector starts warm: it first replays its
 * expression's history from the store (up to 8 days, 10,000 steps), so a restart or an apply does
 * not blind it for a week.
 */
public final class Anomalies {
  private static final Logger log = LoggerFactory.getLogger(Anomalies.class);

  /** The series name scores are written under. */
  public static final String SERIES = "anomaly:score";

  /** Series one detector scores at most; more are left out (and counted). */
  public static final int MAX_SERIES = 1_000;

  /** How far back a new detector replays history. */
  public static final Duration REPLAY = Duration.ofDays(8);

  /** Steps of history replayed at most. */
  public static final int MAX_REPLAY_STEPS = 10_000;

  /** A series' detector is dropped once the series has been absent this long. */
  static final Duration FORGET = Duration.ofHours(1);

  /** The metrics store as detectors use it. */
  public interface Store {
    /** A sample of an instant vector; labels include {@code __name__} when it has one. */
    record Sample(Map<String, String> labels, double value) {}

    /** A series of a range query: its labels, and its points' times (ms) and values. */
    record Series(Map<String, String> labels, long[] t, double[] v) {}

    List<Sample> instant(String expr, Instant at);

    List<Series> range(String expr, Instant from, Instant to, Duration step);

    void append(List<Sample> samples, Instant at);
  }

  private final Supplier<List<AnomalyDetection>> specs;
  private final Store store;
  private final InstantSource clock;
  private List<AnomalyDetection> last;
  private final Map<String, Run> runs = new LinkedHashMap<>();
  private long dropped;
  private long failures;

  public Anomalies(Supplier<List<AnomalyDetection>> specs, Store store, InstantSource clock) {
    this.specs = specs;
    this.store = store;
    this.clock = clock;
  }

  /** Starts, replaces and stops detectors as the spec says, and scores those that are due. */
  public synchronized void tick() {
    List<AnomalyDetection> now = specs.get();
    if (now != last) {
      Map<String, Run> keep = new HashMap<>(runs);
      runs.clear();
      for (AnomalyDetection a : now) {
        Run r = keep.get(a.name());
        runs.put(a.name(), r != null && r.spec.equals(a) ? r : new Run(a));
      }
      last = now;
    }
    Instant t = clock.instant();
    for (Run r : runs.values()) {
      try {
        r.tick(t);
      } catch (RuntimeException e) {
        failures++;
        r.failures++;
        r.lastError = e.getMessage();
        r.next = t.plus(r.spec.interval());
        log.warn("anomaly detector {} failed: {}", r.spec.name(), e.getMessage());
      }
    }
  }

  /** What each detector is doing, for the API. */
  public synchronized List<Map<String, Object>> status() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Run r : runs.values()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.spec.name());
      m.put("expr", r.spec.expr());
      m.put("interval_seconds", r.spec.interval().toSeconds());
      m.put("series", r.detectors.size());
      m.put("replayed_samples", r.replayed);
      m.put("last_error", r.lastError);
      out.add(m);
    }
    return out;
  }

  /** The daemon's own metrics about detection, in Prometheus text format. */
  public synchronized String metricsText() {
    StringBuilder b = new StringBuilder();
    b.append("# HELP pilothouse_anomaly_series Series scored, per detector.\n");
    b.append("# TYPE pilothouse_anomaly_series gauge\n");
    for (Run r : runs.values()) {
      b.append("pilothouse_anomaly_series{detector=\"")
          .append(r.spec.name())
          .append("\"} ")
          .append(r.detectors.size())
          .append('\n');
    }
    b.append("# HELP pilothouse_anomaly_evaluation_failures_total Failed evaluations.\n");
    b.append("# TYPE pilothouse_anomaly_evaluation_failures_total counter\n");
    b.append("pilothouse_anomaly_evaluation_failures_total ").append(failures).append('\n');
    b.append(
        "# HELP pilothouse_anomaly_series_dropped_total Series left out beyond 1,000 per"
            + " detector.\n");
    b.append("# TYPE pilothouse_anomaly_series_dropped_total counter\n");
    b.append("pilothouse_anomaly_series_dropped_total ").append(dropped).append('\n');
    return b.toString();
  }

  /** One detector of the spec: a Detector per series, keyed by the series' labels. */
  private final class Run {
    final AnomalyDetection spec;
    final Map<Map<String, String>, Slot> detectors = new HashMap<>();
    Instant next;
    long replayed;
    long failures;
    String lastError;

    Run(AnomalyDetection spec) {
      this.spec = spec;
    }

    void tick(Instant t) {
      if (next == null) {
        replay(t);
        next = t;
      }
      if (t.isBefore(next)) {
        return;
      }
      next = t.plus(spec.interval());
      List<Store.Sample> out = new ArrayList<>();
      for (Store.Sample s : store.instant(spec.expr(), t)) {
        Slot slot = slot(series(s.labels()));
        if (slot == null) {
          continue;
        }
        slot.seen = t;
        double score = slot.detector.update(t.getEpochSecond(), s.value());
        Map<String, String> labels = new TreeMap<>(series(s.labels()));
        labels.put("__name__", SERIES);
        labels.put("detector", spec.name());
        out.add(new Store.Sample(labels, score));
      }
      detectors.values().removeIf(x -> x.seen.isBefore(t.minus(FORGET)));
      if (!out.isEmpty()) {
        store.append(out, t);
      }
    }

    /** Feeds the detectors the expression's history, scoring nothing. */
    void replay(Instant t) {
      Duration step = spec.interval();
      Duration span = REPLAY;
      if (span.dividedBy(step) > MAX_REPLAY_STEPS) {
        span = step.multipliedBy(MAX_REPLAY_STEPS);
      }
      for (Store.Series s : store.range(spec.expr(), t.minus(span), t.minus(step), step)) {
        Slot slot = slot(series(s.labels()));
        if (slot == null) {
          continue;
        }
        slot.seen = t;
        for (int i = 0; i < s.t().length; i++) {
          slot.detector.update(Math.floorDiv(s.t()[i], 1000), s.v()[i]);
          replayed++;
        }
      }
    }

    Slot slot(Map<String, String> labels) {
      Slot s = detectors.get(labels);
      if (s == null) {
        if (detectors.size() >= MAX_SERIES) {
          dropped++;
          return null;
        }
        s = new Slot();
        detectors.put(labels, s);
      }
      return s;
    }
  }

  private static Map<String, String> series(Map<String, String> labels) {
    if (!labels.containsKey("__name__")) {
      return labels;
    }
    Map<String, String> m = new TreeMap<>(labels);
    m.remove("__name__");
    return m;
  }

  private static final class Slot {
    final Detector detector = new Detector();
    Instant seen;
  }
}
