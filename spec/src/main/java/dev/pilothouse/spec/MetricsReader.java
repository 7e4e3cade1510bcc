package dev.pilothouse.spec;

import dev.pilothouse.core.spec.MetricsSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code metrics:} section and each service's metrics endpoint. */
final class MetricsReader extends SectionReader {
  MetricsReader(SectionReader parent) {
    super(parent);
  }

  MetricsSpec metrics(Fields f) {
    MetricsSpec d = MetricsSpec.defaults();
    Duration interval = duration(f, "scrapeInterval", d.scrapeInterval(), false);
    Duration timeout = duration(f, "scrapeTimeout", d.scrapeTimeout(), false);
    if (timeout.compareTo(interval) > 0 && f.has("scrapeTimeout")) {
      problems.at(
          f.get("scrapeTimeout").orElseThrow(),
          f.join("scrapeTimeout"),
          "must not be longer than scrapeInterval (" + interval.toSeconds() + "s)",
          "shorten it or raise scrapeInterval");
    }
    Duration retention = duration(f, "retention", d.retention(), false);
    long size = memoryField(f, "retentionSize", 0);
    int limit =
        f.integer("sampleLimit", 0, 100_000_000).map(Long::intValue).orElse(d.sampleLimit());
    int perMetric =
        f.integer("maxSeriesPerMetric", 1, 100_000_000)
            .map(Long::intValue)
            .orElse(d.maxSeriesPerMetric());
    boolean host = f.bool("hostMetrics").orElse(true);
    List<String> remote = urls(f, "remoteWrite");
    long maxSamples =
        f.integer("queryMaxSamples", 1000, Long.MAX_VALUE).orElse(d.queryMaxSamples());
    MetricsSpec.Limits dl = MetricsSpec.Limits.DEFAULTS;
    Duration queryTimeout = duration(f, "queryTimeout", dl.queryTimeout(), false);
    int concurrency =
        f.integer("queryMaxConcurrency", 1, 10_000)
            .map(Long::intValue)
            .orElse(dl.queryMaxConcurrency());
    Duration future = duration(f, "futureTolerance", dl.futureTolerance(), true);
    int labels = f.integer("labelLimit", 1, 1_000).map(Long::intValue).orElse(dl.labelLimit());
    int nameLen =
        f.integer("labelNameLengthLimit", 1, 65_536)
            .map(Long::intValue)
            .orElse(dl.labelNameLengthLimit());
    int valueLen =
        f.integer("labelValueLengthLimit", 1, 1 << 20)
            .map(Long::intValue)
            .orElse(dl.labelValueLengthLimit());
    long body = memoryField(f, "bodySizeLimit", dl.bodySizeLimit());
    if (body < 4096 && f.has("bodySizeLimit")) {
      problems.at(
          f.get("bodySizeLimit").orElseThrow(),
          f.join("bodySizeLimit"),
          "must be at least 4Ki",
          "write e.g. 64Mi");
    }
    int perRequest =
        f.integer("seriesPerRequest", 1, 10_000_000)
            .map(Long::intValue)
            .orElse(dl.seriesPerRequest());
    MetricsSpec.Source source =
        f.object("source", METRICS_SOURCE).map(this::source).orElse(MetricsSpec.Source.BUILT_IN);
    return new MetricsSpec(
        interval,
        timeout,
        retention,
        size,
        limit,
        perMetric,
        host,
        remote,
        Map.of(),
        maxSamples,
        new MetricsSpec.Limits(
            queryTimeout, concurrency, future, labels, nameLen, valueLen, body, perRequest),
        source);
  }

