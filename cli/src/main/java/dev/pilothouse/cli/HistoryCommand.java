package dev.pilothouse.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse history SERVICE}. */
@Command(name = "history", description = "The revisions that changed a service.")
final class HistoryCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    List<Map<String, Object>> rows = common.client().history(service);
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(rows));
      return ExitCodes.OK;
    }
    List<List<String>> table = new ArrayList<>();
    table.add(List.of("REVISION", "AT", "VERSION", "SOURCE"));
    for (Map<String, Object> r : rows) {
      table.add(
          List.of(
              String.valueOf(r.get("revision")),
              String.valueOf(r.get("at")),
              String.valueOf(r.get("version")),
              String.valueOf(r.get("source"))));
    }
    out.print(Output.table(table));
    return ExitCodes.OK;
  }
}
