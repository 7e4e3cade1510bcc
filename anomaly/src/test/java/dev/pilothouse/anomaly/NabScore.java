package dev.pilothouse.anomaly;

import java.util.ArrayList;
import java.util.List;

/**
 * The Numenta Anomaly Benchmark's scoring, written from its description: windows of 10 % of a
 * file's length divided by its anomaly count, centred on each labelled anomaly; the first detection
 * in a window earns a sigmoid-weighted reward (more the earlier it comes), a missed window costs
 * the FN weight, a detection outside every window costs the FP weight (less right after a window);
 * the first 15 % of a file (at most 750 samples) is probationary. Scores are normalised to 100 for
 * a perfect detector and 0 for one that never detects, with the threshold that maximises the
 * corpus's raw score.
 */
final class NabScore {
  /** Application profile weights. */
  record Profile(double tp, double fp, double fn) {
    static final Profile STANDARD = new Profile(1.0, 0.11, 1.0);
    static final Profile REWARD_LOW_FP = new Profile(1.0, 0.22, 1.0);
    static final Profile REWARD_LOW_FN = new Profile(1.0, 0.11, 2.0);
  }

  /** A series with its labelled anomaly indexes and a detector's scores. */
  record Scored(
      String name, int length, List<Integer> anomalies, double[] scores, int[] candidates) {
    Scored(String name, int length, List<Integer> anomalies, double[] scores) {
      this(name, length, anomalies, scores, null);
    }
  }

  /** The result at the best threshold. */
  record Result(
      double normalized,
      double threshold,
      int truePositives,
      int falseNegatives,
      int falsePositives,
      double meanDelaySamples) {
    double recall() {
      return truePositives / (double) Math.max(1, truePositives + falseNegatives);
    }

    double precision() {
      return truePositives / (double) Math.max(1, truePositives + falsePositives);
    }
  }

  static double scaledSigmoid(double y) {
    if (y > 3) {
      return -1;
    }
    return 2 / (1 + Math.exp(5 * y)) - 1;
  }

  /** The corpus's normalised score at the best threshold. */
  static Result score(List<Scored> corpus, Profile p) {
    // Only the top 2 % of scores can be a useful threshold; score with just those points.
    double[] all =
        corpus.stream()
            .flatMapToDouble(s -> java.util.Arrays.stream(s.scores()))
            .sorted()
            .toArray();
    double floor = all[(int) (0.98 * (all.length - 1))];
    List<Scored> top = new ArrayList<>();
    java.util.TreeSet<Double> candidates = new java.util.TreeSet<>();
    for (Scored s : corpus) {
      int[] idx =
          java.util.stream.IntStream.range(0, s.length())
              .filter(i -> s.scores()[i] >= floor && s.scores()[i] > 0)
              .toArray();
      for (int i : idx) {
        candidates.add(s.scores()[i]);
      }
      top.add(new Scored(s.name(), s.length(), s.anomalies(), s.scores(), idx));
    }
    corpus = top;
    // Thresholds at distinct score values: a coarse pass over 200, then every value near the best.
    List<Double> list = new ArrayList<>(candidates);
    int step = Math.max(1, list.size() / 200);
    Result best = null;
    double perfect = 0;
    double none = 0;
    for (Scored s : corpus) {
      perfect += p.tp() * scaledSigmoid(-1.0) * s.anomalies().size();
      none -= p.fn() * s.anomalies().size();
    }
    for (int i = 0; i < list.size(); i += step) {
      Result r = at(corpus, p, list.get(i), perfect, none);
      if (best == null || r.normalized() > best.normalized()) {
        best = r;
      }
    }
    if (best != null) {
      int at = list.indexOf(best.threshold());
      for (int i = Math.max(0, at - step); i < Math.min(list.size(), at + step); i++) {
        Result r = at(corpus, p, list.get(i), perfect, none);
        if (r.normalized() > best.normalized()) {
          best = r;
        }
      }
    }
    return best == null ? at(corpus, p, 2, perfect, none) : best;
  }

  static Result at(List<Scored> corpus, Profile p, double threshold, double perfect, double none) {
    double raw = 0;
    int tp = 0;
    int fn = 0;
    int fp = 0;
    double delay = 0;
    for (Scored s : corpus) {
      int n = s.length();
      int probation = Math.min((int) Math.floor(0.15 * n), 750);
      int w = (int) (0.10 * n / Math.max(1, s.anomalies().size()));
      List<int[]> windows = new ArrayList<>();
      for (int a : s.anomalies()) {
        windows.add(new int[] {Math.max(0, a - w / 2), Math.min(n - 1, a + w / 2), a});
      }
      boolean[] hit = new boolean[windows.size()];
      for (int i : s.candidates()) {
        if (i < probation || s.scores()[i] < threshold) {
          continue;
        }
        int in = -1;
        int before = -1;
        for (int k = 0; k < windows.size(); k++) {
          int[] win = windows.get(k);
          if (i >= win[0] && i <= win[1]) {
            in = k;
          } else if (win[1] < i) {
            before = k;
          }
        }
        if (in >= 0) {
          if (!hit[in]) {
            hit[in] = true;
            int[] win = windows.get(in);
            double len = win[1] - win[0] + 1;
            double y = (i - win[1]) / len;
            raw += p.tp() * scaledSigmoid(y);
            tp++;
            delay += Math.max(0, i - win[2]);
          }
        } else {
          fp++;
          if (before < 0) {
            raw -= p.fp();
          } else {
            int[] win = windows.get(before);
            double len = win[1] - win[0] + 1;
            raw += p.fp() * scaledSigmoid((i - win[1]) / len);
          }
        }
      }
      for (boolean h : hit) {
        if (!h) {
          fn++;
          raw -= p.fn();
        }
      }
    }
    double normalized = 100 * (raw - none) / (perfect - none);
    return new Result(normalized, threshold, tp, fn, fp, tp == 0 ? 0 : delay / tp);
  }
}
