package dev.pilothouse.server;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.tsdb.LabelLimits;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.QueryBudget;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.promql.Engine;
import dev.pilothouse.tsdb.scrape.HostCollector;
import dev.pilothouse.tsdb.scrape.Scraper;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The built-in metrics: the time-series store in {@code STATE/tsdb}, the PromQL engine over it, and
 * the scraper of the daemon's own metrics (Micrometer and the load balancer's RED metrics), the
 * host, and every instance that declares a metrics endpoint.
 */
final class Telemetry implements AutoCloseable {
  private final Tsdb db;
  private volatile Engine engine;
  private final QueryBudget.Pool queryMemory = QueryBudget.Pool.ofHeap(0.4, 24);
  private volatile MetricsSpec.Limits limits = MetricsSpec.Limits.DEFAULTS;
  private volatile LabelLimits labelLimits = labelLimits(MetricsSpec.Limits.DEFAULTS);
  private final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> refusedWrites =
      new java.util.concurrent.ConcurrentSkipListMap<>();
  private final InstantSource clock;
  private final Scraper scraper;
  private final HostCollector host;
  private final PrometheusMeterRegistry registry;
  private final String hostname;
  private volatile Supplier<String> self = () -> "";
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final Scraper.Source selfSource = Scraper.inProcess(this::selfText);
  private final Scraper.Source hostSource;
  private final java.util.Map<String, RemoteWriter> writers = new java.util.LinkedHashMap<>();

  Telemetry(
      Path stateDir, MetricsSpec spec, InstantSource clock, Supplier<List<ServiceStatus>> status) {
    this.db =
        Tsdb.open(
            stateDir.resolve("tsdb"),
            new Tsdb.Options(
                spec.maxSeriesPerMetric(),
                Math.max(1, Runtime.getRuntime().availableProcessors()),
                spec.retention().toMillis(),
                spec.retentionBytes()));
    this.engine = engine(spec);
    this.clock = clock;
    this.scraper = new Scraper(db, clock);
    applyLimits(spec.limits());
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    gc.bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    this.host =
        new HostCollector(
            Path.of("/proc"),
            () -> {
              List<HostCollector.Proc> out = new ArrayList<>();
              for (ServiceStatus s : status.get()) {
                for (InstanceStatus i : s.instances()) {
                  out.add(
                      new HostCollector.Proc(
                          s.name(), i.id(), i.pid(), i.version() == null ? "" : i.version()));
                }
              }
              return out;
            });
    String h;
    try {
      h = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      h = "localhost";
    }
    this.hostname = h;
    this.hostSource = Scraper.inProcess(host::text);
  }

  /** Counts processes run on an instance's behalf (chaos stressors) as the instance's. */
  void countHelpers(dev.pilothouse.tsdb.scrape.InstanceUsage usage) {
    host.countHelpers(usage);
  }

  /** The daemon's own metrics text (instances, load balancer), scraped with Micrometer's. */
  void setSelfMetrics(Supplier<String> text) {
    this.self = text;
  }

  /** The text of the daemon's /metrics: its own gauges, the RED metrics and the JVM's. */
  String selfText() {
    return self.get() + tsdbText() + refusedText() + remoteWriteText() + registry.scrape();
  }

  private String tsdbText() {
    Tsdb.Stats s = db.stats();
    long blockBytes = 0;
    long blockSamples = 0;
    List<Tsdb.BlockInfo> blocks = db.blocks(); // sizes come from the file system: read once
    for (Tsdb.BlockInfo b : blocks) {
      blockBytes += b.bytes();
      blockSamples += b.samples();
    }
    return "# TYPE pilothouse_tsdb_series gauge\npilothouse_tsdb_series "
        + s.series()
        + "\n# TYPE pilothouse_tsdb_samples gauge\npilothouse_tsdb_samples "
        + s.samples()
        + "\n# TYPE pilothouse_tsdb_blocks gauge\npilothouse_tsdb_blocks "
        + blocks.size()
        + "\n# TYPE pilothouse_tsdb_block_bytes gauge\npilothouse_tsdb_block_bytes "
        + blockBytes
        + "\n# TYPE pilothouse_tsdb_block_samples gauge\npilothouse_tsdb_block_samples "
        + blockSamples
        + "\n# HELP pilothouse_tsdb_wal_replay_seconds Time the last start spent replaying the WAL.\n"
        + "# TYPE pilothouse_tsdb_wal_replay_seconds gauge\npilothouse_tsdb_wal_replay_seconds "
        + db.replayMillis() / 1000.0
        + "\n# HELP pilothouse_tsdb_head_series_removed_total Series dropped from the head once"
        + " all their samples were in blocks.\n"
        + "# TYPE pilothouse_tsdb_head_series_removed_total counter\n"
        + "pilothouse_tsdb_head_series_removed_total "
        + db.droppedSeries()
        + "\n";
  }

  private synchronized String remoteWriteText() {
    if (writers.isEmpty()) {
      return "";
    }
    StringBuilder b = new StringBuilder();
    b.append("# TYPE pilothouse_remote_write_samples_sent_total counter\n");
    b.append("# TYPE pilothouse_remote_write_samples_dropped_total counter\n");
    b.append("# TYPE pilothouse_remote_write_failed_attempts_total counter\n");
    for (RemoteWriter w : writers.values()) {
      String l =
          "{url=\""
              + w.url().getScheme()
              + "://"
              + w.url().getHost()
              + ":"
              + w.url().getPort()
              + w.url().getPath()
              + "\"} ";
      b.append("pilothouse_remote_write_samples_sent_total")
          .append(l)
          .append(w.sent.get())
          .append('\n');
      b.append("pilothouse_remote_write_samples_dropped_total")
          .append(l)
          .append(w.dropped.get())
          .append('\n');
      b.append("pilothouse_remote_write_failed_attempts_total")
          .append(l)
          .append(w.failedAttempts.get())
          .append('\n');
    }
    return b.toString();
  }

