package dev.pilothouse.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The detector on a labelled synthetic corpus (480 series, 7 kinds of anomaly over 5 kinds of
 * normal behaviour), scored as the Numenta Anomaly Benchmark scores (standard profile, threshold
 * optimised over the corpus), beside NAB's windowed-Gaussian baseline on the same series.
 */
class DetectorEvaluationTest {
  static List<Synthetic.Series> corpus;
  static List<NabScore.Scored> ours;
  static List<NabScore.Scored> gaussian;

  @BeforeAll
  static void run() {
    // Three corpora from three seeds (480 series), so that no single draw's quirks steer tuning;
    // SEEDS=1,2,3 (say) scores a held-out draw.
    corpus = new ArrayList<>();
    for (long seed :
        java.util.Arrays.stream(System.getenv().getOrDefault("SEEDS", "42,7,99").split(","))
            .mapToLong(Long::parseLong)
            .toArray()) {
      corpus.addAll(Synthetic.corpus(seed, 5));
    }
    ours = new ArrayList<>();
    gaussian = new ArrayList<>();
    for (Synthetic.Series s : corpus) {
      Detector d = new Detector();
      double[] scores = new double[s.v().length];
      for (int i = 0; i < scores.length; i++) {
        scores[i] = d.update(s.t()[i], s.v()[i]);
      }
      ours.add(new NabScore.Scored(s.name(), scores.length, s.anomalies(), scores));
      gaussian.add(
          new NabScore.Scored(s.name(), scores.length, s.anomalies(), windowedGaussian(s.v())));
    }
  }

  /**
   * NAB's windowedGaussian baseline: the tail probability of a sample under the last window's
   * normal.
   */
  static double[] windowedGaussian(double[] v) {
    double[] out = new double[v.length];
    int w = 1000;
    double sum = 0;
    double sq = 0;
    int n = 0;
    for (int i = 0; i < v.length; i++) {
      if (n >= 10 && !Double.isNaN(v[i])) {
        double mean = sum / n;
        double sd = Math.sqrt(Math.max(1e-12, sq / n - mean * mean));
        double z = Math.abs(v[i] - mean) / sd;
        out[i] = z / (1 + z);
      }
      if (!Double.isNaN(v[i])) {
        sum += v[i];
        sq += v[i] * v[i];
        n++;
      }
      if (i >= w && !Double.isNaN(v[i - w])) {
        sum -= v[i - w];
        sq -= v[i - w] * v[i - w];
        n--;
      }
    }
    return out;
  }

  @Test
  void onTheLabelledCorpus_itScoresWellAbove_theWindowedGaussianBaseline() {
    NabScore.Result r = NabScore.score(ours, NabScore.Profile.STANDARD);
    NabScore.Result g = NabScore.score(gaussian, NabScore.Profile.STANDARD);
    NabScore.Result lowFp = NabScore.score(ours, NabScore.Profile.REWARD_LOW_FP);
    NabScore.Result lowFn = NabScore.score(ours, NabScore.Profile.REWARD_LOW_FN);
    System.out.printf(
        "ours: NAB standard %.1f (low FP %.1f, low FN %.1f) threshold %.3f recall %.2f precision %.2f"
            + " delay %.1f samples; windowedGaussian: %.1f recall %.2f precision %.2f%n",
        r.normalized(),
        lowFp.normalized(),
        lowFn.normalized(),
        r.threshold(),
        r.recall(),
        r.precision(),
        r.meanDelaySamples(),
        g.normalized(),
        g.recall(),
        g.precision());
    perKind(r.threshold());
    // Measured at 67.1 against the baseline's 35.7 (recall 0.78, precision 0.46, delay 5.0
    // samples); the bars sit below with room for the corpus's randomness, not for regressions.
    assertThat(r.normalized()).isGreaterThan(g.normalized() + 15);
    assertThat(r.normalized()).isGreaterThan(58);
    assertThat(r.recall()).isGreaterThan(0.6);
    assertThat(r.precision()).isGreaterThan(0.35);
    assertThat(r.meanDelaySamples()).isLessThan(5);
  }

  /** Recall and delay by kind of anomaly at a threshold, printed for tuning. */
  static void perKind(double threshold) {
    Map<Synthetic.Kind, int[]> hits = new EnumMap<>(Synthetic.Kind.class);
    for (int k = 0; k < corpus.size(); k++) {
      Synthetic.Series s = corpus.get(k);
      double[] sc = ours.get(k).scores();
      int w = (int) (0.10 * sc.length / s.anomalies().size());
      for (int a = 0; a < s.anomalies().size(); a++) {
        int onset = s.anomalies().get(a);
        int[] h = hits.computeIfAbsent(s.kinds().get(a), x -> new int[3]);
        h[1]++;
        for (int i = Math.max(0, onset - w / 2); i <= Math.min(sc.length - 1, onset + w / 2); i++) {
          if (sc[i] >= threshold) {
            h[0]++;
            h[2] += Math.max(0, i - onset);
            break;
          }
        }
      }
    }
    Map<Synthetic.Base, int[]> fps = new EnumMap<>(Synthetic.Base.class);
    for (int k = 0; k < corpus.size(); k++) {
      Synthetic.Series s = corpus.get(k);
      double[] sc = ours.get(k).scores();
      int w = (int) (0.10 * sc.length / s.anomalies().size());
      int[] f =
          fps.computeIfAbsent(
              Synthetic.Base.valueOf(s.name().substring(0, s.name().indexOf('-'))),
              x -> new int[2]);
      f[1]++;
      for (int i = Math.min((int) (0.15 * sc.length), 750); i < sc.length; i++) {
        final int at = i;
        if (sc[i] >= threshold
            && s.anomalies().stream().noneMatch(a -> Math.abs(a - at) <= w / 2)) {
          f[0]++;
        }
      }
    }
    fps.forEach(
        (b, f) -> System.out.printf("  %-12s false positives %d in %d series%n", b, f[0], f[1]));
    hits.forEach(
        (k, h) ->
            System.out.printf(
                "  %-12s recall %d/%d, mean delay %.1f samples%n",
                k, h[0], h[1], h[0] == 0 ? 0.0 : h[2] / (double) h[0]));
  }
}
