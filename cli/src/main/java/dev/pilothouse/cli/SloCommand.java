package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse slo [SERVICE] [-o json]}. */
@Command(
    name = "slo",
    description =
        "Show the services' SLOs: objective, SLI over the window, error budget left, burn rates"
            + " over the alert windows and firing burn-rate alerts. Exit code 0 when every SLO"
            + " with traffic meets its objective, 1 when one does not.")
final class SloCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(arity = "0..1", paramLabel = "SERVICE", description = "Only this service's SLOs.")
  String service;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode slos = common.client().slos(service).path("slos");
    PrintWriter out = spec.commandLine().getOut();
    boolean missed = false;
    for (JsonNode s : slos) {
      missed |= s.path("met").isBoolean() && !s.path("met").asBoolean();
    }
    if (output.json()) {
      out.println(Output.json(slos));
      return missed ? ExitCodes.FAILURE : ExitCodes.OK;
    }
    if (slos.isEmpty()) {
      out.println("no SLOs: declare them under services.NAME.slos in the spec (docs/spec.md)");
      return ExitCodes.OK;
    }
    List<List<String>> t = new ArrayList<>();
    t.add(
        List.of(
            "SERVICE",
            "SLO",
            "OBJECTIVE",
            "SLI",
            "BUDGET LEFT",
            "BURN 5m",
            "BURN 1h",
            "BURN 6h",
            "BURN 3d",
            "ALERTS"));
    for (JsonNode s : slos) {
      JsonNode burn = s.path("burn_rates");
      String what =
          s.path("sli").asText()
              + (s.has("threshold_seconds")
                  ? " <" + trim(s.path("threshold_seconds").asDouble() * 1000) + "ms"
                  : "");
      List<String> firing = new ArrayList<>();
      s.path("firing").forEach(f -> firing.add(f.asText()));
      t.add(
          List.of(
              s.path("service").asText(),
              s.path("name").asText() + " (" + what + ")",
              percent(s.path("objective")) + " / " + s.path("window").asText(),
              percent(s.path("sli_value")),
              percent(s.path("error_budget_remaining")),
              rate(burn.path("5m")),
              rate(burn.path("1h")),
              rate(burn.path("6h")),
              rate(burn.path("3d")),
              firing.isEmpty() ? "-" : String.join(",", firing)));
    }
    out.print(Output.table(t));
    return missed ? ExitCodes.FAILURE : ExitCodes.OK;
  }

  private static String percent(JsonNode v) {
    return v.isNumber() ? trim(v.asDouble() * 100) + "%" : "-";
  }

  private static String rate(JsonNode v) {
    return v.isNumber() ? String.format(Locale.ROOT, "%.2f×", v.asDouble()) : "-";
  }

  /** Up to three decimals, without trailing zeros: 99.9, 250, 99.95. */
  private static String trim(double v) {
    return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3f", v))
        .stripTrailingZeros()
        .toPlainString();
  }
}
