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
    long queryMaxSamples) {

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
        50_000_000);
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
        queryMaxSamples);
  }
}
