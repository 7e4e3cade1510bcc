package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse rollout status|promote|pause|resume|abort SERVICE}. */
@Command(
    name = "rollout",
    description = "Watch and steer canary deploys.",
    subcommands = {
      RolloutCommand.Status.class,
      RolloutCommand.Promote.class,
      RolloutCommand.Pause.class,
      RolloutCommand.Resume.class,
      RolloutCommand.Abort.class,
      RolloutCommand.Undo.class
    })
final class RolloutCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  static void print(Wire.Rollout r, PrintWriter out) {
    if ("rolling".equals(r.strategy())) {
      out.printf(
          "%s: %s rolling %s -> %s%n", r.service(), r.phase(), r.fromVersion(), r.toVersion());
    } else if ("blueGreen".equals(r.strategy())) {
      out.printf(
          "%s: %s blue-green %s -> %s, new version gets %d%% of traffic%n",
          r.service(), r.phase(), r.fromVersion(), r.toVersion(), r.weight());
    } else {
      out.printf(
          "%s: %s %s -> %s, step %d/%d, canary weight %d%%%n",
          r.service(), r.phase(), r.fromVersion(), r.toVersion(), r.step(), r.steps(), r.weight());
    }
    out.println("  " + r.reason());
    if (r.previewHeader() != null && !r.previewHeader().isEmpty()) {
      out.println("  preview (new version only): curl -H '" + r.previewHeader() + "' …");
    }
    if (r.live() != null) {
      out.printf(
          Locale.ROOT,
          "  live: %s %s p=%s  %s%n",
          r.live().metric(),
          r.live().outcome(),
          r.live().pValue() == null ? "-" : String.format(Locale.ROOT, "%.3g", r.live().pValue()),
          r.live().reason());
    }
    if (r.passedGates() != null && !r.passedGates().isEmpty()) {
      out.println("  gates that said yes: " + String.join(", ", r.passedGates()));
    }
    for (Wire.Verdict v : r.verdicts()) {
      out.printf(
          Locale.ROOT,
          "  %-10s %-12s p=%s  %s%n",
          v.metric(),
          v.outcome(),
          v.pValue() == null ? "-" : String.format(Locale.ROOT, "%.3g", v.pValue()),
          v.reason());
    }
    out.flush();
  }

  /** {@code rollout status SERVICE [--watch] [-o json]}. */
  @Command(
      name = "status",
      description = "Show a service's rollout: phase, step, weight, verdicts.")
  static final class Status implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Option(
        names = {"-w", "--watch"},
        description = "Keep showing changes until the rollout ends.")
    boolean watch;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      var client = common.client();
      Wire.Rollout last = null;
      while (true) {
        Wire.Rollout r;
        try {
          r = client.rollout(service);
        } catch (dev.pilothouse.client.ApiException e) {
          var experiments = e.status() == 404 && !watch ? experiments(client, service) : null;
          if (experiments == null || experiments.isEmpty()) {
            throw e;
          }
          if (output.json()) {
            com.fasterxml.jackson.databind.node.ObjectNode o = Output.JSON.createObjectNode();
            o.putArray("experiments").addAll(experiments);
            out.println(Output.json(o));
          } else {
            out.println("no rollout of " + service + " yet");
            for (com.fasterxml.jackson.databind.JsonNode x : experiments) {
              out.println();
              ExperimentCommand.Status.print(out, x);
            }
          }
          out.flush();
          return ExitCodes.OK;
        }
        if (!Objects.equals(r, last)) {
          java.util.List<com.fasterxml.jackson.databind.JsonNode> experiments =
              watch ? java.util.List.of() : experiments(client, service);
          if (output.json() && !experiments.isEmpty()) {
            com.fasterxml.jackson.databind.node.ObjectNode o = Output.JSON.valueToTree(r);
            o.putArray("experiments").addAll(experiments);
            out.println(Output.json(o));
            out.flush();
          } else if (output.json()) {
            out.println(watch ? Output.jsonLine(r) : Output.json(r));
            out.flush();
          } else {
            print(r, out);
            for (com.fasterxml.jackson.databind.JsonNode e : experiments) {
              out.println();
              ExperimentCommand.Status.print(out, e);
            }
            out.flush();
          }
        }
        last = r;
        boolean done = r.phase().equals("Promoted") || r.phase().equals("RolledBack");
        if (!watch || done) {
          return ExitCodes.OK;
        }
        DaemonLauncher.sleep(1000);
      }
    }
  }

  /** The A/B tests of a service that have not ended, with their per-variant results. */
  static java.util.List<com.fasterxml.jackson.databind.JsonNode> experiments(
      dev.pilothouse.client.PilotClient client, String service) {
    java.util.List<com.fasterxml.jackson.databind.JsonNode> out = new java.util.ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode e : client.experiments(null)) {
      if (e.path("service").asText().equals(service) && !e.path("phase").asText().equals("Ended")) {
        out.add(e);
      }
    }
    return out;
  }

  /** Shared by the steering verbs. */
  abstract static class Action implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    abstract String action();

    @Override
    public Integer call() {
      Wire.Rollout r = common.client().rolloutAction(service, action());
      if (output.json()) {
        spec.commandLine().getOut().println(Output.json(r));
      } else {
        print(r, spec.commandLine().getOut());
      }
      return ExitCodes.OK;
    }
  }

  /** {@code rollout promote SERVICE}. */
  @Command(name = "promote", description = "Skip the remaining steps and promote the canary.")
  static final class Promote extends Action {
    @Override
    String action() {
      return "promote";
    }
  }

  /** {@code rollout pause SERVICE}. */
  @Command(name = "pause", description = "Hold the rollout at its current step.")
  static final class Pause extends Action {
    @Override
    String action() {
      return "pause";
    }
  }

  /** {@code rollout resume SERVICE}. */
  @Command(name = "resume", description = "Continue a paused rollout.")
  static final class Resume extends Action {
    @Override
    String action() {
      return "resume";
    }
  }

  /** {@code rollout undo SERVICE [--to-revision N] [--with-data]}. */
  @Command(
      name = "undo",
      description = "Return a service to an earlier revision's spec (a new deploy).")
  static final class Undo implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Option(
        names = "--to-revision",
        paramLabel = "N",
        description = "The revision to return to (default: the one before).")
    long toRevision;

    @Option(
        names = "--with-data",
        description =
            "Also restore the service's data as it was then: the snapshot taken before the deploy"
                + " being undone (services with 'backup:'; the service is stopped around it).")
    boolean withData;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ApplyCommand.print(
          common.client().undo(service, toRevision, withData), output, spec.commandLine().getOut());
      return ExitCodes.OK;
    }
  }

  /** {@code rollout abort SERVICE}. */
  @Command(name = "abort", description = "Roll the canary back now.")
  static final class Abort extends Action {
    @Override
    String action() {
      return "abort";
    }
  }
}
