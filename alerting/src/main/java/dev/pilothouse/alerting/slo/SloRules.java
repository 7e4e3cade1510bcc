package dev.pilothouse.alerting.slo;

import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.slo.Slo;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiles SLOs into Prometheus rules the way Sloth does: error ratios over the alert windows and
 * the SLO's window as recording rules (with Sloth's series names, so its dashboards work), the burn
 * rate and remaining error budget, and the multi-window multi-burn-rate alerts of the Google SRE
 * workbook. A page fires when 2 % of the budget burns in an hour or 5 % in six hours, a ticket when
 * 10 % burns in a day or in three days; each long window is confirmed by a short one (a twelfth of
 * it) so that an alert resolves soon after the burning stops.
 */
public final class SloRules {
  private SloRules() {}

  /** The file name the groups carry (their key is "slo;" + name). */
  public static final String FILE = "slo";

  /** How often the alert windows are evaluated (Sloth's default). */
  public static final Duration INTERVAL = Duration.ofSeconds(30);

  /** How often the SLO-window ratio and budget are evaluated: they move slowly. */
  public static final Duration PERIOD_INTERVAL = Duration.ofMinutes(1);

  /** One burn-rate alert condition: budget share burnt within long, confirmed over short. */
  public record Window(
      Duration longWindow, Duration shortWindow, double budgetShare, String severity) {
    /** The burn rate that spends budgetShare of the budget within longWindow. */
    public double burnRate(Duration sloWindow) {
      return BigDecimal.valueOf(budgetShare)
          .multiply(BigDecimal.valueOf(sloWindow.toMinutes()))
          .divide(BigDecimal.valueOf(longWindow.toMinutes()), java.math.MathContext.DECIMAL64)
          .doubleValue();
    }
  }

  /** The workbook's four windows: 14.4× (1h/5m) and 6× (6h/30m) page, 3× and 1× ticket. */
  public static final List<Window> WINDOWS =
      List.of(
          new Window(Duration.ofHours(1), Duration.ofMinutes(5), 0.02, "page"),
          new Window(Duration.ofHours(6), Duration.ofMinutes(30), 0.05, "page"),
          new Window(Duration.ofDays(1), Duration.ofHours(2), 0.10, "ticket"),
          new Window(Duration.ofDays(3), Duration.ofHours(6), 0.10, "ticket"));

  /** The alert windows, shortest first, as PromQL durations. */
  public static final List<String> ALERT_WINDOWS =
      List.of("5m", "30m", "1h", "2h", "6h", "1d", "3d");

  /** The rule groups of every SLO: two per SLO. */
  public static List<RuleGroup> compile(List<Slo> slos) {
    List<RuleGroup> out = new ArrayList<>();
    for (Slo s : slos) {
      out.add(alertGroup(s));
      out.add(periodGroup(s));
    }
    return out;
  }

  /** Error ratio over a window, as recorded (Sloth's name). */
  public static String ratioSeries(String window) {
    return "slo:sli_error:ratio_rate" + window;
  }

  /**
   * The PromQL of the SLO's error ratio over a window, straight from the load balancer's series.
   */
  public static String errorRatio(Slo s, String window) {
    String svc = "service=\"" + s.service() + "\"";
    return switch (s.sli()) {
      case AVAILABILITY -> unavailability(svc, window);
      case LATENCY ->
          "1 - (sum(rate(pilothouse_proxy_request_duration_seconds_bucket{"
              + svc
              + ",le=\""
              + le(s.latencyThreshold())
              + "\"}["
              + window
              + "])) / sum(rate(pilothouse_proxy_request_duration_seconds_count{"
              + svc
              + "}["
              + window
              + "])))";
    };
  }

  /**
   * The share of requests answered with a 5xx or not at all over a window, of the services a label
   * matcher selects ({@code service="web"}, or {@code service!=""} for all).
   */
  public static String unavailability(String serviceMatcher, String window) {
    return "(sum(rate(pilothouse_proxy_requests_total{"
        + serviceMatcher
        + ",class=~\"5xx|error\"}["
        + window
        + "])) or vector(0)) / sum(rate(pilothouse_proxy_requests_total{"
        + serviceMatcher
        + "}["
        + window
        + "]))";
  }

  /** The SLO's window as a PromQL duration: 28d or 30d. */
  public static String period(Slo s) {
    return s.window().toDays() + "d";
  }

  /** The selector of this SLO's recorded series. */
  public static String selector(Slo s) {
    return "{service=\"" + s.service() + "\",slo=\"" + s.name() + "\"}";
  }

