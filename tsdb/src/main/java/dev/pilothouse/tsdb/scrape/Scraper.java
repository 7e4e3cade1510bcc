package dev.pilothouse.tsdb.scrape;

import dev.pilothouse.tsdb.LabelLimits;
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

  /** Where a target's samples come from. */
  public interface Source {
    /** Reads and parses the target's exposition within the limits; throws when it cannot. */
    Exposition.Result scrape(Duration timeout, Exposition.Limits limits) throws Exception;
  }

  /** An HTTP target, read as a stream: the body and sample limits stop it early. */
  public static Source http(URI uri) {
    return new HttpSource(uri);
  }

  /** A source inside this process. */
  public static Source inProcess(Supplier<String> text) {
    return (timeout, limits) -> Exposition.parse(text.get(), false, limits);
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

  /** Closes HTTP bodies still being read at their scrape's deadline (the timeout ends there). */
  private static final ScheduledExecutorService DEADLINES =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().name("scrape-deadlines").daemon().unstarted(r));

  private final Tsdb db;
  private final InstantSource clock;
  private final ScheduledExecutorService pool;
  private volatile LabelLimits labelLimits = LabelLimits.defaults();
  private volatile long bodySizeLimit = 64L << 20;
  private final Map<String, Running> running = new ConcurrentHashMap<>();
  private final Map<String, Exposition.Metadata> metadata = new ConcurrentHashMap<>();

  public Scraper(Tsdb db, InstantSource clock) {
    this.db = db;
    this.clock = clock;
    // One thread only times the scrapes; each runs on a virtual thread of its own, so a slow or
    // huge target never delays the others.
    this.pool =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("scrape-timer").daemon().unstarted(r));
  }

  /** Sets the label limits every scraped series must meet and the largest body read. */
  public void limit(LabelLimits labels, long bodyBytes) {
    this.labelLimits = Objects.requireNonNull(labels, "labels");
    this.bodySizeLimit = bodyBytes;
  }

  private final class Running {
    final Target target;
    final ScheduledFuture<?> future;
    final java.util.concurrent.atomic.AtomicBoolean busy =
        new java.util.concurrent.atomic.AtomicBoolean();
    volatile Health health;
    // Guarded by this Running: a scrape under way when its target is removed writes nothing after
    // the target's staleness markers.
    Set<Labels> lastSeries = Set.of();
    boolean scraped;
    boolean removed;

    /** Starts scraping a target; lastSeries: what the target it replaces wrote. */
    Running(Target target, Set<Labels> lastSeries) {
      this.target = target;
      this.lastSeries = lastSeries;
      long period = Math.max(100, target.interval().toMillis());
      long offset = Math.floorMod(target.key().hashCode(), period); // spread the targets
      this.health = new Health(target.key(), target.labels(), false, "not scraped yet", 0, 0, 0);
      this.future =
          pool.scheduleAtFixedRate(this::start, offset % 1000, period, TimeUnit.MILLISECONDS);
    }

    /** Starts a scrape unless the previous one is still running (then this one is skipped). */
    void start() {
      if (busy.compareAndSet(false, true)) {
        Thread.ofVirtual()
            .name("scrape " + target.key())
            .start(
                () -> {
                  try {
                    scrape(this);
                  } finally {
                    busy.set(false);
                  }
                });
      }
    }
  }

  /**
   * Scrapes exactly these targets from now on (by key); removed ones get staleness markers. A
   * target that keeps its key but changes (its labels, interval, ...) is scraped anew, and what the
   * old one wrote that the new one's first scrape does not write again gets markers then (as
   * Prometheus carries a scrape loop's series over a reload): a relabelled instance leaves no
   * series behind.
   */
  public synchronized void setTargets(List<Target> targets) {
    Map<String, Target> want = new LinkedHashMap<>();
    targets.forEach(t -> want.put(t.key(), t));
    Map<String, Set<Labels>> carried = new java.util.HashMap<>();
    for (String key : List.copyOf(running.keySet())) {
      Running r = running.get(key);
      Target t = want.get(key);
      if (t == null || !t.equals(r.target)) {
        r.future.cancel(false);
        running.remove(key);
        synchronized (r) {
          r.removed = true;
          if (t == null) {
            markStale(ended(r));
          } else {
            carried.put(key, ended(r));
          }
        }
      }
    }
    for (Target t : want.values()) {
      running.computeIfAbsent(t.key(), k -> new Running(t, carried.getOrDefault(k, Set.of())));
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
      Exposition.Result res =
          t.source().scrape(t.timeout(), new Exposition.Limits(bodySizeLimit, t.sampleLimit()));
      samples = res.samples();
      metadata.putAll(res.metadata());
      LabelLimits limits = labelLimits;
      for (Exposition.Sample x : samples) {
        String wrong = limits.check(x.labels());
        if (wrong != null) {
          error = "label limit exceeded: " + wrong;
          samples = List.of();
          break;
        }
      }
    } catch (Exception e) {
      error = e.getMessage() == null ? e.toString() : e.getMessage();
      samples = List.of();
    }
    double duration = (System.nanoTime() - start) / 1e9;
    synchronized (r) {
      if (!r.removed) {
        write(r, now, samples, error, duration);
      }
    }
  }

  private void write(
      Running r, long now, List<Exposition.Sample> samples, String error, double duration) {
    Target t = r.target;
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
    List<Labels> own = reported(t.labels()); // in REPORTED's order
    a.add(own.get(0), now, up ? 1 : 0);
    a.add(own.get(1), now, duration);
    a.add(own.get(2), now, samples.size());
    a.commit();
    Set<Labels> gone = new HashSet<>(r.lastSeries);
    gone.removeAll(seen);
    gone.removeAll(own); // written just now
    markStale(gone);
    r.lastSeries = seen;
    r.scraped = true;
    r.health = new Health(t.key(), t.labels(), up, error, now, duration, stored);
  }

  /** The series the scraper writes about each scrape, beside what the target exposes. */
  private static final List<String> REPORTED =
      List.of("up", "scrape_duration_seconds", "scrape_samples_scraped");

  /** The series the scraper writes about a target with these labels. */
  private static List<Labels> reported(Labels target) {
    return REPORTED.stream().map(name -> target.with(Labels.NAME, name)).toList();
  }

  /**
   * Every series a removed target wrote: what it exposed and what the scraper reported about it
   * ({@code up} among them — left out, a gone instance's last {@code up 0} held {@code up == 0} for
   * the five minutes of lookback and fired target-down alerts for instances long replaced).
   */
  private static Set<Labels> ended(Running r) {
    if (!r.scraped) {
      return r.lastSeries; // never scraped: it reported nothing
    }
    Set<Labels> all = new HashSet<>(r.lastSeries);
    all.addAll(reported(r.target.labels()));
    return all;
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
    public Exposition.Result scrape(Duration timeout, Exposition.Limits limits) throws Exception {
      HttpResponse<java.io.InputStream> res =
          HTTP.send(
              HttpRequest.newBuilder(uri)
                  .timeout(timeout)
                  .header(
                      "Accept",
                      "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofInputStream());
      // The request timeout ends with the headers; a body that stalls is cut at the same deadline.
      try (java.io.InputStream body = res.body()) {
        java.util.concurrent.atomic.AtomicBoolean late =
            new java.util.concurrent.atomic.AtomicBoolean();
        ScheduledFuture<?> cut =
            DEADLINES.schedule(
                () -> {
                  late.set(true);
                  try {
                    body.close();
                  } catch (java.io.IOException ignored) {
                    // closing is all that is wanted
                  }
                },
                timeout.toMillis(),
                TimeUnit.MILLISECONDS);
        try {
          if (res.statusCode() != 200) {
            throw new IllegalStateException("server returned HTTP status " + res.statusCode());
          }
          boolean om =
              res.headers()
                  .firstValue("Content-Type")
                  .map(c -> c.startsWith("application/openmetrics-text"))
                  .orElse(false);
          Exposition.Result r =
              Exposition.parse(
                  new java.io.BufferedReader(
                      new java.io.InputStreamReader(
                          new Bounded(body, limits), java.nio.charset.StandardCharsets.UTF_8)),
                  om,
                  limits);
          if (late.get()) {
            throw new java.io.IOException("closed at the deadline"); // a cut body is no result
          }
          return r;
        } catch (java.io.IOException e) {
          throw late.get()
              ? new java.net.http.HttpTimeoutException(
                  "scrape timed out: the body was not read within " + timeout.toMillis() + " ms")
              : e;
        } finally {
          cut.cancel(false);
        }
      }
    }
  }

  /** Passes a body through until it is longer than the limit, then fails. */
  private static final class Bounded extends java.io.FilterInputStream {
    private final Exposition.Limits limits;
    private long read;

    Bounded(java.io.InputStream in, Exposition.Limits limits) {
      super(in);
      this.limits = limits;
    }

    @Override
    public int read() throws java.io.IOException {
      int c = super.read();
      if (c >= 0) {
        count(1);
      }
      return c;
    }

    @Override
    public int read(byte[] b, int off, int len) throws java.io.IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) {
      read += n;
      if (limits.maxBytes() > 0 && read > limits.maxBytes()) {
        throw Exposition.tooLarge(limits);
      }
    }
  }
}
