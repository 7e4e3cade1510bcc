package dev.pilothouse.server;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.tsdb.Labels;
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
    this.engine =
        new Engine(
            (mint, maxt, matchers, budget) -> db.select(mint, maxt, matchers, budget),
            Engine.Options.defaults());
    this.scraper = new Scraper(db, clock);
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
                  out.add(new HostCollector.Proc(s.name(), i.id(), i.pid()));
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

  /** The daemon's own metrics text (instances, load balancer), scraped with Micrometer's. */
  void setSelfMetrics(Supplier<String> text) {
    this.self = text;
  }

  /** The text of the daemon's /metrics: its own gauges, the RED metrics and the JVM's. */
  String selfText() {
    return self.get() + tsdbText() + remoteWriteText() + registry.scrape();
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

  Tsdb db() {
    return db;
  }

  Scraper scraper() {
    return scraper;
  }

  /** Points the scraper at what spec and status declare now (cheap when nothing changed). */
  void configure(Spec spec, List<ServiceStatus> status) {
    MetricsSpec m = spec.metrics();
    if (engine.options().maxSamples() != m.queryMaxSamples()) {
      Engine.Options d = Engine.Options.defaults();
      engine =
          new Engine(
              (mint, maxt, matchers, budget) -> db.select(mint, maxt, matchers, budget),
              new Engine.Options(
                  d.lookbackMs(), m.queryMaxSamples(), d.maxSteps(), d.defaultSubqueryStepMs()));
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
