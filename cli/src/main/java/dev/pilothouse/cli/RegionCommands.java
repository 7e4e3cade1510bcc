package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse region list|failover|weights}: the regions of a multi-region spec. */
final class RegionCommands {
  private RegionCommands() {}

  @Command(
      name = "region",
      description =
          "The regions of a multi-region spec: their traffic weights, and moving traffic between"
              + " them (docs/runbooks/region-failover.md).",
      subcommands = {ListRegions.class, Failover.class, Weights.class})
  static final class Group extends GroupCommand {}

  @Command(name = "list", description = "Each region's weight, endpoint, namespace and services.")
  static final class ListRegions implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      List<Wire.Region> regions = common.client().regions();
      var out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(regions));
        return ExitCodes.OK;
      }
      if (regions.isEmpty()) {
        out.println("the spec declares no regions");
        return ExitCodes.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("REGION", "WEIGHT", "ENDPOINT", "NAMESPACE", "SERVICES"));
      for (Wire.Region r : regions) {
        rows.add(
            List.of(
                r.name(),
                r.weight() + "%",
                r.endpoint(),
                r.namespace(),
                String.join(",", r.services())));
      }
      out.print(Output.table(rows));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "failover",
      description =
          "Move all of region FROM's traffic to region --to (or to the other regions, in"
              + " proportion to their weights) as a new revision; the built-in load balancer's"
              + " next route table sends FROM nothing. Its services keep running there."
              + " Undo with 'region weights' or 'rollout undo'.")
  static final class Failover implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "FROM", description = "The region to drain.")
    String from;

    @Option(names = "--to", paramLabel = "REGION", description = "The region to take it all.")
    String to = "";

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ApplyCommand.print(common.client().failover(from, to), output, spec.commandLine().getOut());
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "weights",
      description = "Set regions' traffic weights, 0 to 100, as a new revision (e.g. eu=50 us=50).")
  static final class Weights implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(arity = "1..*", paramLabel = "REGION=WEIGHT")
    List<String> weights;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Map<String, Integer> m = new LinkedHashMap<>();
      for (String w : weights) {
        int eq = w.indexOf('=');
        Integer value = null;
        if (eq > 0) {
          try {
            value = Integer.valueOf(w.substring(eq + 1));
          } catch (NumberFormatException e) {
            value = null;
          }
        }
        if (value == null) {
          throw new CliException(
              ExitCodes.USAGE,
              "'" + w + "' is not REGION=WEIGHT",
              "write e.g. 'pilothouse region weights eu=50 us=50'");
        }
        m.put(w.substring(0, eq), value);
      }
      ApplyCommand.print(common.client().regionWeights(m), output, spec.commandLine().getOut());
      return ExitCodes.OK;
    }
  }
}
