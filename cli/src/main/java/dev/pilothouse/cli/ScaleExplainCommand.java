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

/** {@code pilothouse scale explain SERVICE [-o json]}. */
@Command(
    name = "explain",
    description =
        "Show why an autoscaled service runs the count it does: current and desired count, each"
            + " target's measurement and proposal, and the policy, stabilization window or bound"
            + " that limited the result.")
final class ScaleExplainCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode d = common.client().autoscale(service);
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(d));
      return ExitCodes.OK;
    }
    out.println(
        d.path("service").asText()
            + ": "
            + d.path("current").asInt()
            + " -> "
            + d.path("desired").asInt()
            + " instances ("
            + d.path("state").asText()
            + ", min "
            + d.path("min").asInt()
            + ", max "
            + d.path("max").asInt()
            + ")");
    out.println(d.path("reason").asText());
    if (!d.path("bounds").asText().isEmpty()) {
      out.println(
          "bounds now "
              + d.path("floor").asInt()
              + ".."
              + d.path("cap").asInt()
              + ": "
              + d.path("bounds").asText());
    }
    JsonNode p = d.path("prediction");
    if (p.isObject()) {
      out.println(
          "forecast ("
              + p.path("mode").asText()
              + ", "
              + p.path("basis").asText()
              + " history, "
              + p.path("samples").asInt()
              + " samples): "
              + number(p.path("expected").asDouble())
              + " req/s within "
              + p.path("lead").asText()
              + " -> at least "
              + p.path("floor").asInt()
              + " instances");
    }
    List<List<String>> t = new ArrayList<>();
    t.add(List.of("TARGET", "MEASURED", "GOAL", "UNIT", "PROPOSES", "NOTE"));
    for (JsonNode r : d.path("targets")) {
      t.add(
          List.of(
              r.path("target").asText(),
              r.path("value").isNull() || r.path("value").isMissingNode()
                  ? "-"
                  : number(r.path("value").asDouble()),
              number(r.path("goal").asDouble()),
              r.path("unit").asText(),
              r.path("proposal").isNull() || r.path("proposal").isMissingNode()
                  ? "-"
                  : r.path("proposal").asText(),
              r.path("note").asText().isEmpty() ? "-" : r.path("note").asText()));
    }
    out.println();
    out.print(Output.table(t));
    out.println();
    out.println(
        "recommended "
            + d.path("recommended").asInt()
            + (d.path("limitedBy").asText().isEmpty()
                ? ""
                : "; limited by " + d.path("limitedBy").asText()));
    return ExitCodes.OK;
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }
}
