package dev.pilothouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse scale SERVICE N}, and {@code scale explain SERVICE}. */
@Command(
    name = "scale",
    description =
        "Set the number of instances of a service (a new revision); 'scale explain SERVICE' shows"
            + " why an autoscaled service runs the count it does, 'scale advise SERVICE' what to"
            + " declare.",
    subcommands = {ScaleExplainCommand.class, ScaleAdviseCommand.class})
final class ScaleCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  // Optional to picocli only so that 'scale explain SERVICE' parses; call() requires both.
  @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE")
  String service;

  @Parameters(index = "1", arity = "0..1", paramLabel = "N", description = "Instances, 0 to 1000.")
  Integer replicas;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (service == null || replicas == null) {
      throw new CliException(
          ExitCodes.USAGE,
          "scale needs a service and a count",
          "write 'pilothouse scale SERVICE N', or 'pilothouse scale explain SERVICE'");
    }
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
