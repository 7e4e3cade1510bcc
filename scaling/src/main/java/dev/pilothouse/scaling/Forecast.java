package dev.pilothouse.scaling;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A seasonal forecast of a service's request rate from the store's history: the peak of the next
 * lead as it was at this time of week over the last four weeks (with two weeks or more of history)
 * or at this time of day over the last seven days (with three days or more), the median of those
 * peaks (one unusual day does not move it).
 */
final class Forecast {
  private Forecast() {}

  /**
   * The expected peak request rate.
   *
   * @param basis "weekly" or "daily": which history the forecast stands on
   * @param samples how many past weeks or days it found
   */
  record Result(double expected, String basis, int samples) {}

  static Optional<Result> of(Signals signals, String service, Instant now, Duration lead) {
    String q =
        "max_over_time(sum(rate(pilothouse_proxy_requests_total{service=\""
            + service
            + "\"}[1m]))["
            + lead.toMinutes()
            + "m:1m])";
    List<Double> weekly = peaks(signals, q, now, lead, Duration.ofDays(7), 4);
    if (weekly.size() >= 2) {
      return Optional.of(new Result(median(weekly), "weekly", weekly.size()));
    }
    List<Double> daily = peaks(signals, q, now, lead, Duration.ofDays(1), 7);
    if (daily.size() >= 3) {
      return Optional.of(new Result(median(daily), "daily", daily.size()));
    }
    return Optional.empty();
  }

  private static List<Double> peaks(
      Signals signals, String q, Instant now, Duration lead, Duration period, int count) {
    List<Double> out = new ArrayList<>();
    for (int k = 1; k <= count; k++) {
      OptionalDouble v = signals.query(q, now.minus(period.multipliedBy(k)).plus(lead));
      if (v.isPresent()) {
        out.add(v.getAsDouble());
      }
    }
    return out;
  }

  private static double median(List<Double> l) {
    List<Double> s = new ArrayList<>(l);
    Collections.sort(s);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
