package dev.pilothouse.cost;

import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Daily EffectiveCost per scope key from the ledger, and spend anomalies in it: a day whose cost is
 * far above the median of the 14 days before it, in units of their median absolute deviation
 * (robust to the spikes it looks for), and by more than a floor amount.
 */
public final class Daily {
  private Daily() {}

  /** Days of history a day is compared with; fewer than MIN_DAYS: not judged. */
  static final int HISTORY = 14;

  static final int MIN_DAYS = 7;

  /** Robust z-score above which a day is anomalous. */
  static final double THRESHOLD = 3.5;

  /** An anomalous day. */
  public record Anomaly(
      String scope,
      String day,
      BigDecimal cost,
      BigDecimal expected,
      BigDecimal excess,
      double score) {}

  /** Daily cost (epoch day → exact sum) per key of the rows chosen. */
  public static Map<String, TreeMap<Long, BigDecimal>> costs(
      Ledger ledger, Predicate<Slice> slices, Report.Dimension key) throws IOException {
    Map<String, TreeMap<Long, Money.Sum>> sums = new HashMap<>();
    ledger.scan(
        slices,
        rows -> {
          String[] keys = key.labels(rows);
          long[] start = rows.longs(Focus.CHARGE_START);
          for (int i = 0; i < keys.length; i++) {
            long day = Math.floorDiv(start[i], 86_400L);
            rows.addTo(
                sums.computeIfAbsent(keys[i], k -> new TreeMap<>())
                    .computeIfAbsent(day, d -> new Money.Sum()),
                Focus.EFFECTIVE,
                i);
          }
        });
    Map<String, TreeMap<Long, BigDecimal>> out = new HashMap<>();
    sums.forEach(
        (k, days) -> {
          TreeMap<Long, BigDecimal> m = new TreeMap<>();
          days.forEach((d, s) -> m.put(d, s.value()));
          out.put(k, m);
        });
    return out;
  }

  /** The anomalous days of each key, from its first judged day on; oldest first. */
  public static List<Anomaly> anomalies(
      Map<String, TreeMap<Long, BigDecimal>> daily, BigDecimal floor) {
    List<Anomaly> out = new ArrayList<>();
    daily.forEach(
        (key, days) -> {
          if (days.isEmpty()) {
            return;
          }
          long first = days.firstKey();
          for (long d = first + MIN_DAYS; d <= days.lastKey(); d++) {
            double[] history = new double[(int) Math.min(HISTORY, d - first)];
            for (int i = 0; i < history.length; i++) {
              history[i] = days.getOrDefault(d - 1 - i, BigDecimal.ZERO).doubleValue();
            }
            double median = median(history);
            double[] dev = new double[history.length];
            for (int i = 0; i < history.length; i++) {
              dev[i] = Math.abs(history[i] - median);
            }
            double mad = 1.4826 * median(dev);
            BigDecimal cost = days.getOrDefault(d, BigDecimal.ZERO);
            double x = cost.doubleValue();
            double excess = x - median;
            double scale = Math.max(mad, Math.max(0.01, 0.05 * Math.abs(median)));
            double score = excess / scale;
            if (score > THRESHOLD && excess > floor.doubleValue()) {
              BigDecimal expected =
                  BigDecimal.valueOf(median).setScale(2, java.math.RoundingMode.HALF_EVEN);
              out.add(
                  new Anomaly(
                      key,
                      java.time.LocalDate.ofEpochDay(d).toString(),
                      Report.strip(cost),
                      expected,
                      Report.strip(cost.subtract(expected)),
                      Math.round(score * 10) / 10.0));
            }
          }
        });
    out.sort(java.util.Comparator.comparing(Anomaly::day).thenComparing(Anomaly::scope));
    return out;
  }

  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    int n = s.length;
    return n == 0 ? 0 : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
