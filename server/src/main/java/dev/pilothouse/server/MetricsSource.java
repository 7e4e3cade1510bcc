package dev.pilothouse.server;

import dev.pilothouse.alerting.RuleStore;
import dev.pilothouse.client.PrometheusApi;
import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.promql.Ast;
import dev.pilothouse.tsdb.promql.Printer;
import dev.pilothouse.tsdb.promql.Value;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * Where the daemon's own PromQL reads go (rollout checks, alerting and recording rules, autoscaling
 * signals, chaos probes, experiments): the built-in store, or the external Prometheus-compatible
 * API the spec names in {@code metrics.source} (docs/scale-out.md). What rules write (recorded
 * series) always goes into the built-in store, and with {@code metrics.remoteWrite} on to the
 * external one.
 */
final class MetricsSource implements RuleStore {
  private final Supplier<MetricsSpec.Source> source;
  private final TsdbRuleStore builtIn;
  private final Supplier<dev.pilothouse.tsdb.promql.Engine> engine;
  private volatile Client client;

  /** The API client of one source, with the token it was made with. */
  private record Client(MetricsSpec.Source source, String token, PrometheusApi api) {}

  MetricsSource(Supplier<MetricsSpec.Source> source, Telemetry telemetry) {
    this.source = source;
    this.builtIn = new TsdbRuleStore(telemetry);
    this.engine = telemetry::engine;
  }

  @Override
  public List<Sample> query(String expression, Instant at) {
    MetricsSpec.Source s = source.get();
    if (!s.external()) {
      return builtIn.query(expression, at);
    }
    return api(s).query(expression, at).stream()
        .map(x -> new Sample(x.labels(), x.value()))
        .toList();
  }

  @Override
  public void append(List<Sample> samples, Instant at) {
    builtIn.append(samples, at);
  }

  /** A syntax tree's value at a time (what rollout checks' conditions ask). */
  Value evaluate(Ast.Expr e, long millis) {
    MetricsSpec.Source s = source.get();
    if (!s.external()) {
      return engine.get().instant(e, millis);
    }
    List<PrometheusApi.Sample> r = api(s).query(Printer.print(e), Instant.ofEpochMilli(millis));
    if (e.type() == Ast.Type.SCALAR && r.size() == 1 && r.get(0).labels().isEmpty()) {
      return new Value.Scalar(millis, r.get(0).value());
    }
    return new Value.Vector(
        r.stream().map(x -> new Value.Sample(Labels.of(x.labels()), x.value(), millis)).toList());
  }

  private PrometheusApi api(MetricsSpec.Source s) {
    String token = token(s);
    Client c = client;
    if (c == null || !c.source().equals(s) || !c.token().equals(token)) {
      c =
          new Client(
              s, token, new PrometheusApi(URI.create(s.url()), token, s.headers(), s.timeout()));
      client = c;
    }
    return c.api();
  }

  /** The bearer token, read again at every query (so a rotated file takes effect at once). */
  private static String token(MetricsSpec.Source s) {
    if (s.bearerTokenFile().isEmpty()) {
      return "";
    }
    try {
      return Files.readString(Path.of(s.bearerTokenFile()), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "metrics.source.bearerTokenFile " + s.bearerTokenFile() + ": " + e.getMessage(), e);
    }
  }
}