  /** {@code source: {url, bearerTokenFile, timeout}}: an external Prometheus-compatible API. */
  private MetricsSpec.Source source(Fields s) {
    String url = s.string("url").orElse("");
    if (!s.has("url")) {
      s.require("url", "the query API's root, e.g. http://prometheus:9090");
    } else {
      try {
        java.net.URI u = new java.net.URI(url);
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme()))
            || u.getHost() == null
            || u.getUserInfo() != null
            || u.getQuery() != null) {
          throw new java.net.URISyntaxException(url, "not an http(s) URL with a host");
        }
      } catch (java.net.URISyntaxException e) {
        problems.at(
            s.get("url").orElseThrow(),
            s.join("url"),
            "'" + url + "' is not an http(s) URL of a host (without credentials or a query)",
            "write e.g. http://127.0.0.1:9090 or http://vm:8428/prometheus; credentials go in"
                + " bearerTokenFile");
      }
    }
    String token = "";
    if (s.has("bearerTokenFile")) {
      Path p = baseDir.resolve(s.string("bearerTokenFile").orElse("")).normalize();
      if (!java.nio.file.Files.isReadable(p)) {
        problems.at(
            s.get("bearerTokenFile").orElseThrow(),
            s.join("bearerTokenFile"),
            "file " + p + " does not exist or is not readable",
            "give the path of a file holding the token (relative to the spec)");
      }
      token = p.toString();
    }
    Duration t = duration(s, "timeout", MetricsSpec.Source.BUILT_IN.timeout(), false);
    if (t.compareTo(Duration.ofMinutes(5)) > 0 || t.compareTo(Duration.ofMillis(100)) < 0) {
      problems.at(
          s.get("timeout").orElseThrow(),
          s.join("timeout"),
          "must be between 100ms and 5m",
          "a rule or check waits for it at every evaluation");
    }
    Map<String, String> headers = new java.util.TreeMap<>();
    s.get("headers")
        .ifPresent(
            n -> {
              if (!(n instanceof Node.MapNode m)) {
                problems.at(
                    n, s.join("headers"), "must be a map", "write e.g. {X-Scope-OrgID: tenant-1}");
                return;
              }
              if (m.entries().size() > 16) {
                problems.at(n, s.join("headers"), "more than 16 headers", "send fewer");
              }
              m.entries()
                  .forEach(
                      (name, entry) -> {
                        Node value = entry.value();
                        String v = value instanceof Node.Scalar sc ? sc.text() : "";
                        if (!name.matches("[A-Za-z0-9-]{1,64}")
                            || name.equalsIgnoreCase("Authorization")
                            || name.equalsIgnoreCase("Host")
                            || !(value instanceof Node.Scalar)
                            || v.length() > 1024
                            || v.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                          problems.at(
                              value,
                              s.join("headers") + "." + name,
                              "not a header this source may be sent",
                              "a name of letters, digits and '-' (not Authorization or Host:"
                                  + " use bearerTokenFile) and a one-line value of at most 1024"
                                  + " characters");
                        } else {
                          headers.put(name, v);
                        }
                      });
            });
    return new MetricsSpec.Source(url, token, t, headers);
  }

  Optional<MetricsSpec.Endpoint> endpoint(Fields sf, Node n) {
    String path = sf.join("metrics");
    if (n instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
      if (!s.text().startsWith("/")) {
        problems.at(n, path, "must be a path starting with '/'", "write e.g. 'metrics: /metrics'");
        return Optional.empty();
      }
      return Optional.of(new MetricsSpec.Endpoint(s.text(), 0));
    }
    if (n instanceof Node.MapNode m) {
      Fields ef = new Fields(m, path, problems, ENDPOINT);
      String p = ef.string("path").orElse("/metrics");
      if (!p.startsWith("/")) {
        problems.at(
            ef.get("path").orElseThrow(),
            ef.join("path"),
            "must start with '/'",
            "write e.g. /metrics");
      }
      int port = ef.integer("port", 1, 65535).map(Long::intValue).orElse(0);
      return Optional.of(new MetricsSpec.Endpoint(p, port));
    }
    problems.at(
        n,
        path,
        "must be a path or a map",
        "write e.g. 'metrics: /metrics' or '{path: /metrics, port: 9100}'");
    return Optional.empty();
  }
}
