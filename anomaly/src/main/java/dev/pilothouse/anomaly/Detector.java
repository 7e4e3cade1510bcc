package dev.pilothouse.anomaly;

/**
 * An online anomaly detector for one series: each sample gets a score in [0, 1] from what came
 * before it, in constant time and memory.
 *
 * <p>How it scores. A forecaster predicts each sample from the series' level (a slow one for noise
 * around a mean, a fast one for a series that wanders) and, when the series has one, its daily or
 * weekly shape (a seasonal profile by time of day or of week, learnt as each bin's deviation from
 * the last full period's mean and read along the slope between bins; used once it has seen a period
 * and a seventh and predicts clearly better than the forecaster in use, or at once when it expects
 * a sample that the one in use finds far off — a weekend). Five statistics of the forecast error,
 * each in units of the error's robust scale, measure different kinds of surprise: one sample far
 * off (spikes, dips), the last 8 errors leaning to one side (level shifts, a seasonal pattern that
 * breaks), the last 48 doing so (slow trends, small lasting shifts), the recent errors growing or
 * shrinking (variance changes) and a value repeated unusually often (a stuck signal). Each
 * statistic is compared with its own recent history: the probability of a value at least as large,
 * from the empirical distribution and an exponential tail fitted beyond its 90th percentile. The
 * least likely of the five (with a Bonferroni factor) gives the score, {@code -log10(p) / 10}
 * capped at 1: 0.3 is one in a thousand, 0.5 one in 100,000. Samples in a row with p below 1 in 100
 * are one event, reported when it starts and when it grows: within it, a sample less likely than
 * every one before it scores, the others score 0.
 *
 * <p>Robustness. Samples the detector finds anomalous do not enter the histories (so an anomaly
 * does not mask the next) and move the forecast only within four scales; three anomalous samples in
 * a row are a new regime (level, noise, a stuck value), taken as the new normal at once instead of
 * alarming on it for an hour. Missing samples (NaN) and gaps in time are skipped: the seasonal
 * profile goes by the timestamp, not by the sample count.
 */
public final class Detector {
  /**
   * Tuning of a detector.
   *
   * @param warmup samples scored 0 while the detector learns
   * @param history values per statistic its rarity is judged against
   */
  public record Options(int warmup, int history) {
    public Options {
      if (warmup < 1 || history < 100) {
        throw new IllegalArgumentException("warmup must be ≥ 1 and history ≥ 100");
      }
    }

    public static Options defaults() {
      return new Options(50, 2000);
    }
  }

  /** Errors averaged for the shift statistic. */
  private static final int SHIFT_WINDOW = 8;

  /** Errors averaged for the drift statistic (slow trends and small lasting shifts). */
  private static final int DRIFT_WINDOW = 48;

  /** Errors averaged for the variance statistic. */
  private static final int SPREAD_WINDOW = 16;

  /** Anomalous samples in a row after which their regime is taken as the new normal. */
  private static final int ACCEPT_AFTER = 3;

  /** p below which a sample continues an event: an anomaly in progress, reported once. */
  private static final double EVENT = 1e-2;

  /** p below which a sample counts as anomalous (kept out of the histories). */
  private static final double ALARM = 1e-4;

  private final Options options;

  /**
   * How far the fast level moves towards each sample: it forecasts a series that wanders (a queue,
   * a temperature) from where it is now, which a slow level, made for noise around a mean, cannot.
   */
  private static final double FAST_RATE = 0.25;

  private final Model plain = new Model(0, 1, 0.05);
  private final Model fast = new Model(0, 1, FAST_RATE);
  private final Model daily = new Model(86_400, 96, 0.05);
  private final Model weekly = new Model(7 * 86_400, 336, 0.05);
  private final Model[] models = {plain, fast, daily, weekly};
  private final Tail spikes;
  private final Tail shifts;
  private final Tail spreads;
  private final Tail drifts;
  private final Tail flats;
  private Model model;
  private double last = Double.NaN;
  private int flatRun;
  private boolean flatAccepted;
  private final double[] recent = new double[DRIFT_WINDOW];
  private int recentCount;
  private int recentNext;
  private long seen;
  private double scale = Double.NaN;
  private double longScale = Double.NaN;
  private long firstSecond = Long.MIN_VALUE;
  private int sameSide;
  private int alarmRun;