  private static RuleGroup alertGroup(Slo s) {
    List<Rule> rules = new ArrayList<>();
    Map<String, String> ids = ids(s);
    for (String w : ALERT_WINDOWS) {
      rules.add(new Rule.Recording(ratioSeries(w), errorRatio(s, w), ids));
    }
    String budget = num(s.errorBudget());
    rules.add(
        new Rule.Recording(
            "slo:current_burn_rate:ratio", ratioSeries("5m") + selector(s) + " / " + budget, ids));
    if (s.alerts()) {
      for (Window w : WINDOWS) {
        String rate = num(w.burnRate(s.window()));
        String longW = promDuration(w.longWindow());
        String shortW = promDuration(w.shortWindow());
        Map<String, String> labels = new LinkedHashMap<>(s.labels());
        labels.putAll(ids);
        labels.put("severity", w.severity());
        labels.put("long", longW);
        labels.put("short", shortW);
        rules.add(
            new Rule.Alerting(
                "ErrorBudgetBurn",
                burn(s, w.longWindow(), budget)
                    + " > "
                    + rate
                    + " and "
                    + burn(s, w.shortWindow(), budget)
                    + " > "
                    + rate,
                Duration.ZERO,
                Duration.ZERO,
                labels,
                Map.of(
                    "summary",
                    "{{ $labels.service }} burns its {{ $labels.slo }} error budget {{ $value |"
                        + " printf \"%.1f\" }}× as fast as the objective allows (over "
                        + longW
                        + ")",
                    "description",
                    "At this rate "
                        + Math.round(w.budgetShare() * 100)
                        + " % of the "
                        + period(s)
                        + " error budget of "
                        + pct(s.objective())
                        + " "
                        + s.sli().wire()
                        + " burns within "
                        + longW
                        + " (over "
                        + rate
                        + "× the allowed rate over both "
                        + longW
                        + " and "
                        + shortW
                        + ").",
                    "runbook_url",
                    "docs/runbooks/error-budget-burn.md")));
      }
    }
    return new RuleGroup("slo:" + s.service() + ":" + s.name(), FILE, INTERVAL, 0, rules);
  }

  private static RuleGroup periodGroup(Slo s) {
    Map<String, String> ids = ids(s);
    String budget = num(s.errorBudget());
    String ratio = ratioSeries(period(s));
    List<Rule> rules =
        List.of(
            new Rule.Recording(ratio, errorRatio(s, period(s)), ids),
            new Rule.Recording("slo:objective:ratio", "vector(" + num(s.objective()) + ")", ids),
            new Rule.Recording("slo:error_budget:ratio", "vector(" + budget + ")", ids),
            new Rule.Recording("slo:time_period:days", "vector(" + s.window().toDays() + ")", ids),
            new Rule.Recording(
                "slo:period_burn_rate:ratio", ratio + selector(s) + " / " + budget, ids),
            new Rule.Recording(
                "slo:period_error_budget_remaining:ratio",
                "1 - slo:period_burn_rate:ratio" + selector(s),
                ids));
    return new RuleGroup(
        "slo:" + s.service() + ":" + s.name() + ":period", FILE, PERIOD_INTERVAL, 0, rules);
  }

  private static String burn(Slo s, Duration window, String budget) {
    return ratioSeries(promDuration(window)) + selector(s) + " / " + budget;
  }

  private static Map<String, String> ids(Slo s) {
    return Map.of("service", s.service(), "slo", s.name());
  }

  /** 5m, 30m, 1h, 6h, 1d, 3d. */
  static String promDuration(Duration d) {
    if (d.toMinutes() < 60) {
      return d.toMinutes() + "m";
    }
    if (d.toHours() < 24) {
      return d.toHours() + "h";
    }
    return d.toDays() + "d";
  }

  /** A number as PromQL reads it, without binary noise (0.001, not 0.0010000000000000009). */
  static String num(double v) {
    return new BigDecimal(Double.toString(v))
        .round(new java.math.MathContext(12))
        .stripTrailingZeros()
        .toPlainString();
  }

  /** The objective as a percentage: 99.9%. */
  static String pct(double objective) {
    return new BigDecimal(Double.toString(objective))
            .movePointRight(2)
            .stripTrailingZeros()
            .toPlainString()
        + "%";
  }

  /** The histogram's le label of a threshold as the load balancer writes it: 0.25, 1.0, 2.5. */
  static String le(Duration threshold) {
    return Double.toString(threshold.toNanos() / 1e9);
  }
}
