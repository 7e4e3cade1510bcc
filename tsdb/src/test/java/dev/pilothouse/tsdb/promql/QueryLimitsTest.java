package dev.pilothouse.tsdb.promql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.QueryBudget;
import dev.pilothouse.tsdb.QueryLimitException;
import dev.pilothouse.tsdb.Series;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Queries that would take the daemon down are refused with a message saying how to narrow them. */
class QueryLimitsTest {
  private static final Engine.Queryable EMPTY = (mint, maxt, ms, b) -> List.of();

  private static Engine engine(Engine.Queryable db, Engine.Options o) {
    return new Engine(db, o);
  }

  private static QueryLimitException.Kind kind(Runnable r) {
    try {
      r.run();
    } catch (QueryLimitException e) {
      return e.kind();
    }
    throw new AssertionError("no limit was hit");
  }

  @Test
  void rangeQueryOverTheWholeTimeAxis_isRefused_withoutOverflow() {
    Engine e = engine(EMPTY, Engine.Options.defaults());
    // The query: ±4.7e15 s. As ms these overflow a long when subtracted.
    assertThatThrownBy(
            () -> e.range("1", -4_700_000_000_000_000_000L, 4_700_000_000_000_000_000L, 1))
        .isInstanceOf(EvalException.class)
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> e.range("1", -Engine.MAX_TIME_MS, Engine.MAX_TIME_MS, 1))
        .isInstanceOf(QueryLimitException.class)
        .hasMessageContaining("exceeded maximum resolution of 11,000 points per timeseries");
    assertThat(e.range("1", 0, 10_999, 1).series().get(0).t()).hasSize(11_000);
  }

  @Test
  void subqueryWithMorePointsThanARangeQueryMayHave_isRefused() {
    Engine e = engine(EMPTY, Engine.Options.defaults());
    assertThatThrownBy(() -> e.instant("max_over_time(vector(1)[1d:1ms])", 0))
        .isInstanceOf(QueryLimitException.class)
        .hasMessageContaining("11,000 points per timeseries")
        .hasMessageContaining("raise its step");
    Value ok = e.instant("count_over_time(vector(1)[1h:1s])", 3_600_000);
    assertThat(((Value.Vector) ok).samples().get(0).v()).isEqualTo(3601);
  }

  @Test
  void subquerySteps_countTowardsTheSampleBudget() {
    Engine e = engine(EMPTY, Engine.Options.defaults().withLimits(5_000, 60_000, 20));
    assertThat(kind(() -> e.instant("max_over_time(vector(1)[2h:1s])", 7_200_000)))
        .isEqualTo(QueryLimitException.Kind.SAMPLES);
    // A subquery's points are released once its function has used them: many steps of a small
    // subquery fit in a budget smaller than their sum.
    Value.Matrix m = e.range("max_over_time(vector(1)[1h:1m])", 0, 3_600_000, 60_000);
    assertThat(m.series().get(0).t()).hasSize(61);
  }

  @Test
  void slowQuery_timesOut_withAMessageSayingWhatToDo() {
    Engine e = engine(EMPTY, Engine.Options.defaults().withLimits(50_000_000, 100, 20));
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () ->
                e.instant(
                    "max_over_time(max_over_time(vector(1)[10000s:1s])[10000s:1s])", 20_000_000))
        .isInstanceOf(QueryLimitException.class)
        .hasMessageContaining("timed out")
        .hasMessageContaining("metrics.queryTimeout");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
  }

  @Test
  void queriesBeyondTheConcurrencyLimit_waitForASlot_thenAreRefused() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Engine.Queryable blocking =
        (mint, maxt, ms, b) -> {
          inside.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
          }
          return List.of();
        };
    Engine e = engine(blocking, Engine.Options.defaults().withLimits(1000, 300, 1));
    CompletableFuture<Value> first = CompletableFuture.supplyAsync(() -> e.instant("up", 0));
    assertThat(inside.await(5, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> e.instant("up", 0))
        .isInstanceOf(QueryLimitException.class)
        .hasMessageContaining("too many concurrent queries");
    release.countDown();
    assertThat(first.get(5, TimeUnit.SECONDS)).isInstanceOf(Value.Vector.class);
    assertThat(e.instant("up", 0)).isInstanceOf(Value.Vector.class); // the slot came back
  }

  @Test
  void queriesTogether_cannotHoldMoreThanTheSharedPool_andGiveItBack() {
    long[] t = new long[400_000];
    double[] v = new double[t.length];
    for (int i = 0; i < t.length; i++) {
      t[i] = i;
    }
    Engine.Queryable db =
        (mint, maxt, ms, b) -> {
          b.charge(t.length);
          return List.of(new Series(Labels.of("__name__", "x"), t, v));
        };
    QueryBudget.Pool pool = new QueryBudget.Pool(300_000);
    Engine e = engine(db, Engine.Options.defaults().withPool(pool));
    assertThat(kind(() -> e.instant("x", 500_000))).isEqualTo(QueryLimitException.Kind.MEMORY);
    assertThat(pool.free()).isEqualTo(pool.capacity());
    Engine roomy = engine(db, Engine.Options.defaults().withPool(new QueryBudget.Pool(1_000_000)));
    assertThat(((Value.Vector) roomy.instant("x", 500_000)).samples()).hasSize(1);
  }

  @Test
  void durationsAndTimestampsBeyondTheirRange_areParseErrors() {
    assertThatThrownBy(() -> Parser.parse("x offset 9999999999999y"))
        .isInstanceOf(ParseException.class)
        .hasMessageContaining("duration out of range");
    assertThatThrownBy(() -> Parser.parse("x[99999999999999999999s]"))
        .isInstanceOf(ParseException.class)
        .hasMessageContaining("duration out of range");
    assertThatThrownBy(() -> Parser.parse("x @ 1e300"))
        .isInstanceOf(ParseException.class)
        .hasMessageContaining("out of bounds");
  }

  @Test
  void regexMatchers_haveRe2Semantics_fullyAnchored_inLinearTime() {
    Matcher m = new Matcher(Matcher.Type.RE, "path", "a|b");
    assertThat(m.matches("a")).isTrue();
    assertThat(m.matches("ab")).isFalse();
    assertThat(new Matcher(Matcher.Type.RE, "v", "a.b").matches("a\nb")).isTrue();
    // Catastrophic backtracking for java.util.regex: (a|a)*b over 100 000 a's.
    Matcher evil = new Matcher(Matcher.Type.RE, "v", "(a|aa)*c");
    String input = "a".repeat(100_000);
    long t0 = System.nanoTime();
    assertThat(evil.matches(input)).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThatThrownBy(() -> new Matcher(Matcher.Type.RE, "v", "(a)\\1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid regular expression");
  }
}