  /** Starts and stops remote writers to match the spec's URLs. */
  private synchronized void remoteWrite(List<String> urls) {
    for (String u : List.copyOf(writers.keySet())) {
      if (!urls.contains(u)) {
        writers.remove(u).close();
      }
    }
    for (String u : urls) {
      writers.computeIfAbsent(u, k -> new RemoteWriter(URI.create(k), db));
    }
  }

  Engine engine() {
    return engine;
  }

  /** The limits on queries and ingestion in force. */
  MetricsSpec.Limits limits() {
    return limits;
  }

  /** The label limits that remote write and scrapes check. */
  LabelLimits labelLimits() {
    return labelLimits;
  }

  /** Counts a remote-write request refused as a whole, by reason. */
  void countRefusedWrite(String reason) {
    refusedWrites
        .computeIfAbsent(reason, k -> new java.util.concurrent.atomic.AtomicLong())
        .incrementAndGet();
  }

  private void applyLimits(MetricsSpec.Limits l) {
    labelLimits = labelLimits(l);
    limits = l;
    db.limitFuture(clock, l.futureTolerance().toMillis());
    scraper.limit(labelLimits, l.bodySizeLimit());
  }

  private static LabelLimits labelLimits(MetricsSpec.Limits l) {
    return new LabelLimits(l.labelLimit(), l.labelNameLengthLimit(), l.labelValueLengthLimit());
  }

  private String refusedText() {
    StringBuilder b =
        new StringBuilder(
            "# HELP pilothouse_tsdb_samples_refused_total Samples refused by the store, by reason.\n"
                + "# TYPE pilothouse_tsdb_samples_refused_total counter\n");
    db.refused()
        .forEach(
            (r, n) ->
                b.append("pilothouse_tsdb_samples_refused_total{reason=\"")
                    .append(r.label())
                    .append("\"} ")
                    .append(n)
                    .append('\n'));
    b.append(
        "# HELP pilothouse_remote_write_requests_refused_total Remote-write requests refused as a"
            + " whole, by reason.\n# TYPE pilothouse_remote_write_requests_refused_total counter\n");
    refusedWrites.forEach(
        (r, n) ->
            b.append("pilothouse_remote_write_requests_refused_total{reason=\"")
                .append(r)
                .append("\"} ")
                .append(n.get())
                .append('\n'));
    return b.toString();
  }

  /**
   * An engine with the spec's limits, drawing on the daemon's query memory: 40% of the heap at an
   * estimated 24 bytes per sample held (timestamp, value, and the reset sums of range windows).
   */
  private Engine engine(MetricsSpec m) {
    return new Engine(
        (mint, maxt, matchers, budget) -> db.select(mint, maxt, matchers, budget),
        Engine.Options.defaults()
            .withLimits(
                m.queryMaxSamples(),
                m.limits().queryTimeout().toMillis(),
                m.limits().queryMaxConcurrency())
            .withPool(queryMemory));
  }

  Tsdb db() {
    return db;
  }

  Scraper scraper() {
    return scraper;
  }

  /** Points the scraper at what spec and status declare now (cheap when nothing changed). */
  void configure(Spec spec, List<ServiceStatus> status) {
    MetricsSpec m = spec.metrics();
    if (!m.limits().equals(limits)) {
      applyLimits(m.limits());
    }
    Engine.Options o = engine.options();
    if (o.maxSamples() != m.queryMaxSamples()
        || o.timeoutMs() != m.limits().queryTimeout().toMillis()
        || o.maxConcurrency() != m.limits().queryMaxConcurrency()) {
      engine = engine(m);
    }
    List<Scraper.Target> targets = new ArrayList<>();
    targets.add(
        new Scraper.Target(
            "pilothouse",
            Labels.of("job", "pilothouse", "instance", hostname),
            selfSource,
            m.scrapeInterval(),
            m.scrapeTimeout(),
            m.sampleLimit()));
    if (m.hostMetrics()) {
      targets.add(
          new Scraper.Target(
              "node",
              Labels.of("job", "node", "instance", hostname),
              hostSource,
              m.scrapeInterval(),
              m.scrapeTimeout(),
              m.sampleLimit()));
    }
    for (ServiceStatus s : status) {
      MetricsSpec.Endpoint e = m.endpoints().get(s.name());
      if (e == null) {
        continue;
      }
      for (InstanceStatus i : s.instances()) {
        if (i.state().equals("stopping")) {
          continue;
        }
        int port = e.port() == 0 ? i.port() : e.port();
        targets.add(
            new Scraper.Target(
                s.name() + "/" + i.id(),
                Labels.of("job", s.name(), "instance", i.id(), "version", i.version()),
                Scraper.http(URI.create("http://127.0.0.1:" + port + e.path())),
                m.scrapeInterval(),
                m.scrapeTimeout(),
                m.sampleLimit()));
      }
    }
    scraper.setTargets(targets);
    remoteWrite(m.remoteWrite());
  }

  @Override
  public void close() {
    scraper.close();
    synchronized (this) {
      writers.values().forEach(RemoteWriter::close);
    }
    gc.close();
    registry.close();
    db.close();
  }
}
