package dev.pilothouse.anomaly;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Labelled synthetic metric series for evaluating detectors: 5-minute samples of a few kinds of
 * normal behaviour (noisy level, daily and weekly seasonality, an autocorrelated walk, counts),
 * each with one to three anomalies of a kind after the first fifth: spikes and dips, level shifts,
 * trend changes, variance changes, a seasonal pattern that breaks, a signal gone flat. Some series
 * miss samples.
 */
final class Synthetic {
  enum Kind {
    SPIKE,
    DIP,
    LEVEL_SHIFT,
    TREND,
    VARIANCE,
    SEASON_BREAK,
    FLATLINE
  }

  enum Base {
    NOISY_LEVEL,
    DAILY,
    WEEKLY,
    WALK,
    COUNTS
  }

  /** A series: timestamps (epoch seconds), values (NaN = missing), anomaly onsets and kinds. */
  record Series(String name, long[] t, double[] v, List<Integer> anomalies, List<Kind> kinds) {}

  static final long START = 1_700_000_000L - Math.floorMod(1_700_000_000L, 86_400L);

  static List<Series> corpus(long seed, int perCombination) {
    Random r = new Random(seed);
    List<Series> out = new ArrayList<>();
    for (Base b : Base.values()) {
      for (Kind k : Kind.values()) {
        if (k == Kind.SEASON_BREAK && (b != Base.DAILY && b != Base.WEEKLY)) {
          continue;
        }
        for (int i = 0; i < perCombination; i++) {
          out.add(series(b + "-" + k + "-" + i, b, k, r));
        }
      }
    }
    return out;
  }

  static Series series(String name, Base base, Kind kind, Random r) {
    int n = 4000 + r.nextInt(2000);
    long[] t = new long[n];
    double[] v = new double[n];
    double level = 20 + r.nextDouble() * 80;
    double noise = level * (0.02 + r.nextDouble() * 0.05);
    double amplitude = level * (0.2 + r.nextDouble() * 0.4);
    int count = 1 + r.nextInt(kind == Kind.SEASON_BREAK ? 1 : 3);
    List<Integer> onsets = new ArrayList<>();
    int lo = (int) (0.25 * n);
    int gap = (n - lo) / count;
    for (int i = 0; i < count; i++) {
      onsets.add(lo + i * gap + r.nextInt(Math.max(1, gap - 400)));
    }
    double walk = 0;
    double extraLevel = 0;
    double slope = 0;
    double trend = 0;
    double noiseFactor = 1;
    boolean flat = false;
    boolean seasonBroken = false;
    for (int i = 0; i < n; i++) {
      t[i] = START + 300L * i;
      for (int a : onsets) {
        if (i == a) {
          switch (kind) {
            case LEVEL_SHIFT ->
                extraLevel += (r.nextBoolean() ? 1 : -1) * (4 + 4 * r.nextDouble()) * noise;
            case TREND ->
                slope += (r.nextBoolean() ? 1 : -1) * noise * (0.05 + 0.05 * r.nextDouble());
            case VARIANCE -> noiseFactor *= 4;
            case SEASON_BREAK -> seasonBroken = true;
            case FLATLINE -> {
              flat = true;
            }
            default -> {}
          }
        }
      }
      double day = Math.sin(2 * Math.PI * ((t[i] % 86_400) / 86_400.0));
      double dow = ((t[i] / 86_400) + 4) % 7; // 0 = Monday
      double x =
          switch (base) {
            case NOISY_LEVEL -> level + noise * noiseFactor * r.nextGaussian();
            case DAILY ->
                level
                    + (seasonBroken ? 0 : amplitude * day)
                    + noise * noiseFactor * r.nextGaussian();
            case WEEKLY ->
                level
                    + (seasonBroken ? amplitude * day : amplitude * day * (dow >= 5 ? 0.3 : 1.0))
                    + (dow >= 5 && !seasonBroken ? -amplitude * 0.5 : 0)
                    + noise * noiseFactor * r.nextGaussian();
            case WALK -> {
              walk = 0.95 * walk + noise * 0.5 * noiseFactor * r.nextGaussian();
              yield level + walk + noise * 0.3 * noiseFactor * r.nextGaussian();
            }
            case COUNTS ->
                poisson(r, Math.max(0.5, level / 5 * (1 + 0.3 * day)))
                    * (noiseFactor > 1 ? (r.nextDouble() < 0.5 ? 0.2 : 1.8) : 1);
          };
      x += extraLevel;
      trend += slope;
      x += trend;
      if (flat) {
        x = Double.isNaN(v[i - 1]) ? level : v[i - 1];
      }
      for (int a : onsets) {
        if (i == a && (kind == Kind.SPIKE || kind == Kind.DIP)) {
          double size =
              (6 + 6 * r.nextDouble())
                  * noise
                  * (base == Base.DAILY || base == Base.WEEKLY ? 1.5 : 1);
          if (base == Base.COUNTS) {
            size = 8 * Math.sqrt(level / 5) + level / 5;
          }
          x += kind == Kind.SPIKE ? size : -Math.min(size, Math.abs(x) * 0.9 + size * 0.5);
        }
      }
      v[i] = x;
    }
    // A tenth of the series lose 2 % of their samples (never an anomaly's onset).
    if (r.nextInt(10) == 0) {
      for (int i = 0; i < n / 50; i++) {
        int k = r.nextInt(n);
        if (!onsets.contains(k)) {
          v[k] = Double.NaN;
        }
      }
    }
    List<Kind> kinds = new ArrayList<>();
    onsets.forEach(o -> kinds.add(kind));
    return new Series(name, t, v, onsets, kinds);
  }

  private static double poisson(Random r, double lambda) {
    if (lambda > 30) {
      return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.nextGaussian()));
    }
    double l = Math.exp(-lambda);
    int k = 0;
    double p = 1;
    do {
      k++;
      p *= r.nextDouble();
    } while (p > l);
    return k - 1;
  }
}
