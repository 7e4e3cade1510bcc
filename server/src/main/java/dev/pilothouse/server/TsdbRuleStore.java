package dev.pilothouse.server;

import dev.pilothouse.alerting.RuleStore;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import dev.pilothouse.tsdb.promql.Engine;
import dev.pilothouse.tsdb.promql.Value;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The built-in metrics store as rules use it: the PromQL engine and an appender. */
final class TsdbRuleStore implements RuleStore {
  private final java.util.function.Supplier<Engine> engine;
  private final java.util.function.Supplier<Tsdb> db;

  TsdbRuleStore(Telemetry telemetry) {
    this(telemetry::engine, telemetry::db);
  }

  /** Over an engine and a store that may be replaced (the telemetry's, when the spec changes). */
  TsdbRuleStore(java.util.function.Supplier<Engine> engine, java.util.function.Supplier<Tsdb> db) {
    this.engine = engine;
    this.db = db;
  }

  @Override
  public List<Sample> query(String expression, Instant at) {
    Value v = engine.get().instant(expression, at.toEpochMilli());
    return switch (v) {
      case Value.Scalar s -> List.of(new Sample(Map.of(), s.v()));
      case Value.Vector vec ->
          vec.samples().stream().map(x -> new Sample(x.labels().toMap(), x.v())).toList();
      default ->
          throw new IllegalArgumentException(
              "the expression gives a range vector or a string; a rule needs an instant vector");
    };
  }

  @Override
  public void append(List<Sample> samples, Instant at) {
    Tsdb.Appender a = db.get().appender(samples.size());
    for (Sample s : samples) {
      a.add(Labels.of(s.labels()), at.toEpochMilli(), s.value());
    }
    a.commit();
  }
}
