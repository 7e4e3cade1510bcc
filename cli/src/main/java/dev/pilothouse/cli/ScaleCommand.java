package dev.pilothouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse scale SERVICE N}. */
@Command(name = "scale", description = "Set the number of instances of a service (a new revision).")
final class ScaleCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Parameters(index = "1", paramLabel = "N", description = "Instances, 0 to 1000.")
  int replicas;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (replicas < 0 || replicas > 1000) {
      throw new CliException(
          ExitCodes.USAGE,
          "N must be between 0 and 1000, but was " + replicas,
          "give a count from 0 to 1000");
    }
    ApplyCommand.print(
        common.client().scale(service, replicas), output, spec.commandLine().getOut());
    return ExitCodes.OK;
  }
}
