package dev.pilothouse.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DetectorTest {
  static final long T0 = 1_700_000_000L;

  /**
   * Feeds n samples of level + Gaussian noise every 5 minutes, from sample `from`; the last score.
   */
  static double feed(Detector d, Random r, int from, int n, double level, double noise) {
    double last = 0;
    for (int i = from; i < from + n; i++) {
      last = d.update(T0 + 300L * i, level + noise * r.nextGaussian());
    }
    return last;
  }

  @Test
  void aSpikeAfterNormalBehaviour_scoresHigh_andNormalSamplesScoreLow() {
    Random r = new Random(1);
    Detector d = new Detector();
    double max = 0;
    for (int i = 0; i < 2000; i++) {
      double s = d.update(T0 + 300L * i, 50 + r.nextGaussian());
      if (i > 500) {
        max = Math.max(max, s);
      }
    }
    assertThat(max).as("the noisiest of 1,500 normal samples").isLessThan(0.5);
    assertThat(d.update(T0 + 300L * 2000, 62)).isGreaterThan(0.8);
    // A single outlier neither moves the forecast nor masks the next one.
    assertThat(feed(d, r, 2001, 20, 50, 1)).isLessThan(0.5);
    assertThat(d.update(T0 + 300L * 2021, 38)).isGreaterThan(0.8);
  }

  @Test
  void aLevelShift_isReported_thenTakenAsTheNewNormal() {
    Random r = new Random(2);
    Detector d = new Detector();
    feed(d, r, 0, 1500, 100, 2);
    double first = d.update(T0 + 300L * 1500, 130);
    assertThat(first).isGreaterThan(0.8);
    double after = 0;
    for (int i = 1501; i < 1600; i++) {
      double s = d.update(T0 + 300L * i, 130 + 2 * r.nextGaussian());
      if (i > 1530) {
        after = Math.max(after, s);
      }
    }
    assertThat(after).as("once the new level is accepted").isLessThan(0.5);
  }

  @Test
  void aDailyPattern_isLearnt_soThatItsPeaksAreNormal_butABreakIsNot() {
    Random r = new Random(3);
    Detector d = new Detector();
    double late = 0;
    int n = 288 * 5;
    for (int i = 0; i < n; i++) {
      long t = T0 - Math.floorMod(T0, 86_400) + 300L * i;
      double v = 100 + 40 * Math.sin(2 * Math.PI * (t % 86_400) / 86_400.0) + r.nextGaussian();
      double s = d.update(t, v);
      if (i > 288 * 3) {
        late = Math.max(late, s);
      }
    }
    assertThat(late).as("days 4 and 5 follow the learnt shape").isLessThan(0.5);
    long t = T0 - Math.floorMod(T0, 86_400) + 300L * n + 6 * 3600; // the daily peak's hour
    // The value of the daily trough at the hour of the peak: normal for a level, not for this
    // series.
    assertThat(d.update(t, 60)).isGreaterThan(0.8);
  }

  @Test
  void aDailyProfile_learntFromItsFirstDay_forecastsTheSteepHours_soThatASmallDipThereIsSeen() {
    Random r = new Random(5);
    Detector d = new Detector();
    long day0 = T0 - Math.floorMod(T0, 86_400);
    int n = 288 * 2 + 288 / 2; // two and a half days: the next sample falls on the steepest fall
    double late = 0;
    for (int i = 0; i < n; i++) {
      long t = day0 + 300L * i;
      double s =
          d.update(
              t, 100 + 40 * Math.sin(2 * Math.PI * (t % 86_400) / 86_400.0) + r.nextGaussian());
      if (i > 288 * 2) {
        late = Math.max(late, s);
      }
    }
    assertThat(late).as("the third day's morning follows the shape learnt").isLessThan(0.5);
    long t = day0 + 300L * n;
    double expected = 100 + 40 * Math.sin(2 * Math.PI * (t % 86_400) / 86_400.0);
    // Six standard deviations below the shape, where it falls 0.9 a sample: seen only by a profile
    // that forecasts the fall itself rather than a level trailing it.
    assertThat(d.update(t, expected - 6)).isGreaterThan(0.5);
  }

  @Test
  void aWeekendThatTheWeeklyProfileExpects_isNotReported_inTheSecondWeek() {
    Random r = new Random(6);
    Detector d = new Detector();
    long monday = 1_699_833_600L; // 2023-11-13, a Monday, 00:00 UTC
    double secondWeekend = 0;
    double firstWeekend = 0;
    for (int i = 0; i < 288 * 14; i++) {
      long t = monday + 300L * i;
      long day = i / 288;
      boolean weekend = day % 7 >= 5;
      double daily = 10 * Math.sin(2 * Math.PI * (t % 86_400) / 86_400.0);
      double v = 100 + (weekend ? 0.3 * daily - 10 : daily) + r.nextGaussian();
      double s = d.update(t, v);
      if (day == 5) {
        firstWeekend = Math.max(firstWeekend, s);
      } else if (day >= 12) {
        secondWeekend = Math.max(secondWeekend, s);
      }
    }
    assertThat(firstWeekend).as("the first weekend is news").isGreaterThan(0.5);
    assertThat(secondWeekend).as("the second is what the weekly profile expects").isLessThan(0.3);
  }

  @Test
  void aLastingAnomaly_isReportedWhenItIsNews_notOnEverySample() {
    Random r = new Random(7);
    Detector d = new Detector();
    long day0 = T0 - Math.floorMod(T0, 86_400);
    int high = 0;
    for (int i = 0; i < 288 * 6; i++) {
      long t = day0 + 300L * i;
      boolean broken = i >= 288 * 5; // the sixth day loses its daily shape
      double shape = broken ? 0 : 40 * Math.sin(2 * Math.PI * (t % 86_400) / 86_400.0);
      double s = d.update(t, 100 + shape + r.nextGaussian());
      if (broken && s > 0.3) {
        high++;
      }
    }
    // 3 here; 10 when every sample of an event in progress reported its own p.
    assertThat(high).as("samples scored above 0.3 of 288").isBetween(1, 6);
  }

  @Test
  void aWanderingSeries_isForecastFromWhereItIsNow_soItsWanderingIsNotReported() {
    int high = 0;
    double jump = 0;
    for (int seed = 0; seed < 10; seed++) {
      Random r = new Random(100 + seed);
      Detector d = new Detector();
      double walk = 0;
      int i = 0;
      for (; i < 4000; i++) {
        // Autocorrelated: each sample keeps 95 % of the last one's deviation (a queue, a
        // temperature), so the series wanders far from its mean for hours at a time.
        walk = 0.95 * walk + 0.5 * r.nextGaussian();
        double s = d.update(T0 + 300L * i, 50 + walk + 0.3 * r.nextGaussian());
        if (i >= 600 && s > 0.3) {
          high++;
        }
      }
      // A jump of five times the series' own spread is still news.
      jump = Math.max(jump, d.update(T0 + 300L * i, 50 + walk + 8));
    }
    // 5 here; 42 when only a slowly moving level forecast these series.
    assertThat(high).as("samples scored above 0.3 of 34,000").isLessThan(20);
    assertThat(jump).isGreaterThan(0.8);
  }

  @Test
  void missingAndNonFiniteSamples_scoreZero_andTeachNothing() {
    Random r = new Random(4);
    Detector d = new Detector();
    feed(d, r, 0, 500, 10, 1);
    assertThat(d.update(T0 + 300L * 500, Double.NaN)).isZero();
    assertThat(d.update(T0 + 300L * 501, Double.POSITIVE_INFINITY)).isZero();
    assertThat(feed(d, r, 502, 10, 10, 1)).isLessThan(0.5);
  }

  @Test
  void scores_stayInZeroToOne_forAnyInput() {
    Random r = new Random(5);
    Detector d = new Detector();
    double[] odd = {0, 0, 0, 1e300, -1e300, 1e-300, 0, Double.MAX_VALUE, -Double.MAX_VALUE, 5};
    for (int i = 0; i < 5000; i++) {
      double v =
          switch (i % 7) {
            case 0 -> odd[r.nextInt(odd.length)];
            case 1 -> r.nextGaussian() * Math.pow(10, r.nextInt(20) - 10);
            default -> i;
          };
      double s = d.update(T0 + i, v);
      assertThat(s).isBetween(0.0, 1.0);
    }
  }

  @Test
  void aConstantSeries_scoresZero_untilItChanges() {
    Detector d = new Detector();
    double max = 0;
    for (int i = 0; i < 1000; i++) {
      max = Math.max(max, d.update(T0 + 60L * i, 7));
    }
    assertThat(max).isZero();
    assertThat(d.update(T0 + 60_000, 8)).isGreaterThan(0.8);
  }
}
