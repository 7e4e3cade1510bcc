package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse flags rollout start|status|abort}: gradual flag changes (docs/flags.md). */
@Command(
    name = "rollout",
    description =
        "Change a flag gradually: 1%% -> 100%% on a schedule, rolled back by a failed check.",
    subcommands = {
      FlagRolloutCommand.Start.class,
      FlagRolloutCommand.Status.class,
      FlagRolloutCommand.Abort.class
    })
final class FlagRolloutCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "start",
      description =
          "Move a flag's users to a variant in steps (each user keeps their variant as the share"
              + " grows); checks are asked every 5 s and before each step.")
  static final class Start implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FLAG")
    String key;

    @Option(names = "--to", required = true, paramLabel = "VARIANT", description = "the variant")
    String to;

    @Option(
        names = "--steps",
        split = ",",
        paramLabel = "PERCENT",
        description = "rising percentages ending at 100 (default: 1,10,50,100)")
    List<Integer> steps = List.of(1, 10, 50, 100);

    @Option(
        names = "--every",
        paramLabel = "DURATION",
        description = "how long each step lasts (default: 10m)")
    String every = "10m";

    @Option(
        names = "--check-promql",
        paramLabel = "EXPR",
        description = "a PromQL condition that must hold (repeatable)")
    List<String> promql = new ArrayList<>();

    @Option(
        names = "--check-webhook",
        paramLabel = "URL",
        description = "a webhook that must answer 2xx (repeatable)")
    List<String> webhooks = new ArrayList<>();

    @Option(
        names = "--check-command",
        paramLabel = "CMD",
        description = "a command that must exit 0 (repeatable)")
    List<String> commands = new ArrayList<>();

    @Override
    public Integer call() {
      ObjectNode plan = Output.JSON.createObjectNode();
      plan.put("to", to);
      ArrayNode s = plan.putArray("steps");
      steps.forEach(s::add);
      plan.put("every", every);
      ArrayNode checks = plan.putArray("checks");
      add(checks, "promql", promql);
      add(checks, "webhook", webhooks);
      add(checks, "command", commands);
      JsonNode r = common.client().startFlagRollout(key, plan);
      print(spec.commandLine().getOut(), output, r);
      return ExitCodes.OK;
    }

    private static void add(ArrayNode checks, String kind, List<String> targets) {
      for (int i = 0; i < targets.size(); i++) {
        checks.addObject().put("name", kind + "-" + (i + 1)).put(kind, targets.get(i));
      }
    }
  }

  @Command(
      name = "status",
      description = "Where a flag's gradual change stands (all without FLAG).")
  static final class Status implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FLAG")
    String key;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode r = common.client().flagRollout(key);
      if (key != null) {
        print(out, output, r);
        return ExitCodes.OK;
      }
      if (output.json()) {
        out.println(Output.json(r));
      } else {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("FLAG", "PHASE", "TO", "PERCENT", "REASON"));
        for (JsonNode x : r) {
          rows.add(
              List.of(
                  x.path("key").asText(),
                  x.path("phase").asText(),
                  x.path("to").asText(),
                  x.path("percent").asInt() + "%",
                  x.path("reason").asText()));
        }
        out.print(Output.table(rows));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(name = "abort", description = "Stop a gradual change: everyone back on the old variant.")
  static final class Abort implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FLAG")
    String key;

    @Override
    public Integer call() {
      print(spec.commandLine().getOut(), output, common.client().abortFlagRollout(key));
      return ExitCodes.OK;
    }
  }

  static void print(PrintWriter out, Output output, JsonNode r) {
    if (output.json()) {
      out.println(Output.json(r));
    } else {
      out.printf(
          "flag %s: %s, %s -> %s at %d%% (steps %s, every %s)%n",
          r.path("key").asText(),
          r.path("phase").asText(),
          r.path("from").asText(),
          r.path("to").asText(),
          r.path("percent").asInt(),
          r.path("steps"),
          r.path("every").asText());
      out.println("  " + r.path("reason").asText());
      for (JsonNode v : r.path("verdicts")) {
        out.println("  " + v.path("outcome").asText() + "  " + v.path("reason").asText());
      }
    }
    out.flush();
  }
}
