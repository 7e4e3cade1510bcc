package dev.pilothouse.alerting.slo;

import dev.pilothouse.alerting.RuleStore;
import dev.pilothouse.core.slo.Slo;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an SLO stands now, computed straight from the load balancer's series (so it is right from
 * the first minute after an apply, before the recording rules have history).
 *
 * @param sli the share of good requests over the SLO's window; null without traffic
 * @param budgetRemaining the share of the error budget left (negative when overspent); null without
 *     traffic
 * @param burnRates burn rate per alert window (5m … 3d): the error ratio over the error budget; a
 *     window without traffic is absent
 */
public record SloStatus(
    Slo slo, Double sli, Double budgetRemaining, Map<String, Double> burnRates) {

  /** The status of an SLO at a moment. */
  public static SloStatus of(Slo s, RuleStore store, Instant at) {
    Double ratio = value(store, SloRules.errorRatio(s, SloRules.period(s)), at);
    Map<String, Double> burn = new LinkedHashMap<>();
    for (String w : SloRules.ALERT_WINDOWS) {
      Double r = value(store, SloRules.errorRatio(s, w), at);
      if (r != null) {
        burn.put(w, r / s.errorBudget());
      }
    }
    return new SloStatus(
        s,
        ratio == null ? null : 1 - ratio,
        ratio == null ? null : 1 - ratio / s.errorBudget(),
        burn);
  }

  /**
   * The share of good requests of an SLO over any period ending at a moment (for DORA's
   * availability and attainment); null without traffic in it.
   */
  public static Double sliOver(Slo s, Duration period, RuleStore store, Instant at) {
    Double ratio = value(store, SloRules.errorRatio(s, window(period)), at);
    return ratio == null ? null : 1 - ratio;
  }

  /**
   * The share of requests of the services a label matcher selects that got an answer other than a
   * 5xx over a period ending at a moment; null without traffic.
   */
  public static Double availability(
      String serviceMatcher, Duration period, RuleStore store, Instant at) {
    Double ratio = value(store, SloRules.unavailability(serviceMatcher, window(period)), at);
    return ratio == null ? null : 1 - ratio;
  }

  /**
   * Requests the load balancer passed to the services a label matcher selects over a period ending
   * at a moment; null without any.
   */
  public static Double requests(
      String serviceMatcher, Duration period, RuleStore store, Instant at) {
    return value(
        store,
        "sum(increase(pilothouse_proxy_requests_total{"
            + serviceMatcher
            + "}["
            + window(period)
            + "]))",
        at);
  }

  /**
   * The share of an SLO's error budget (over its window ending at a moment) that the bad requests
   * of a shorter period ending then spent: 0.25 is a quarter. Null without traffic.
   */
  public static Double budgetSpent(Slo s, Duration period, RuleStore store, Instant at) {
    String svc = "service=\"" + s.service() + "\"";
    Double bad = value(store, SloRules.errorRatio(s, window(period)), at);
    Double inPeriod = requests(svc, period, store, at);
    Double inWindow = requests(svc, s.window(), store, at);
    return bad == null || inPeriod == null || inWindow == null || inWindow == 0
        ? null
        : bad * inPeriod / (s.errorBudget() * inWindow);
  }

  private static String window(Duration period) {
    return Math.max(1, period.toSeconds()) + "s";
  }

  /** Whether the SLI meets the objective; null without traffic. */
  public Boolean met() {
    return sli == null ? null : sli >= slo.objective();
  }

  /** An expression's single value, not below 0; null when it has none (no traffic). */
  private static Double value(RuleStore store, String expr, Instant at) {
    List<RuleStore.Sample> r = store.query(expr, at);
    if (r.isEmpty() || Double.isNaN(r.get(0).value())) {
      return null;
    }
    return Math.max(0, r.get(0).value());
  }
}
