package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse scale advise SERVICE [--window 7d] [-o json]}. */
@Command(
    name = "advise",
    description =
        "Recommend resources.cpu, resources.memory and instance bounds for a service from what it"
            + " used: CPU's 95th percentile and memory's peak with 20%% headroom, and the counts"
            + " that carry its quietest and busiest five minutes.")
final class ScaleAdviseCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Option(
      names = "--window",
      defaultValue = "7d",
      paramLabel = "D",
      description = "How much history to read, 1h to 90d (default ${DEFAULT-VALUE}).")
  String window;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode a = common.client().advice(service, window);
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(a));
      return ExitCodes.OK;
    }
    JsonNode cpu = a.path("cpu");
    JsonNode mem = a.path("memory");
    JsonNode inst = a.path("instances");
    List<List<String>> t = new ArrayList<>();
    t.add(List.of("", "NOW", "RECOMMENDED", "FROM"));
    t.add(
        List.of(
            "resources.cpu",
            cores(cpu.path("current")),
            cores(cpu.path("recommended")),
            "p95 " + cores(cpu.path("p95")) + ", max " + cores(cpu.path("max"))));
    t.add(
        List.of(
            "resources.memory",
            mib(mem.path("current")),
            mib(mem.path("recommended")),
            "max " + mib(mem.path("max"))));
    t.add(
        List.of(
            "instances",
            inst.path("currentMin").asText() + ".." + inst.path("currentMax").asText(),
            inst.path("recommendedMin").isNull()
                ? "-"
                : inst.path("recommendedMin").asText()
                    + ".."
                    + inst.path("recommendedMax").asText(),
            "CPU "
                + cores(inst.path("troughCpu"))
                + ".."
                + cores(inst.path("peakCpu"))
                + ", req/s "
                + num(inst.path("troughRps"))
                + ".."
                + num(inst.path("peakRps"))));
    out.println(a.path("service").asText() + ", over the last " + a.path("window").asText() + ":");
    out.print(Output.table(t));
    a.path("notes").forEach(n -> out.println("  " + n.asText()));
    return ExitCodes.OK;
  }

  private static String cores(JsonNode n) {
    return n.isNumber() ? String.format(Locale.ROOT, "%.0fm", n.asDouble() * 1000) : "-";
  }

  private static String mib(JsonNode n) {
    return n.isNumber() ? String.format(Locale.ROOT, "%.0fMi", n.asDouble() / (1 << 20)) : "-";
  }

  private static String num(JsonNode n) {
    return n.isNumber() ? String.format(Locale.ROOT, "%.1f", n.asDouble()) : "-";
  }
}
