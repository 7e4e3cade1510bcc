package dev.pilothouse.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse dora [--since 30d] [-o json]}. */
@Command(
    name = "dora",
    description =
        "DORA metrics from Pilothouse's own deploy events: deployment frequency, lead time for"
            + " changes, change failure rate and time to restore.")
final class DoraCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Option(
      names = "--since",
      paramLabel = "WHEN",
      defaultValue = "30d",
      description = "Period start: a duration ago (30d, 12h) or a timestamp (default: 30d).")
  String since;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Map<String, Object> r = common.client().dora(since);
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(r));
      return ExitCodes.OK;
    }
    out.println("DORA metrics from " + r.get("since") + " to " + r.get("until") + ":");
    List<List<String>> t = new ArrayList<>();
    t.add(
        List.of(
            "SCOPE",
            "DEPLOYS",
            "PER DAY",
            "LEAD TIME",
            "FAILURE RATE",
            "TIME TO RESTORE",
            "AVAILABILITY"));
    t.add(row("all", r));
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> per =
        (Map<String, Map<String, Object>>) r.getOrDefault("services", Map.of());
    per.forEach((name, s) -> t.add(row(name, s)));
    out.print(Output.table(t));
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> slos = (List<Map<String, Object>>) r.getOrDefault("slos", List.of());
    if (!slos.isEmpty()) {
      out.println();
      out.println("SLO attainment over the period:");
      for (Map<String, Object> o : slos) {
        Object a = o.get("attainment");
        out.println(
            "  "
                + o.get("service")
                + "/"
                + o.get("name")
                + ": "
                + (a instanceof Number n ? percent(n) : "no traffic")
                + " against "
                + percent((Number) o.get("objective"))
                + (Boolean.TRUE.equals(o.get("met"))
                    ? " (met)"
                    : Boolean.FALSE.equals(o.get("met")) ? " (missed)" : ""));
      }
    }
    @SuppressWarnings("unchecked")
    Map<String, String> levels = (Map<String, String>) r.getOrDefault("levels", Map.of());
    if (!levels.isEmpty()) {
      out.println();
      levels.forEach((k, v) -> out.println("  " + k.replace('_', ' ') + ": " + v));
    }
    return ExitCodes.OK;
  }

  private static List<String> row(String name, Map<String, Object> r) {
    Object rate = r.get("change_failure_rate");
    Object perDay = r.get("deployment_frequency_per_day");
    return List.of(
        name,
        r.containsKey("deployments")
            ? r.get("deployments") + " (" + r.get("failed") + " failed)"
            : "0",
        perDay instanceof Number n
            ? String.format(java.util.Locale.ROOT, "%.2f", n.doubleValue())
            : "-",
        duration(r.get("lead_time_seconds")),
        rate == null ? "-" : Math.round(((Number) rate).doubleValue() * 100) + "%",
        duration(r.get("time_to_restore_seconds")),
        r.get("availability") instanceof Number n ? percent(n) : "-");
  }

  /** 99.95%: up to three decimals, without trailing zeros. */
  private static String percent(Number v) {
    return new java.math.BigDecimal(
                String.format(java.util.Locale.ROOT, "%.3f", v.doubleValue() * 100))
            .stripTrailingZeros()
            .toPlainString()
        + "%";
  }

  private static String duration(Object stat) {
    Object median = stat instanceof Map<?, ?> m ? m.get("median") : null;
    if (!(median instanceof Number n)) {
      return "-";
    }
    long s = Math.round(n.doubleValue());
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return (s / 60) + "m";
    }
    if (s < 172_800) {
      return (s / 3600) + "h" + (s % 3600 / 60 > 0 ? (s % 3600 / 60) + "m" : "");
    }
    return (s / 86_400) + "d";
  }
}
