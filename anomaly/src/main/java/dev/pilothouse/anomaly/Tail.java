package dev.pilothouse.anomaly;

/**
 * How rare a value of a statistic is among its recent values: the empirical tail below the 90th
 * percentile, and above it an exponential tail fitted to the excesses (peaks over threshold, as in
 * Siffer et al.'s SPOT), so that values beyond anything seen still get distinct, ever smaller
 * probabilities. The recent values are kept both in arrival order (to forget the oldest) and sorted
 * (to rank a value in logarithmic time).
 */
final class Tail {
  private final double[] ring;
  private final double[] sorted;
  private int size;
  private int next;
  private double threshold;
  private double meanExcess;
  private int exceeding;
  private int sinceFit;

  private final double minExcess;

  /**
   * @param minExcess the least scale of the exponential tail: for a count (such as a run length), 1
   *     / ln 2 halves the probability with each step beyond the threshold however few excesses
   *     there were
   */
  Tail(int capacity, double minExcess) {
    ring = new double[capacity];
    sorted = new double[capacity];
    this.minExcess = minExcess;
  }

  /** Values seen so far (at most the capacity). */
  int size() {
    return size;
  }

  void add(double v) {
    if (Double.isNaN(v)) {
      return;
    }
    if (size == ring.length) {
      int at = lowerBound(ring[next]);
      System.arraycopy(sorted, at + 1, sorted, at, size - at - 1);
      size--;
    }
    ring[next] = v;
    next = (next + 1) % ring.length;
    int at = lowerBound(v);
    System.arraycopy(sorted, at, sorted, at + 1, size - at);
    sorted[at] = v;
    size++;
    if (++sinceFit >= 25 || size < 200) {
      fit();
    }
  }

  /** The probability of a value at least this large; 1 while fewer than 30 values are known. */
  double pValue(double v) {
    int n = size;
    if (n < 30) {
      return 1;
    }
    if (v <= threshold) {
      int below = lowerBound(v);
      return (double) (n - below + 1) / (n + 1);
    }
    double atThreshold = (double) (exceeding + 1) / (n + 1);
    return atThreshold * Math.exp(-(v - threshold) / meanExcess);
  }

  private int lowerBound(double v) {
    int lo = 0;
    int hi = size;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] < v) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private void fit() {
    sinceFit = 0;
    int n = size;
    if (n == 0) {
      return;
    }
    threshold = sorted[Math.min(n - 1, (int) (0.9 * n))];
    int count = 0;
    double sum = 0;
    for (int i = n - 1; i >= 0 && sorted[i] > threshold; i--) {
      count++;
      sum += sorted[i] - threshold;
    }
    exceeding = count;
    // The exponential's scale from the mean excess, or from the median excess (the median of an
    // exponential is its scale × ln 2) when that is larger: the heavier tail of the two.
    double median = count == 0 ? 0 : sorted[n - 1 - count / 2] - threshold;
    double mean = count == 0 ? 0 : sum / count;
    double spread = sorted[n - 1] - sorted[0];
    meanExcess =
        Math.max(Math.max(mean, median / Math.log(2)), Math.max(minExcess, 1e-3 * spread + 1e-12));
  }
}
