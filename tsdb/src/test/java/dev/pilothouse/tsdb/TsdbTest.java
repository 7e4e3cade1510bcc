package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store over a real directory: select by matchers, limits, WAL replay. */
class TsdbTest {
  @TempDir Path dir;

  static Labels l(String... kv) {
    return Labels.of(kv);
  }

  @Test
  void selectsByEveryMatcherKind_overTheTimeRange() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.Appender a = db.appender();
      for (int i = 0; i < 10; i++) {
        a.add(l("__name__", "http_requests_total", "code", "200", "path", "/"), i * 1000L, i);
        a.add(l("__name__", "http_requests_total", "code", "500", "path", "/"), i * 1000L, i * 2);
        a.add(
            l("__name__", "http_requests_total", "code", "200", "path", "/api"), i * 1000L, i * 3);
        a.add(l("__name__", "up", "job", "shop"), i * 1000L, 1);
      }
      assertThat(a.commit().appended()).isEqualTo(40);
      assertThat(names(db, Matcher.eq("__name__", "http_requests_total"))).hasSize(3);
      assertThat(
              names(
                  db,
                  Matcher.eq("__name__", "http_requests_total"),
                  new Matcher(Matcher.Type.NEQ, "code", "200")))
          .containsExactly("http_requests_total{code=\"500\", path=\"/\"}");
      assertThat(names(db, new Matcher(Matcher.Type.RE, "path", "/a.*")))
          .containsExactly("http_requests_total{code=\"200\", path=\"/api\"}");
      assertThat(
              names(
                  db,
                  new Matcher(Matcher.Type.NRE, "__name__", "http.*"),
                  new Matcher(Matcher.Type.EQ, "code", "")))
          .containsExactly("up{job=\"shop\"}");
      Series s =
          db.select(3000, 5000, List.of(Matcher.eq("__name__", "up")), QueryBudget.unlimited())
              .get(0);
      assertThat(s.t()).containsExactly(3000, 4000, 5000);
      assertThat(db.labelNames()).containsExactly("__name__", "code", "job", "path");
      assertThat(db.labelValues("code")).containsExactly("200", "500");
    }
  }

  List<String> names(Tsdb db, Matcher... ms) {
    return db.select(0, 100_000, List.of(ms), QueryBudget.unlimited()).stream()
        .map(s -> s.labels().toString())
        .sorted()
        .toList();
  }

  @Test
  void outOfOrderAndDuplicates_areRefused_theRestStored() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Labels up = l("__name__", "up");
      db.appender().add(up, 2000, 1).commit();
      Tsdb.CommitResult r =
          db.appender().add(up, 1000, 1).add(up, 2000, 5).add(up, 3000, 1).commit();
      assertThat(r.appended()).isEqualTo(1);
      assertThat(r.rejected()).isEqualTo(2);
      assertThat(r.firstError()).contains("out-of-order sample for up{}");
    }
  }

  @Test
  void cardinalityLimit_refusesNewSeriesOfThatMetric_withAClearError() {
    try (Tsdb db = Tsdb.open(dir, new Tsdb.Options(3, 1))) {
      for (int i = 0; i < 3; i++) {
        db.appender().add(l("__name__", "req", "user", "u" + i), 1, 1).commit();
      }
      assertThatThrownBy(() -> db.appender().add(l("__name__", "req", "user", "u9"), 1, 1))
          .isInstanceOf(TsdbException.class)
          .hasMessageContaining("metric 'req' already has 3 series, the limit")
          .hasMessageContaining("req{user=\"u9\"} was dropped");
      db.appender().add(l("__name__", "other"), 1, 1).commit(); // other metrics unaffected
    }
  }

  @Test
  void queryBudget_refusesTooLargeSelections() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.Appender a = db.appender();
      for (int i = 0; i < 1000; i++) {
        a.add(l("__name__", "x"), i, i);
      }
      a.commit();
      assertThatThrownBy(
              () ->
                  db.select(0, 10_000, List.of(Matcher.eq("__name__", "x")), new QueryBudget(500)))
          .hasMessageContaining("too many samples");
    }
  }

  @Test
  void closedAndReopened_replaysEverySeriesAndSample() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      for (int i = 0; i < 500; i++) {
        Tsdb.Appender a = db.appender();
        for (int s = 0; s < 20; s++) {
          a.add(l("__name__", "m", "s", Integer.toString(s)), i * 15_000L, i * s + 0.5);
        }
        a.commit();
      }
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      assertThat(db.stats().series()).isEqualTo(20);
      assertThat(db.stats().samples()).isEqualTo(10_000);
      Series s7 =
          db.select(0, Long.MAX_VALUE, List.of(Matcher.eq("s", "7")), QueryBudget.unlimited())
              .get(0);
      assertThat(s7.v()[499]).isEqualTo(499 * 7 + 0.5);
      db.appender().add(l("__name__", "m", "s", "new"), 1, 1).commit();
      assertThat(db.stats().series()).isEqualTo(21);
    }
  }

  @Test
  void aThreadInterruptedWhileItCommits_leavesTheLogWorking_andCloseKeepsEverySample() {
    // A scrape or rule thread is interrupted when its pool stops, possibly in the middle of a
    // commit that writes the WAL's buffer out. The write must go through and later ones too.
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.Appender a = db.appender();
      for (int i = 0; i < 200_000; i++) { // more than the 1 MiB buffer: the commit writes it out
        a.add(l("__name__", "m", "s", Integer.toString(i % 100)), i / 100 * 15_000L, i + 0.25);
      }
      Thread.currentThread().interrupt();
      try {
        assertThat(a.commit().appended()).isEqualTo(200_000);
        db.sync();
      } finally {
        assertThat(Thread.interrupted()).isTrue(); // the flag is left for the thread to act on
      }
      db.appender().add(l("__name__", "m", "s", "after"), 1, 7).commit();
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      assertThat(db.stats().samples()).isEqualTo(200_001);
      Series s3 =
          db.select(0, Long.MAX_VALUE, List.of(Matcher.eq("s", "3")), QueryBudget.unlimited())
              .get(0);
      assertThat(s3.v()[1999]).isEqualTo(199_903 + 0.25);
    }
  }

  @Test
  void appendersThatFollowEachOther_storeExactlyTheirOwnSamples() {
    // Committed appenders hand their arrays to the next ones: a smaller batch after a larger one,
    // an appender committed twice and a batch too large to be kept must each store what they add.
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.Appender big = db.appender(30_000);
      for (int i = 0; i < 30_000; i++) {
        big.add(l("__name__", "big", "s", Integer.toString(i % 300)), i / 300 * 15_000L, i);
      }
      assertThat(big.commit().appended()).isEqualTo(30_000);
      Tsdb.Appender small = db.appender(4);
      small.add(l("__name__", "small"), 15_000, 1.5).add(l("__name__", "small"), 30_000, 2.5);
      assertThat(small.commit().appended()).isEqualTo(2);
      small.add(l("__name__", "small"), 45_000, 3.5);
      assertThat(small.commit().appended()).isEqualTo(1);
      Tsdb.Appender huge = db.appender(300_000);
      for (int i = 0; i < 300_000; i++) {
        huge.add(l("__name__", "huge", "s", Integer.toString(i % 10)), i / 10 * 15_000L, -i);
      }
      assertThat(huge.commit().appended()).isEqualTo(300_000);
      assertThat(db.stats().samples()).isEqualTo(330_003);
      Series s =
          db.select(
                  0,
                  Long.MAX_VALUE,
                  List.of(Matcher.eq("__name__", "small")),
                  QueryBudget.unlimited())
              .get(0);
      assertThat(s.t()).containsExactly(15_000L, 30_000L, 45_000L);
      assertThat(s.v()).containsExactly(1.5, 2.5, 3.5);
      Series big7 =
          db.select(
                  0,
                  Long.MAX_VALUE,
                  List.of(Matcher.eq("__name__", "big"), Matcher.eq("s", "7")),
                  QueryBudget.unlimited())
              .get(0);
      assertThat(big7.v()).hasSize(100);
      assertThat(big7.v()[99]).isEqualTo(99 * 300 + 7);
    }
  }
}
