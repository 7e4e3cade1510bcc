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

/** {@code pilothouse experiment status|promote|stop}: A/B tests (docs/experiments.md). */
@Command(
    name = "experiment",
    description =
        "A/B tests: per-variant results with effects and 95%% intervals; promote a winner.",
    subcommands = {
      ExperimentCommand.Status.class,
      ExperimentCommand.Promote.class,
      ExperimentCommand.Stop.class
    })
final class ExperimentCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "status",
      description = "An experiment's variants and their effects (all without NAME).")
  static final class Status implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode r = common.client().experiments(name);
      if (output.json()) {
        out.println(Output.json(r));
      } else if (name == null) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("EXPERIMENT", "SERVICE", "PHASE", "STARTED", "LEADER"));
        for (JsonNode x : r) {
          rows.add(
              List.of(
                  x.path("name").asText(),
                  x.path("service").asText(),
                  x.path("phase").asText(),
                  x.path("startedAt").asText(),
                  x.path("leader").isNull() ? "-" : x.path("leader").asText()));
        }
        out.print(Output.table(rows));
      } else {
        print(out, r);
      }
      out.flush();
      return ExitCodes.OK;
    }

    static void print(PrintWriter out, JsonNode r) {
      out.printf(
          "experiment %s on %s: %s since %s%s%n",
          r.path("name").asText(),
          r.path("service").asText(),
          r.path("phase").asText(),
          r.path("startedAt").asText(),
          r.path("outcome").asText().isEmpty() ? "" : " (" + r.path("outcome").asText() + ")");
      List<List<String>> rows = new ArrayList<>();
      List<String> head =
          new ArrayList<>(
              List.of("VARIANT", "VERSION", "WEIGHT", "REQUESTS", "ERRORS", "MEAN", "P99"));
      List<String> metrics = new ArrayList<>();
      JsonNode first = r.path("variants").path(0).path("metrics");
      first.fieldNames().forEachRemaining(metrics::add);
      metrics.forEach(m -> head.add(m.toUpperCase(Locale.ROOT) + "/REQ"));
      rows.add(head);
      for (JsonNode v : r.path("variants")) {
        List<String> row =
            new ArrayList<>(
                List.of(
                    v.path("name").asText(),
                    v.path("version").isNull() ? "(as declared)" : v.path("version").asText(),
                    v.path("weight").asInt() + "%",
                    v.path("requests").asText("-"),
                    pct(v.path("errorRate")),
                    ms(v.path("latencyMeanMs")),
                    ms(v.path("latencyP99Ms"))));
        metrics.forEach(m -> row.add(num(v.path("metrics").path(m).path("perRequest"))));
        rows.add(row);
      }
      out.print(Output.table(rows));
      out.println();
      List<List<String>> effects = new ArrayList<>();
      effects.add(
          List.of("VARIANT", "METRIC", "CONTROL", "VARIANT", "DIFFERENCE (95% CI)", "P", ""));
      for (JsonNode c : r.path("comparisons")) {
        effects.add(
            List.of(
                c.path("variant").asText(),
                c.path("metric").asText(),
                num(c.path("control")),
                num(c.path("value")),
                num(c.path("difference"))
                    + " ["
                    + num(c.path("low"))
                    + ", "
                    + num(c.path("high"))
                    + "]",
                num(c.path("pValue")),
                c.path("significant").asBoolean() ? "significant" : ""));
      }
      out.print(Output.table(effects));
      out.println(
          r.path("leader").isNull()
              ? "no variant is significantly better on the first metric yet"
              : "leader: "
                  + r.path("leader").asText()
                  + " (promote with: pilothouse experiment promote "
                  + r.path("name").asText()
                  + " "
                  + r.path("leader").asText()
                  + ")");
    }

    private static String num(JsonNode n) {
      return n.isNull() || n.isMissingNode()
          ? "-"
          : String.format(Locale.ROOT, "%.4g", n.asDouble());
    }

    private static String pct(JsonNode n) {
      return n.isNull() || n.isMissingNode()
          ? "-"
          : String.format(Locale.ROOT, "%.2f%%", 100 * n.asDouble());
    }

    private static String ms(JsonNode n) {
      return n.isNull() || n.isMissingNode()
          ? "-"
          : String.format(Locale.ROOT, "%.1fms", n.asDouble());
    }
  }

  @Command(
      name = "promote",
      description =
          "End an experiment: the service takes the variant's version and environment (a deploy"
              + " with its strategy), as a new revision.")
  static final class Promote implements Callable<Integer> {
    @Mixin Common common;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "VARIANT")
    String variant;

    @Override
    public Integer call() {
      JsonNode r = common.client().endExperiment(name, variant);
      spec.commandLine()
          .getOut()
          .println(
              "experiment "
                  + name
                  + ": "
                  + variant
                  + " promoted (revision "
                  + r.path("revision").asLong()
                  + ")");
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }

  @Command(name = "stop", description = "End an experiment; the service stays as declared.")
  static final class Stop implements Callable<Integer> {
    @Mixin Common common;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      JsonNode r = common.client().endExperiment(name, null);
      spec.commandLine()
          .getOut()
          .println(
              "experiment " + name + " stopped (revision " + r.path("revision").asLong() + ")");
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }
}
