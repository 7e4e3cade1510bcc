package dev.pilothouse.tsdb.scrape;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.StaleNaN;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.TsdbException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Scrapes targets into the store at their interval: HTTP endpoints in the Prometheus or OpenMetrics
 * text format, or in-process sources. Each scrape also writes {@code up}, {@code
 * scrape_duration_seconds} and {@code scrape_samples_scraped}; a scrape over the target's sample
 * limit fails as a whole; series that disappear get staleness markers, as Prometheus does.
 */
public final class Scraper implements AutoCloseable {

  /** Where a target's text comes from. */
  public interface Source {
    /** The exposition text; throws when the target cannot be scraped. */
    String fetch(Duration timeout) throws Exception;
  }

  /** An HTTP target. */
  public static Source http(URI uri) {
    return new HttpSource(uri);
  }

  /** A source inside this process. */
  public static Source inProcess(Supplier<String> text) {
    return timeout -> text.get();
  }

  /**
   * A target.
   *
   * @param labels job, instance and any other labels added to every sample
   * @param sampleLimit a scrape with more samples fails (0: no limit)
   */
  public record Target(
      String key,
      Labels labels,
      Source source,
      Duration interval,
      Duration timeout,
      int sampleLimit) {
    public Target {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(labels, "labels");
      Objects.requireNonNull(source, "source");
    }
  }

  /** The outcome of a target's latest scrape. */
  public record Health(
      String key,
      Labels labels,
      boolean up,
      String lastError,
      long lastScrapeMs,
      double durationS,
      int samples) {}

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Tsdb db;
  private final InstantSource clock;
  private final ScheduledExecutorService pool;
  private final Map<String, Running> running = new ConcurrentHashMap<>();
  private final Map<String, Exposition.Metadata> metadata = new ConcurrentHashMap<>();

  public Scraper(Tsdb db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
    this.pool =
        Executors.newScheduledThreadPool(
            2, r -> Thread.ofPlatform().name("scrape").daemon().unstarted(r));
  }

  private final class Running {
    final Target target;
    final ScheduledFuture<?> future;
    volatile Health health;
    Set<Labels> lastSeries = Set.of();

    Running(Target target) {
      this.target = target;
      long period = Math.max(100, target.interval().toMillis());
      long offset = Math.floorMod(target.key().hashCode(), period); // spread the targets
      this.health = new Health(target.key(), target.labels(), false, "not scraped yet", 0, 0, 0);
      this.future =
          pool.scheduleAtFixedRate(
              () -> scrape(this), offset % 1000, period, TimeUnit.MILLISECONDS);
    }
  }

  /** Scrapes exactly these targets from now on (by key); removed ones get staleness markers. */
  public synchronized void setTargets(List<Target> targets) {
    Map<String, Target> want = new LinkedHashMap<>();
    targets.forEach(t -> want.put(t.key(), t));
    for (String key : List.copyOf(running.keySet())) {
      Running r = running.get(key);
      Target t = want.get(key);
      if (t == null || !t.equals(r.target)) {
        r.future.cancel(false);
        running.remove(key);
        if (t == null) {
          markStale(r.lastSeries);
        }
      }
    }
    for (Target t : want.values()) {
      running.computeIfAbsent(t.key(), k -> new Running(t));
    }
  }

  /** The latest scrape of every target. */
  public List<Health> health() {
    List<Health> out = new ArrayList<>();
    running.values().forEach(r -> out.add(r.health));
    return out;
  }

  /** HELP/TYPE/UNIT of every metric seen. */
  public Map<String, Exposition.Metadata> metadata() {
    return Map.copyOf(metadata);
  }

  private void scrape(Running r) {
    Target t = r.target;
    long now = clock.millis();
    long start = System.nanoTime();
    String error = "";
    List<Exposition.Sample> samples = List.of();
    try {
      String text = t.source().fetch(t.timeout());
      Exposition.Result res = Exposition.parse(text, false);
      samples = res.samples();
      metadata.putAll(res.metadata());
      if (t.sampleLimit() > 0 && samples.size() > t.sampleLimit()) {
        error =
            "sample limit exceeded: "
                + samples.size()
                + " samples, the limit is "
                + t.sampleLimit();
        samples = List.of();
      }
    } catch (Exception e) {
      error = e.getMessage() == null ? e.toString() : e.getMessage();
      samples = List.of();
    }
    double duration = (System.nanoTime() - start) / 1e9;
    Tsdb.Appender a = db.appender();
    Set<Labels> seen = new HashSet<>();
    int stored = 0;
    for (Exposition.Sample s : samples) {
      Labels l = withTarget(s.labels(), t.labels());
      if (!seen.add(l)) {
        continue;
      }
      try {
        a.add(l, s.timestampMs() == null ? now : s.timestampMs(), s.value());
        stored++;
      } catch (TsdbException e) {
        error = e.getMessage(); // e.g. the metric's series limit; the rest is kept
      }
    }
    boolean up = error.isEmpty() || !samples.isEmpty();
    report(a, t.labels(), "up", now, up ? 1 : 0);
    report(a, t.labels(), "scrape_duration_seconds", now, duration);
    report(a, t.labels(), "scrape_samples_scraped", now, samples.size());
    a.commit();
    Set<Labels> gone = new HashSet<>(r.lastSeries);
    gone.removeAll(seen);
    markStale(gone);
    r.lastSeries = seen;
    r.health = new Health(t.key(), t.labels(), up, error, now, duration, stored);
  }

  private static void report(Tsdb.Appender a, Labels target, String name, long t, double v) {
    a.add(target.with(Labels.NAME, name), t, v);
  }

  private void markStale(Set<Labels> series) {
    if (series.isEmpty()) {
      return;
    }
    long now = clock.millis();
    Tsdb.Appender a = db.appender();
    for (Labels l : series) {
      a.add(l, now, StaleNaN.VALUE);
    }
    a.commit();
  }

  /** Adds the target's labels; a scraped label of the same name becomes exported_NAME. */
  static Labels withTarget(Labels scraped, Labels target) {
    if (target.size() == 0) {
      return scraped;
    }
    Map<String, String> m = new HashMap<>(scraped.toMap());
    for (int i = 0; i < target.size(); i++) {
      String k = target.name(i);
      String old = m.put(k, target.value(i));
      if (old != null && !old.equals(target.value(i))) {
        m.put("exported_" + k, old);
      }
    }
    return Labels.of(m);
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }

  private record HttpSource(URI uri) implements Source {
    @Override
    public String fetch(Duration timeout) throws Exception {
      HttpResponse<String> res =
          HTTP.send(
              HttpRequest.newBuilder(uri)
                  .timeout(timeout)
                  .header(
                      "Accept",
                      "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() != 200) {
        throw new IllegalStateException("server returned HTTP status " + res.statusCode());
      }
      return res.body();
    }
  }
}
