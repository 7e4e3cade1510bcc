package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The built-in metrics store and scraper.
 *
 * @param scrapeInterval how often every target is scraped
 * @param scrapeTimeout a scrape slower than this fails
 * @param retention samples older than this are dropped
 * @param retentionBytes the store's size limit on disk (0: none); the oldest data goes first
 * @param sampleLimit a scrape with more samples fails (0: no limit)
 * @param maxSeriesPerMetric new series of a metric beyond this are refused
 * @param hostMetrics whether the host collector runs (node_exporter's metrics, built in)
 * @param remoteWrite URLs that receive every sample by Prometheus remote write
 * @param endpoints per service, where its instances expose metrics
 * @param queryMaxSamples a query that would load more samples fails (its memory budget)
 * @param limits the other bounds on queries and ingestion
 * @param source where the daemon's own PromQL reads go (rollout checks, rules, autoscaling, chaos
 *     probes, experiments): the built-in store, or an external Prometheus-compatible endpoint
 */
public record MetricsSpec(
    Duration scrapeInterval,
    Duration scrapeTimeout,
    Duration retention,
    long retentionBytes,
    int sampleLimit,
    int maxSeriesPerMetric,
    boolean hostMetrics,
    List<String> remoteWrite,
    Map<String, Endpoint> endpoints,
    long queryMaxSamples,
    Limits limits,
    Source source) {

  /**
   * An external Prometheus-compatible query API the daemon reads instead of its store.
   *
   * @param url the API's root (…/api/v1/query is asked); empty: the built-in store
   * @param bearerTokenFile a file whose content is sent as a bearer token; empty: none
   * @param timeout a query not answered within it fails (the check or rule reports it)
   * @param headers sent with every query, e.g. Mimir's tenant {@code X-Scope-OrgID}
   */
  public record Source(
      String url, String bearerTokenFile, Duration timeout, Map<String, String> headers) {
    /** The built-in store. */
    public static final Source BUILT_IN = new Source("", "", Duration.ofSeconds(10), Map.of());

    public Source {
      requireNonNull(url, "url");
      requireNonNull(bearerTokenFile, "bearerTokenFile");
      requireNonNull(timeout, "timeout");
      headers = headers == null ? Map.of() : new TreeMap<>(headers);
    }

    public boolean external() {
      return !url.isEmpty();
    }
  }

  /** Reading the built-in store. */
  public MetricsSpec(
      Duration scrapeInterval,
      Duration scrapeTimeout,
      Duration retention,
      long retentionBytes,
      int sampleLimit,
      int maxSeriesPerMetric,
      boolean hostMetrics,
      List<String> remoteWrite,
      Map<String, Endpoint> endpoints,
      long queryMaxSamples,
      Limits limits) {
    this(
        scrapeInterval,
        scrapeTimeout,
        retention,
        retentionBytes,
        sampleLimit,
        maxSeriesPerMetric,
        hostMetrics,
        remoteWrite,
        endpoints,
        queryMaxSamples,
        limits,
        Source.BUILT_IN);
  }

  /**
   * Bounds on what queries and ingestion may take (Prometheus's where it has one).
   *
   * @param queryTimeout a query running longer fails
   * @param queryMaxConcurrency queries evaluated at once; more wait for a slot until their timeout
   * @param futureTolerance samples stamped further ahead of the daemon's clock are refused
   * @param labelLimit labels per series (name included)
   * @param labelNameLengthLimit bytes of a label name
   * @param labelValueLengthLimit bytes of a label value
   * @param bodySizeLimit bytes of a scrape body or a decompressed remote-write request
   * @param seriesPerRequest series in one remote-write request
   */
  public record Limits(
      Duration queryTimeout,
      int queryMaxConcurrency,
      Duration futureTolerance,
      int labelLimit,
      int labelNameLengthLimit,
      int labelValueLengthLimit,
      long bodySizeLimit,
      int seriesPerRequest) {
    public Limits {
      // Revisions stored before a field existed read it as null or 0: the default then.
      Limits d = DEFAULTS;
      if (d != null) {
        queryTimeout = queryTimeout == null ? d.queryTimeout : queryTimeout;
        queryMaxConcurrency =
            queryMaxConcurrency <= 0 ? d.queryMaxConcurrency : queryMaxConcurrency;
        futureTolerance = futureTolerance == null ? d.futureTolerance : futureTolerance;
        labelLimit = labelLimit <= 0 ? d.labelLimit : labelLimit;
        labelNameLengthLimit =
            labelNameLengthLimit <= 0 ? d.labelNameLengthLimit : labelNameLengthLimit;
        labelValueLengthLimit =
            labelValueLengthLimit <= 0 ? d.labelValueLengthLimit : labelValueLengthLimit;
        bodySizeLimit = bodySizeLimit <= 0 ? d.bodySizeLimit : bodySizeLimit;
        seriesPerRequest = seriesPerRequest <= 0 ? d.seriesPerRequest : seriesPerRequest;
      }
    }

    /** 2 min and 20 queries (Prometheus's), 10 min ahead, 64 labels, 256 and 4096 bytes, 64 MiB. */
    public static final Limits DEFAULTS =
        new Limits(
            Duration.ofMinutes(2), 20, Duration.ofMinutes(10), 64, 256, 4096, 64L << 20, 100_000);
  }

  /** An instance's metrics endpoint: a path on its port (or another port). */
  public record Endpoint(String path, int port) {
    public Endpoint {
      requireNonNull(path, "path");
    }
  }

  public MetricsSpec {
    requireNonNull(scrapeInterval, "scrapeInterval");
    requireNonNull(scrapeTimeout, "scrapeTimeout");
    requireNonNull(retention, "retention");
    remoteWrite = List.copyOf(remoteWrite);
    endpoints = new TreeMap<>(endpoints);
    if (queryMaxSamples <= 0) {
      queryMaxSamples = 50_000_000; // revisions stored before the field existed
    }
    if (limits == null) {
      limits = Limits.DEFAULTS;
    }
    if (source == null) {
      source = Source.BUILT_IN; // revisions stored before the field existed
    }
  }

  /** The defaults: scrape every 15 s, keep 15 days, host metrics on. */
  public static MetricsSpec defaults() {
    return new MetricsSpec(
        Duration.ofSeconds(15),
        Duration.ofSeconds(10),
        Duration.ofDays(15),
        0,
        50_000,
        100_000,
        true,
        List.of(),
        Map.of(),
        50_000_000,
        Limits.DEFAULTS);
  }

  /** A copy with these endpoints. */
  public MetricsSpec withEndpoints(Map<String, Endpoint> e) {
    return new MetricsSpec(
        scrapeInterval,
        scrapeTimeout,
        retention,
        retentionBytes,
        sampleLimit,
        maxSeriesPerMetric,
        hostMetrics,
        remoteWrite,
        e,
        queryMaxSamples,
        limits,
        source);
  }
}