  /** The least p in the event in progress (1 when there is none). */
  private double eventLeast = 1;

  private final double[] values = new double[ACCEPT_AFTER];
  private int valuesNext;
  private int valuesCount;

  public Detector(Options options) {
    this.options = options;
    this.spikes = new Tail(options.history(), 0);
    this.shifts = new Tail(options.history(), 0);
    this.spreads = new Tail(options.history(), 0);
    this.drifts = new Tail(options.history(), 0);
    this.flats = new Tail(options.history(), 1 / Math.log(2));
  }

  public Detector() {
    this(Options.defaults());
  }

  /**
   * Scores a sample and learns from it.
   *
   * @param epochSecond the sample's time (samples come in time order)
   * @param value NaN for a missing sample: scored 0 and not learnt
   * @return the anomaly score in [0, 1]
   */
  public double update(long epochSecond, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return 0;
    }
    if (firstSecond == Long.MIN_VALUE) {
      firstSecond = epochSecond;
    }
    seen++;
    Model m = active(epochSecond);
    if (m != model) {
      use(m);
    }
    boolean repeat = value == last;
    last = value;
    flatRun = repeat ? flatRun + 1 : 0;
    if (flatAccepted && repeat) {
      // Still stuck, as already reported: nothing new, and nothing to learn from.
      return 0;
    }
    double predicted = m.predict(epochSecond, value);
    double error = value - predicted;
    if (Double.isNaN(scale)) {
      scale = 0;
      longScale = 0;
      learn(epochSecond, value, error, 1);
      return 0;
    }
    double s = Math.max(scale, floor(value));
    Model other = explains(epochSecond, value, m, s);
    if (other != null) {
      // Surprising to the forecaster in use, expected by one with a longer period that has seen
      // enough (a weekend, to a daily profile): the longer one takes over now, not after alarms.
      m = other;
      use(m);
      predicted = m.predict(epochSecond, value);
      error = value - predicted;
      s = Math.max(scale, floor(value));
    }
    double spike = Math.abs(error) / s;
    // An outlier counts as four scales in the windows: one spike is not also a shift or a change of
    // noise for the next 16 samples.
    push(Math.max(-4 * s, Math.min(4 * s, error)));
    double shift =
        Math.abs(mean(SHIFT_WINDOW)) / s * Math.sqrt(Math.min(recentCount, SHIFT_WINDOW));
    double drift =
        recentCount < DRIFT_WINDOW / 2
            ? 0
            : Math.abs(mean(DRIFT_WINDOW)) / s * Math.sqrt(Math.min(recentCount, DRIFT_WINDOW));
    double spread =
        Math.abs(
            Math.log(
                (meanAbs(SPREAD_WINDOW) + floor(value)) / (Math.max(longScale, 0) + floor(value))));
    double p = 1;
    if (seen > options.warmup()) {
      double least =
          Math.min(
              Math.min(spikes.pValue(spike), Math.min(shifts.pValue(shift), drifts.pValue(drift))),
              Math.min(
                  spreads.pValue(spread),
                  flatAccepted || flatRun >= seen - options.warmup() ? 1 : flats.pValue(flatRun)));
      p = Math.min(1, 5 * least);
    }
    if (Double.isNaN(p)) {
      p = 1; // beyond what doubles hold (values near ±1e308): no evidence either way
    }
    boolean alarm = p < ALARM;
    // The first samples are judged against a scale still being learnt: they teach the tails
    // nothing.
    if (!alarm && seen > options.warmup() / 2) {
      spikes.add(spike);
      shifts.add(shift);
      drifts.add(drift);
      spreads.add(spread);
      flats.add(flatRun);
    }
    sameSide =
        error > 3 * s ? Math.max(sameSide, 0) + 1 : error < -3 * s ? Math.min(sameSide, 0) - 1 : 0;
    if (Math.abs(sameSide) >= 6) {
      // A level shift, not a run of outliers: take the new level as it is.
      double shiftBy = median(6);
      for (Model each : models) {
        each.move(shiftBy);
      }
      clearRecent();
      sameSide = 0;
    }
    if (flatRun == 0) {
      flatAccepted = false;
    } else if (flatRun >= 6 && flats.pValue(flatRun) < ALARM) {
      // Stuck for good: the onset was the news, the rest of the flat stretch is not.
      flatAccepted = true;
    }
    values[valuesNext] = value;
    valuesNext = (valuesNext + 1) % values.length;
    valuesCount = Math.min(valuesCount + 1, values.length);
    alarmRun = alarm ? alarmRun + 1 : 0;
    double reported = news(p);
    if (alarmRun >= ACCEPT_AFTER && valuesCount >= ACCEPT_AFTER) {
      // Anomalous for several samples in a row: a new regime (level, noise, a stuck signal), not
      // a run of outliers. Take it as the new normal, so that it is reported once, not for hours.
      accept(epochSecond);
      return score(reported);
    }
    learn(epochSecond, value, error, s);
    return seen > options.warmup() ? score(reported) : 0;
  }

  /**
   * The p a sample reports: within an event (samples in a row each with p below {@link #EVENT})
   * only a sample less likely than every one before it in the event is news; the others report 1.
   */
  private double news(double p) {
    if (p >= EVENT) {
      eventLeast = 1;
      return p;
    }
    if (p < eventLeast) {
      eventLeast = p;
      return p;
    }
    return 1;
  }

  /** -log10(p) / 10 in [0, 1]. */
  private static double score(double p) {
    return Math.max(0.0, Math.min(1, -Math.log10(Math.max(p, 1e-300)) / 10));
  }

  /** Restarts the forecasters at the last samples' median, and the scale at their spread. */
  private void accept(long epochSecond) {
    double[] v = java.util.Arrays.copyOf(values, valuesCount);
    java.util.Arrays.sort(v);
    double median = v[v.length / 2];
    double[] dev = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      dev[i] = Math.abs(v[i] - median);
    }
    java.util.Arrays.sort(dev);
    double spreadNow = Math.max(1.25 * dev[dev.length / 2], floor(median));
    for (Model m : models) {
      m.move(median - m.predict(epochSecond, median)); // each forecasts the median now
    }
    // A stuck signal has no noise now; otherwise the noise does not shrink on 6 samples' word.
    scale = flatRun > 0 ? 0 : Math.max(spreadNow, scale);
    longScale = scale;
    clearRecent();
    sameSide = 0;
    alarmRun = 0;
    flatAccepted = flatRun > 0;
  }

  /** A forecaster takes over: its errors differ in size, so they are judged by their own. */
  private void use(Model m) {
    model = m;
    if (!Double.isNaN(scale)) {
      scale = m.error;
      longScale = m.error;
      clearRecent();
      sameSide = 0;
    }
  }

  /**
   * A forecaster with a longer period than the one in use that has seen its period and a seventh,
   * predicts this sample within two scales where the one in use is off by more than four, and is
   * not clearly worse on the whole; null if there is none.
   */
  private Model explains(long epochSecond, double value, Model in, double s) {
    if (Math.abs(value - in.predict(epochSecond, value)) <= 4 * s) {
      return null;
    }
    for (Model m : models) {
      if (m.period > in.period
          && ready(m, epochSecond)
          && m.error < 1.25 * in.error
          && Math.abs(value - m.predict(epochSecond, value)) <= 2 * s) {
        return m;
      }
    }
    return null;
  }

  /**
   * The forecaster in use: another takes over once it has seen 8/7 of its period and does clearly
   * better.
   */
  private Model active(long epochSecond) {
    // Hysteresis: a forecaster takes over only from one it beats clearly, so that two close ones
    // do not take turns (every change resets the scale).
    Model best = model == null ? plain : model;
    for (Model m : models) {
      if (m != best && ready(m, epochSecond) && m.error < 0.8 * best.error) {
        best = m;
      }
    }
    return best;
  }

  /** Whether a forecaster has seen enough to be used: a level at once, a profile 8/7 periods. */
  private boolean ready(Model m, long epochSecond) {
    return m.period == 0 || epochSecond - firstSecond >= m.period + m.period / 7;
  }

  private void learn(long epochSecond, double value, double error, double s) {
    boolean learning = seen <= options.warmup();
    // While learning, every sample counts in full; after, an outlier moves nothing beyond 4 scales.
    double clip = learning ? Double.MAX_VALUE : 4 * Math.max(s, floor(value));
    for (Model m : models) {
      m.learn(epochSecond, value, clip);
    }
    double e = Math.min(Math.abs(error), clip);
    double fast = learning ? 1.0 / seen : 0.02;
    double slow = learning ? 1.0 / seen : 0.005;
    scale += fast * (e - scale);
    longScale += slow * (e - longScale);
    if (!Double.isFinite(scale) || !Double.isFinite(longScale)) {
      scale = 0;
      longScale = 0;
    }
  }

  private static double floor(double value) {
    return 1e-9 + 1e-6 * Math.abs(value);
  }

  private void push(double error) {
    recent[recentNext] = error;
    recentNext = (recentNext + 1) % recent.length;
    recentCount = Math.min(recentCount + 1, recent.length);
  }

  private void clearRecent() {
    recentCount = 0;
    recentNext = 0;
  }

  /** The i-th most recent error (0 = the latest). */
  private double back(int i) {
    return recent[Math.floorMod(recentNext - 1 - i, recent.length)];
  }

  private double mean(int k) {
    int n = Math.min(k, recentCount);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += back(i);
    }
    return n == 0 ? 0 : sum / n;
  }

  private double meanAbs(int k) {
    int n = Math.min(k, recentCount);
    if (n < k / 2) {
      return longScale;
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.abs(back(i));
    }
    return sum / n;
  }

  private double median(int k) {
    int n = Math.min(k, recentCount);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = back(i);
    }
    java.util.Arrays.sort(v);
    return n == 0 ? 0 : v[n / 2];
  }

  /**
   * A level, and when period > 0 a seasonal profile over it, with its own forecast error.
   *
   * <p>The profile is learnt as each bin's deviation from the mean of the last full period (the
   * mean of every bin's latest visit), not from the level: a level that follows the daily swing
   * with a lag would otherwise teach the profile its lag instead of the shape. The profile is kept
   * centred (its mean is subtracted when it is used), so the level stays the deseasonalised mean.
   */
  private static final class Model {
    final long period;

    /** How far the level moves towards each sample's error. */
    final double rate;

    final double[] season;
    final int[] seasonSeen;

    /** Each bin's mean over its latest visit (NaN before the first). */
    final double[] lastVisit;

    double level = Double.NaN;
    double error = Double.MAX_VALUE;
    private long errorSeen;
    private long start = Long.MIN_VALUE;
    private int visiting = -1;
    private double visitSum;
    private int visitCount;
    private double visitedSum;
    private int visited;
    private double seasonSum;
    private int seasoned;

    Model(long period, int bins, double rate) {
      this.period = period;
      this.rate = rate;
      this.season = new double[bins];
      this.seasonSeen = new int[bins];
      this.lastVisit = new double[bins];
      java.util.Arrays.fill(lastVisit, Double.NaN);
    }

    int bin(long epochSecond) {
      return period == 0 ? 0 : (int) (Math.floorMod(epochSecond, period) * season.length / period);
    }

    /** The centred seasonal part at a time (0 without a profile). */
    double seasonal(long epochSecond) {
      if (period == 0 || seasoned == 0) {
        return 0;
      }
      int b = bin(epochSecond);
      if (seasonSeen[b] == 0) {
        return 0;
      }
      // Between the centres of this bin and the nearer neighbour: a bin's mean is its centre's
      // value on a slope, so a steep hour is forecast along the slope instead of in steps. A step
      // between two bins (larger than three typical errors: the weekend starting at midnight) is
      // kept a step.
      int n = season.length;
      double x = Math.floorMod(epochSecond, period) * (double) n / period - b - 0.5;
      int next = Math.floorMod(x < 0 ? b - 1 : b + 1, n);
      double w = Math.abs(x);
      double at =
          seasonSeen[next] == 0 || Math.abs(season[next] - season[b]) > 3 * error
              ? season[b]
              : (1 - w) * season[b] + w * season[next];
      return at - seasonSum / seasoned;
    }

    double predict(long epochSecond, double value) {
      if (Double.isNaN(level)) {
        return value;
      }
      return level + seasonal(epochSecond);
    }

    void learn(long epochSecond, double value, double clip) {
      if (!Double.isFinite(level) || !Double.isFinite(error)) {
        reset();
      }
      if (Double.isNaN(level)) {
        level = value;
        error = 0;
        start = epochSecond;
        return;
      }
      double err = value - (level + seasonal(epochSecond));
      double e = Math.max(-clip, Math.min(clip, err));
      // The mean error over the samples scored so far, then over the last ~500: a profile just
      // learnt is judged by its own forecasts, not by the level-only ones made before it.
      errorSeen++;
      error =
          error == Double.MAX_VALUE || error == 0
              ? Math.abs(err) + 1e-12
              : error + Math.max(0.002, 1.0 / errorSeen) * (Math.min(Math.abs(err), clip) - error);
      level += rate * e;
      if (period > 0) {
        // An outlier enters the profile only as far as the clip allows — once there is a profile:
        // until then the forecast is the level alone, and clipping around it would flatten the
        // very shape the first period is recording.
        double v = seasoned == 0 ? value : value - err + e;
        visit(bin(epochSecond), v);
        if (epochSecond - start >= period && visited > 0) {
          if (seasoned == 0) {
            bootstrap();
          }
          int b = bin(epochSecond);
          double deviation = v - visitedSum / visited;
          double before = seasonSeen[b] == 0 ? 0 : season[b];
          seasonSeen[b]++;
          double a = Math.max(0.1, 1.0 / seasonSeen[b]);
          double after = before + a * (deviation - before);
          season[b] = after;
          seasonSum += after - before;
          if (seasonSeen[b] == 1) {
            seasoned++;
          }
        }
      }
    }

    /**
     * Moves the level, and once the profile is seeded the period recorded for it: a shift the
     * detector has taken as the new normal is not learnt as part of the shape for the period that
     * follows. Before it is seeded the first period is kept as it came, since what looked like a
     * shift may be the shape itself (the first weekend, to a weekly profile).
     */
    void move(double by) {
      if (Double.isNaN(level)) {
        return;
      }
      level += by;
      if (seasoned == 0) {
        return;
      }
      for (int b = 0; b < lastVisit.length; b++) {
        lastVisit[b] += by; // NaN stays NaN
      }
      visitedSum += by * visited;
      visitSum += by * visitCount;
    }

    /** After the first full period, each bin's deviation from that period's mean. */
    private void bootstrap() {
      double mean = visitedSum / visited;
      errorSeen = 0;
      for (int b = 0; b < season.length; b++) {
        if (!Double.isNaN(lastVisit[b])) {
          season[b] = lastVisit[b] - mean;
          seasonSeen[b] = 1;
          seasonSum += season[b];
          seasoned++;
        }
      }
      // Until now the level followed the values, shape and all: start it at the period's mean.
      level = mean;
    }

    /** Keeps the mean of each bin's latest visit, so the last period's mean is at hand. */
    private void visit(int b, double v) {
      if (b != visiting) {
        if (visiting >= 0 && visitCount > 0) {
          double mean = visitSum / visitCount;
          if (Double.isNaN(lastVisit[visiting])) {
            visited++;
          } else {
            visitedSum -= lastVisit[visiting];
          }
          lastVisit[visiting] = mean;
          visitedSum += mean;
        }
        visiting = b;
        visitSum = 0;
        visitCount = 0;
      }
      visitSum += v;
      visitCount++;
    }

    private void reset() {
      java.util.Arrays.fill(season, 0);
      java.util.Arrays.fill(seasonSeen, 0);
      java.util.Arrays.fill(lastVisit, Double.NaN);
      level = Double.NaN;
      visiting = -1;
      visitSum = 0;
      visitCount = 0;
      visitedSum = 0;
      visited = 0;
      seasonSum = 0;
      seasoned = 0;
    }
  }
}
