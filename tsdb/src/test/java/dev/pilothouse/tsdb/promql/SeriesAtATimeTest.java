package dev.pilothouse.tsdb.promql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Range queries of the shapes evaluated one series at a time answer, at every step, exactly what an
 * instant query at that time answers (the step-at-a-time path): same samples, same labels, the same
 * doubles to the last bit — over counters with resets, gaps, NaN and negative gauges.
 */
class SeriesAtATimeTest {
  @TempDir static Path dir;
  static Tsdb db;
  static Engine engine;

  @BeforeAll
  static void load() {
    db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground());
    TestData.appendTo(db, TestData.generate());
    engine =
        new Engine(
            (mint, maxt, ms, budget) -> db.select(mint, maxt, ms, budget),
            Engine.Options.defaults());
  }

  @AfterAll
  static void close() {
    db.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rate(http_requests_total[5m])",
        "increase(http_requests_total[1m])",
        "delta(memory_usage_bytes[5m])",
        "rate(gappy[10m])",
        "sum by (job) (rate(http_requests_total[5m]))",
        "sum without (instance) (increase(http_requests_total[2m]))",
        "sum(rate(http_requests_total{code=\"500\"}[30s]))",
        "avg by (instance) (rate(http_requests_total[5m]))",
        "count by (code) (rate(http_requests_total[1m]))",
        "min by (job) (delta(memory_usage_bytes[3m]))",
        "max(rate(http_requests_total[5m] offset 7m))",
        "sum by (job) (rate(http_requests_total[5m] @ 1700001800))",
        "sum by (le) (rate(http_request_duration_seconds_bucket[5m]))",
        "histogram_quantile(0.9, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
        "sum by (job) (rate(http_requests_total[5m])) / ignoring(job) group_left sum(rate(http_requests_total[5m]))",
        "avg(delta(temperature[5m]))",
        "max by (room) (delta(temperature[2m]))",
        "sum((rate(http_requests_total[5m])))",
      })
  void eachStepOfARangeQuery_isExactlyTheInstantQueryAtThatTime(String q) {
    long start = TestData.START + 600_000;
    long end = TestData.END - 30_000;
    long step = 37_000; // not a multiple of the scrape interval
    Value.Matrix range = engine.range(q, start, end, step);
    Map<Labels, Map<Long, Double>> got = new HashMap<>();
    for (Value.Points p : range.series()) {
      for (int i = 0; i < p.t().length; i++) {
        got.computeIfAbsent(p.labels(), l -> new HashMap<>()).put(p.t()[i], p.v()[i]);
      }
    }
    int compared = 0;
    Map<Labels, Map<Long, Double>> want = new HashMap<>();
    for (long t = start; t <= end; t += step) {
      Value v = engine.instant(q, t);
      for (Value.Sample s : ((Value.Vector) v).samples()) {
        want.computeIfAbsent(s.labels(), l -> new HashMap<>()).put(t, s.v());
        compared++;
      }
    }
    assertThat(compared).as("the query answers something").isPositive();
    assertThat(got.keySet()).isEqualTo(want.keySet());
    for (Labels l : want.keySet()) {
      Map<Long, Double> w = want.get(l);
      Map<Long, Double> g = got.get(l);
      assertThat(g.keySet()).as(l + " steps").isEqualTo(w.keySet());
      for (long t : w.keySet()) {
        double a = g.get(t);
        double b = w.get(t);
        if (Double.isNaN(b) || Double.isInfinite(b)) {
          assertThat(Double.doubleToLongBits(a))
              .as(l + " at " + t)
              .isEqualTo(Double.doubleToLongBits(b));
        } else {
          assertThat(Math.abs(a - b))
              .as(l + " at " + t + ": " + a + " vs " + b)
              .isLessThanOrEqualTo(1e-12 * Math.max(1, Math.abs(b)));
        }
      }
    }
  }
}
