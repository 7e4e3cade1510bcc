package dev.pilothouse.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.anomaly.AnomalyDetection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Detectors over a hand-written store (the daemon's is the metrics store; see e2e AlertingTest).
 */
class AnomaliesTest {
  final Random random = new Random(7);
  Instant now = Instant.parse("2026-11-29T12:00:00Z");
  double current = 100;
  final List<Map.Entry<Instant, Anomalies.Store.Sample>> appended = new ArrayList<>();
  final List<String> rangeQueries = new ArrayList<>();

  final Anomalies.Store store =
      new Anomalies.Store() {
        @Override
        public List<Sample> instant(String expr, Instant at) {
          return List.of(
              new Sample(Map.of("service", "shop"), current + random.nextGaussian()),
              new Sample(Map.of("service", "cart"), 5 + 0.1 * random.nextGaussian()));
        }

        @Override
        public List<Series> range(String expr, Instant from, Instant to, Duration step) {
          rangeQueries.add(from + ".." + to + "/" + step);
          int n = (int) (Duration.between(from, to).dividedBy(step)) + 1;
          long[] t = new long[n];
          double[] v = new double[n];
          for (int i = 0; i < n; i++) {
            t[i] = from.plus(step.multipliedBy(i)).toEpochMilli();
            v[i] = 100 + random.nextGaussian();
          }
          return List.of(new Series(Map.of("__name__", "x", "service", "shop"), t, v));
        }

        @Override
        public void append(List<Sample> samples, Instant at) {
          samples.forEach(s -> appended.add(Map.entry(at, s)));
        }
      };

  @Test
  void aDetectorReplaysHistory_thenScoresEverySeriesOnItsInterval_andWritesTheScores() {
    List<AnomalyDetection> spec =
        List.of(new AnomalyDetection("traffic", "sum by (service) (x)", Duration.ofMinutes(1)));
    Anomalies a = new Anomalies(() -> spec, store, () -> now);
    a.tick();
    // Warm from history: 8 days at the interval, capped at 10,000 steps.
    assertThat(rangeQueries)
        .containsExactly(
            now.minus(Duration.ofMinutes(10_000))
                + ".."
                + now.minus(Duration.ofMinutes(1))
                + "/PT1M");
    assertThat(appended).hasSize(2);
    for (int i = 0; i < 30; i++) {
      now = now.plusSeconds(20);
      a.tick();
    }
    // Every minute, not every tick: 10 minutes → 10 more evaluations of two series.
    assertThat(appended).hasSize(22);
    Anomalies.Store.Sample shop = appended.get(appended.size() - 2).getValue();
    assertThat(shop.labels())
        .containsEntry("__name__", "anomaly:score")
        .containsEntry("detector", "traffic")
        .containsEntry("service", "shop");
    assertThat(shop.value()).as("normal after a warm start").isLessThan(0.5);
    // The replayed history makes the detector judge a jump at once.
    current = 130;
    now = now.plusSeconds(60);
    a.tick();
    assertThat(appended.get(appended.size() - 2).getValue().value()).isGreaterThan(0.8);
    assertThat(a.status()).singleElement().satisfies(s -> assertThat(s).containsEntry("series", 2));
    assertThat(a.metricsText()).contains("pilothouse_anomaly_series{detector=\"traffic\"} 2");
  }

  @Test
  void aChangedDetector_startsAfresh_andARemovedOneStops() {
    List<List<AnomalyDetection>> spec = new ArrayList<>();
    spec.add(List.of(new AnomalyDetection("traffic", "x", Duration.ofMinutes(1))));
    Anomalies a = new Anomalies(() -> spec.get(spec.size() - 1), store, () -> now);
    a.tick();
    spec.add(List.of(new AnomalyDetection("traffic", "x", Duration.ofMinutes(5))));
    now = now.plusSeconds(1);
    a.tick();
    assertThat(rangeQueries).hasSize(2);
    spec.add(List.of());
    now = now.plusSeconds(600);
    int before = appended.size();
    a.tick();
    assertThat(appended).hasSize(before);
    assertThat(a.status()).isEmpty();
  }
}
