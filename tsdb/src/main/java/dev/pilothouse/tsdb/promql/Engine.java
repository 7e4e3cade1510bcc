package dev.pilothouse.tsdb.promql;

import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Matcher;
import dev.pilothouse.tsdb.QueryBudget;
import dev.pilothouse.tsdb.QueryLimitException;
import dev.pilothouse.tsdb.Series;
import dev.pilothouse.tsdb.StaleNaN;
import dev.pilothouse.tsdb.promql.Value.Points;
import dev.pilothouse.tsdb.promql.Value.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Evaluates PromQL over a {@link Queryable} with Prometheus 2.x semantics: a 5-minute lookback for
 * instant selectors, closed range windows, extrapolated rates, vector matching and the functions
 * and aggregations of {@link Functions} and {@link Parser#AGGREGATIONS}.
 */
public final class Engine {

  /** Where series come from. */
  public interface Queryable {
    List<Series> select(long mint, long maxt, List<Matcher> matchers, QueryBudget budget);
  }

  /**
   * Settings.
   *
   * @param lookbackMs how far back an instant selector looks for a sample
   * @param maxSamples samples a query may hold in memory at once (its memory budget)
   * @param maxSteps points per series a range query or a subquery may have
   * @param defaultSubqueryStepMs the step of a subquery that gives none (Prometheus: the global
   *     evaluation interval, 1m by default)
   * @param timeoutMs how long a query may take, waiting for a slot included
   * @param maxConcurrency queries evaluated at once; more wait for a slot
   * @param pool the samples all running queries share (null: no shared bound)
   */
  public record Options(
      long lookbackMs,
      long maxSamples,
      int maxSteps,
      long defaultSubqueryStepMs,
      long timeoutMs,
      int maxConcurrency,
      QueryBudget.Pool pool) {
    public Options {
      if (timeoutMs <= 0) {
        throw new IllegalArgumentException("query timeout must be > 0 ms, but was " + timeoutMs);
      }
      if (maxConcurrency <= 0) {
        throw new IllegalArgumentException(
            "query concurrency must be > 0, but was " + maxConcurrency);
      }
    }

    /** Prometheus's defaults: 5m lookback, 50M samples, 11,000 points, 2 min, 20 at once. */
    public static Options defaults() {
      return new Options(300_000, 50_000_000, 11_000, 60_000, 120_000, 20, null);
    }

    public Options withLimits(long maxSamples, long timeoutMs, int maxConcurrency) {
      return new Options(
          lookbackMs, maxSamples, maxSteps, defaultSubqueryStepMs, timeoutMs, maxConcurrency, pool);
    }

    public Options withPool(QueryBudget.Pool pool) {
      return new Options(
          lookbackMs, maxSamples, maxSteps, defaultSubqueryStepMs, timeoutMs, maxConcurrency, pool);
    }
  }

  /**
   * Timestamps a query may name (ms): about ±285,000 years, so that a time minus an offset and a
   * range (each at most {@link Parser#MAX_DURATION_MS}) never overflows.
   */
  public static final long MAX_TIME_MS = 1L << 53;

  private final Queryable db;
  private final Options options;
  private final Semaphore slots;

  public Engine(Queryable db, Options options) {
    this.db = db;
    this.options = options;
    this.slots = new Semaphore(options.maxConcurrency(), true);
  }

  public Options options() {
    return options;
  }

  /** A query's budget and its slot, released together. */
  private final class Run implements AutoCloseable {
    final QueryBudget budget;

    Run() {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(options.timeoutMs());
      try {
        if (!slots.tryAcquire(options.timeoutMs(), TimeUnit.MILLISECONDS)) {
          throw new QueryLimitException(
              QueryLimitException.Kind.BUSY,
              "too many concurrent queries: all "
                  + options.maxConcurrency()
                  + " slots stayed busy for the query timeout ("
                  + options.timeoutMs() / 1000
                  + "s); retry later or raise metrics.queryMaxConcurrency");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new QueryLimitException(QueryLimitException.Kind.TIMEOUT, "query interrupted");
      }
      budget = new QueryBudget(options.maxSamples(), deadline, options.pool());
    }

    @Override
    public void close() {
      budget.close();
      slots.release();
    }
  }

  static void checkTime(long t, String what) {
    if (t > MAX_TIME_MS || t < -MAX_TIME_MS) {
      throw new EvalException(
          what
              + " "
              + t
              + " ms is out of range; give a time within ±"
              + MAX_TIME_MS / 1000
              + " s of 1970-01-01");
    }
  }

  /** Evaluates query at time t (ms). */
  public Value instant(String query, long t) {
    return instant(Parser.parse(query), t);
  }

  /** Evaluates a parsed expression at time t (ms). */
  public Value instant(Ast.Expr e, long t) {
    checkTime(t, "evaluation time");
    try (Run run = new Run()) {
      Eval ev = new Eval(t, t, 0, run.budget);
      ev.load(e);
      Object v = ev.eval(e, t);
      return switch (v) {
        case Double d -> new Value.Scalar(t, d);
        case String s -> new Value.Str(t, s);
        case Vec vec -> new Value.Vector(vec.samples);
        case Mat m -> new Value.Matrix(m.series);
        default -> throw new IllegalStateException(v.toString());
      };
    }
  }

  /** Off with -Dpilothouse.promql.seriesAtATime=false: every range query then goes step by step. */
  static final boolean SERIES_AT_A_TIME =
      !"false".equals(System.getProperty("pilothouse.promql.seriesAtATime"));

  /** Evaluates query at every step from start to end (ms) into a matrix. */
  public Value.Matrix range(String query, long start, long end, long step) {
    if (step <= 0) {
      throw new EvalException("zero or negative query resolution step widths are not accepted");
    }
    checkTime(start, "start");
    checkTime(end, "end");
    if (end < start) {
      throw new EvalException("end timestamp must not be before start time");
    }
    if ((end - start) / step + 1 > options.maxSteps()) {
      throw new QueryLimitException(
          QueryLimitException.Kind.RESOLUTION,
          "exceeded maximum resolution of "
              + String.format("%,d", options.maxSteps())
              + " points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
    Ast.Expr e = Parser.parse(query);
    if (e.type() != Ast.Type.SCALAR && e.type() != Ast.Type.VECTOR) {
      throw new EvalException(
          "invalid expression type \""
              + e.type().describe()
              + "\" for range query, must be Scalar or instant Vector");
    }
    try (Run run = new Run()) {
      Eval ev = new Eval(start, end, step, run.budget);
      ev.load(e);
      Map<Labels, Acc> out = new LinkedHashMap<>();
      for (long t = start; t <= end; t += step) {
        Object v = ev.eval(e, t);
        if (v instanceof Double d) {
          out.computeIfAbsent(Labels.EMPTY, k -> new Acc()).add(t, d);
          run.budget.charge(1);
        } else {
          List<Sample> samples = ((Vec) v).samples;
          run.budget.charge(samples.size());
          for (Sample s : samples) {
            out.computeIfAbsent(s.labels(), k -> new Acc()).add(t, s.v());
          }
        }
      }
      List<Points> series = new ArrayList<>();
      out.forEach((l, a) -> series.add(a.points(l)));
      series.sort((a, b) -> a.labels().compareTo(b.labels()));
      return new Value.Matrix(series);
    }
  }

  /** Collects points of one output series. */
  private static final class Acc {
    long[] t = new long[16];
    double[] v = new double[16];
    int n;

    void add(long ts, double val) {
      if (n == t.length) {
        t = Arrays.copyOf(t, n * 2);
        v = Arrays.copyOf(v, n * 2);
      }
      t[n] = ts;
      v[n] = val;
      n++;
    }

    Points points(Labels l) {
      return new Points(l, Arrays.copyOf(t, n), Arrays.copyOf(v, n));
    }
  }

  /** An instant vector during evaluation. */
  record Vec(List<Sample> samples) {}

  /** A range vector during evaluation. */
  record Mat(List<Points> series) {}

  /** What functions and aggregations need of an evaluation. */
  interface Ctx {
    Object eval(Ast.Expr e, long t);

    long start();

    long end();

    /** The evaluation time of a selector or subquery with this modifier, at query time t. */
    long at(Ast.Time time, long t);

    /** A range selector's windows at t, as index ranges into the loaded series (no copies). */
    List<Window> windows(Ast.MatrixSelector m, long t);

    /** The grouping key of labels for an aggregation, computed once per series and query. */
    Labels groupKey(Ast.Aggregate a, Labels l, java.util.function.Function<Labels, Labels> key);
  }

  /**
   * One series' samples in a range window: indices lo..hi (inclusive) of t and v. resets[i] is the
   * sum of the values before each counter reset up to sample i (resets[hi] - resets[lo] is what a
   * reset-corrected increase adds inside the window).
   */
  record Window(Labels labels, long[] t, double[] v, int lo, int hi, double[] resets) {
    int size() {
      return hi - lo + 1;
    }
  }

  /** One query's evaluation: loaded series per selector, and the query's start and end. */
  private final class Eval implements Ctx {
    final long start;
    final long end;
    final long step;
    final Map<Ast.VectorSelector, List<Series>> data = new IdentityHashMap<>();
    final QueryBudget budget;
    final Map<Series, double[]> resets = new IdentityHashMap<>();
    final Map<Series, Boolean> hasStale = new IdentityHashMap<>();
    final Map<Series, int[]> cursors = new IdentityHashMap<>();
    final Map<Ast.Aggregate, Map<Labels, Labels>> keys = new IdentityHashMap<>();

    /** Expressions evaluated one series at a time over every step (null: not possible). */
    final Map<Ast.Expr, List<Sample>[]> perStep = new IdentityHashMap<>();

    private List<Sample>[] seriesAtATime(Ast.Expr e) {
      if (perStep.containsKey(e)) {
        return perStep.get(e);
      }
      Ast.Expr inner = e instanceof Ast.Aggregate a ? a.expr() : e;
      while (inner instanceof Ast.Paren p) {
        inner = p.expr();
      }
      Ast.VectorSelector v = ((Ast.MatrixSelector) ((Ast.Call) inner).args().get(0)).selector();
      List<Series> series = data.get(v);
      List<Sample>[] all =
          series == null
              ? null
              : SeriesAtATime.eval(
                  e,
                  series,
                  start,
                  step,
                  (int) ((end - start) / step) + 1,
                  t -> atOr(v.time(), t) - v.time().offsetMs(),
                  s -> hasStale.computeIfAbsent(s, Eval::stale));
      perStep.put(e, all);
      return all;
    }

    @Override
    public Labels groupKey(
        Ast.Aggregate a, Labels l, java.util.function.Function<Labels, Labels> key) {
      return keys.computeIfAbsent(a, k -> new IdentityHashMap<>()).computeIfAbsent(l, key);
    }

    Eval(long start, long end, long step, QueryBudget budget) {
      this.start = start;
      this.end = end;
      this.step = step;
      this.budget = budget;
    }

    // ---- loading

    void load(Ast.Expr e) {
      walk(e, start, end);
    }

    /** Loads every selector under e for evaluation times in [from, to]. */
    private void walk(Ast.Expr e, long from, long to) {
      switch (e) {
        case Ast.VectorSelector v -> select(v, from, to, options.lookbackMs());
        case Ast.MatrixSelector m -> select(m.selector(), from, to, m.rangeMs());
        case Ast.Subquery s -> {
          long points = s.rangeMs() / subqueryStep(s);
          if (points > options.maxSteps()) {
            throw new QueryLimitException(
                QueryLimitException.Kind.RESOLUTION,
                "exceeded maximum resolution of "
                    + String.format("%,d", options.maxSteps())
                    + " points per timeseries: the subquery ["
                    + s.rangeMs() / 1000
                    + "s:"
                    + subqueryStep(s)
                    + "ms] has "
                    + String.format("%,d", points)
                    + "; raise its step or shorten its range");
          }
          long f = atOr(s.time(), from) - s.time().offsetMs() - s.rangeMs();
          long t = atOr(s.time(), to) - s.time().offsetMs();
          walk(s.expr(), f, t);
        }
        case Ast.Call c -> c.args().forEach(a -> walk(a, from, to));
        case Ast.Aggregate a -> {
          walk(a.expr(), from, to);
          if (a.param() != null) {
            walk(a.param(), from, to);
          }
        }
        case Ast.Binary b -> {
          walk(b.lhs(), from, to);
          walk(b.rhs(), from, to);
        }
        case Ast.Unary u -> walk(u.expr(), from, to);
        case Ast.Paren p -> walk(p.expr(), from, to);
        default -> {}
      }
    }

    private void select(Ast.VectorSelector v, long from, long to, long window) {
      long f = atOr(v.time(), from) - v.time().offsetMs() - window;
      long t = atOr(v.time(), to) - v.time().offsetMs();
      List<Series> have = data.get(v);
      if (have == null) {
        data.put(v, db.select(f, t, v.matchers(), budget));
      }
    }

    @Override
    public long at(Ast.Time time, long t) {
      return atOr(time, t);
    }

    private long atOr(Ast.Time time, long t) {
      if (time.at() != null) {
        return time.at();
      }
      if (time.atStart()) {
        return start;
      }
      if (time.atEnd()) {
        return end;
      }
      return t;
    }

    // ---- evaluation at one time

    @Override
    public Object eval(Ast.Expr e, long t) {
      if (SERIES_AT_A_TIME && end > start && step > 0 && SeriesAtATime.shape(e)) {
        List<Sample>[] all = seriesAtATime(e);
        long k = t - start;
        if (all != null && k >= 0 && k % step == 0 && t <= end) {
          return new Vec(all[(int) (k / step)]);
        }
      }
      return switch (e) {
        case Ast.NumberLit n -> n.value();
        case Ast.StringLit s -> s.value();
        case Ast.Paren p -> eval(p.expr(), t);
        case Ast.VectorSelector v -> new Vec(instantSelect(v, t));
        case Ast.MatrixSelector m -> new Mat(rangeSelect(m.selector(), m.rangeMs(), t));
        case Ast.Subquery s -> new Mat(subquery(s, t));
        case Ast.Unary u -> unary(eval(u.expr(), t));
        case Ast.Binary b -> binary(b, eval(b.lhs(), t), eval(b.rhs(), t));
        case Ast.Aggregate a -> Aggregations.eval(a, this, t);
        case Ast.Call c -> call(c, t);
      };
    }

    /** A call's range-vector arguments (subquery results) are garbage once it has returned. */
    private Object call(Ast.Call c, long t) {
      long held = budget.used();
      Object r = Calls.eval(c, this, t);
      budget.release(budget.used() - held);
      return r;
    }

    private long subqueryStep(Ast.Subquery s) {
      return s.stepMs() > 0 ? s.stepMs() : options.defaultSubqueryStepMs();
    }

    List<Sample> instantSelect(Ast.VectorSelector v, long t) {
      long ref = atOr(v.time(), t) - v.time().offsetMs();
      long min = ref - options.lookbackMs();
      List<Sample> out = new ArrayList<>();
      for (Series s : data.get(v)) {
        int i = lastAtOrBefore(s.t(), ref);
        if (i >= 0 && s.t()[i] >= min && !StaleNaN.is(s.v()[i])) {
          out.add(new Sample(s.labels(), s.v()[i], s.t()[i]));
        }
      }
      return out;
    }

    @Override
    public List<Window> windows(Ast.MatrixSelector m, long t) {
      Ast.VectorSelector v = m.selector();
      long ref = atOr(v.time(), t) - v.time().offsetMs();
      long min = ref - m.rangeMs();
      List<Window> out = new ArrayList<>();
      for (Series s : data.get(v)) {
        if (hasStale.computeIfAbsent(s, Eval::stale)) {
          // Rare: windows with staleness markers go through the copying path.
          for (Points p : rangeSelect(v, m.rangeMs(), t)) {
            if (p.labels().equals(s.labels())) {
              out.add(
                  new Window(p.labels(), p.t(), p.v(), 0, p.t().length - 1, resetPrefix(p.v())));
            }
          }
          continue;
        }
        // Steps move forward: continue from the previous window (a hint, checked).
        int[] c = cursors.computeIfAbsent(s, x -> new int[] {0, -1});
        long[] ts = s.t();
        int lo = c[0];
        if (lo > 0 && lo <= ts.length && ts[lo - 1] >= min) {
          lo = firstAtOrAfter(ts, min);
        } else {
          while (lo < ts.length && ts[lo] < min) {
            lo++;
          }
        }
        int hi = Math.max(c[1], lo - 1);
        if (hi >= 0 && ts[hi] > ref) {
          hi = lastAtOrBefore(ts, ref);
        } else {
          while (hi + 1 < ts.length && ts[hi + 1] <= ref) {
            hi++;
          }
        }
        c[0] = lo;
        c[1] = hi;
        if (hi < 0 || lo > hi) {
          continue;
        }
        out.add(
            new Window(
                s.labels(),
                s.t(),
                s.v(),
                lo,
                hi,
                resets.computeIfAbsent(s, x -> resetPrefix(x.v()))));
      }
      return out;
    }

    private static boolean stale(Series s) {
      for (double x : s.v()) {
        if (StaleNaN.is(x)) {
          return true;
        }
      }
      return false;
    }

    List<Points> rangeSelect(Ast.VectorSelector v, long range, long t) {
      long ref = atOr(v.time(), t) - v.time().offsetMs();
      long min = ref - range;
      List<Points> out = new ArrayList<>();
      for (Series s : data.get(v)) {
        int hi = lastAtOrBefore(s.t(), ref);
        if (hi < 0) {
          continue;
        }
        int lo = firstAtOrAfter(s.t(), min);
        if (lo > hi) {
          continue;
        }
        int stale = 0;
        for (int i = lo; i <= hi; i++) {
          if (StaleNaN.is(s.v()[i])) {
            stale++;
          }
        }
        if (stale == 0) {
          out.add(
              new Points(
                  s.labels(),
                  Arrays.copyOfRange(s.t(), lo, hi + 1),
                  Arrays.copyOfRange(s.v(), lo, hi + 1)));
          continue;
        }
        long[] ts = new long[hi - lo + 1 - stale];
        double[] vs = new double[ts.length];
        int k = 0;
        for (int i = lo; i <= hi; i++) {
          if (!StaleNaN.is(s.v()[i])) {
            ts[k] = s.t()[i];
            vs[k] = s.v()[i];
            k++;
          }
        }
        if (k > 0) {
          out.add(new Points(s.labels(), ts, vs));
        }
      }
      return out;
    }

    private List<Points> subquery(Ast.Subquery s, long t) {
      long stepMs = subqueryStep(s);
      long ref = atOr(s.time(), t) - s.time().offsetMs();
      long from = ref - s.rangeMs();
      long first = Math.floorDiv(from, stepMs) * stepMs;
      if (first < from) {
        first += stepMs;
      }
      Map<Labels, Acc> acc = new LinkedHashMap<>();
      for (long ts = first; ts <= ref; ts += stepMs) {
        Object v = eval(s.expr(), ts);
        if (v instanceof Double d) {
          budget.charge(1);
          acc.computeIfAbsent(Labels.EMPTY, k -> new Acc()).add(ts, d);
        } else {
          budget.charge(((Vec) v).samples.size());
          for (Sample x : ((Vec) v).samples) {
            acc.computeIfAbsent(x.labels(), k -> new Acc()).add(ts, x.v());
          }
        }
      }
      List<Points> out = new ArrayList<>();
      acc.forEach((l, a) -> out.add(a.points(l)));
      return out;
    }

    @Override
    public long start() {
      return start;
    }

    @Override
    public long end() {
      return end;
    }

    // ---- operators

    private Object unary(Object v) {
      if (v instanceof Double d) {
        return -d;
      }
      List<Sample> out = new ArrayList<>();
      for (Sample s : ((Vec) v).samples) {
        out.add(new Sample(s.labels().dropName(), -s.v(), s.t()));
      }
      return new Vec(out);
    }

    private Object binary(Ast.Binary b, Object l, Object r) {
      String op = b.op();
      if (l instanceof Double x && r instanceof Double y) {
        double v = scalarOp(op, x, y);
        return Ops.COMPARISON.contains(op) ? (Ops.compare(op, x, y) ? 1.0 : 0.0) : v;
      }
      if (l instanceof Vec lv && r instanceof Vec rv) {
        return switch (op) {
          case "and" -> new Vec(Ops.and(lv.samples, rv.samples, b.matching()));
          case "or" -> new Vec(Ops.or(lv.samples, rv.samples, b.matching()));
          case "unless" -> new Vec(Ops.unless(lv.samples, rv.samples, b.matching()));
          default ->
              new Vec(Ops.vectorVector(op, lv.samples, rv.samples, b.matching(), b.returnBool()));
        };
      }
      boolean scalarLeft = l instanceof Double;
      Vec vec = (Vec) (scalarLeft ? r : l);
      double scalar = (Double) (scalarLeft ? l : r);
      return new Vec(Ops.vectorScalar(op, vec.samples, scalar, scalarLeft, b.returnBool()));
    }

    private double scalarOp(String op, double x, double y) {
      return Ops.arith(op, x, y);
    }
  }

  /**
   * Counter resets as a prefix sum: p[i] is the sum of the values before each reset up to sample i,
   * so p[hi] - p[lo] is what a reset-corrected increase over lo..hi adds.
   */
  static double[] resetPrefix(double[] v) {
    double[] p = new double[v.length];
    for (int i = 1; i < v.length; i++) {
      p[i] = p[i - 1] + (v[i] < v[i - 1] ? v[i - 1] : 0);
    }
    return p;
  }

  static int lastAtOrBefore(long[] ts, long t) {
    int lo = 0;
    int hi = ts.length - 1;
    int ans = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (ts[mid] <= t) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  static int firstAtOrAfter(long[] ts, long t) {
    int lo = 0;
    int hi = ts.length - 1;
    int ans = ts.length;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (ts[mid] >= t) {
        ans = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return ans;
  }

  /** Groups samples by a key, keeping first-seen order. */
  static <K> Map<K, List<Sample>> group(
      List<Sample> in, java.util.function.Function<Sample, K> key) {
    Map<K, List<Sample>> m = new LinkedHashMap<>();
    for (Sample s : in) {
      m.computeIfAbsent(key.apply(s), k -> new ArrayList<>()).add(s);
    }
    return m;
  }

  static Map<Labels, Integer> counts(List<Sample> in) {
    Map<Labels, Integer> m = new HashMap<>();
    for (Sample s : in) {
      m.merge(s.labels(), 1, Integer::sum);
    }
    return m;
  }
}
