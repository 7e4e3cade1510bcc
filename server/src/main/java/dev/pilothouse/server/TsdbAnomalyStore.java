package dev.pilothouse.server;

import dev.pilothouse.anomaly.Anomalies;
import dev.pilothouse.tsdb.promql.Value;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The built-in metrics store as anomaly detectors use it: the rules' adapter plus range queries.
 */
final class TsdbAnomalyStore implements Anomalies.Store {
  private final Telemetry telemetry;
  private final TsdbRuleStore rules;

  TsdbAnomalyStore(Telemetry telemetry) {
    this.telemetry = telemetry;
    this.rules = new TsdbRuleStore(telemetry);
  }

  @Override
  public List<Sample> instant(String expr, Instant at) {
    return rules.query(expr, at).stream().map(s -> new Sample(s.labels(), s.value())).toList();
  }

  @Override
  public List<Series> range(String expr, Instant from, Instant to, Duration step) {
    Value.Matrix m =
        telemetry.engine().range(expr, from.toEpochMilli(), to.toEpochMilli(), step.toMillis());
    return m.series().stream().map(p -> new Series(p.labels().toMap(), p.t(), p.v())).toList();
  }

  @Override
  public void append(List<Sample> samples, Instant at) {
    rules.append(
        samples.stream()
            .map(s -> new dev.pilothouse.alerting.RuleStore.Sample(s.labels(), s.value()))
            .toList(),
        at);
  }
}
