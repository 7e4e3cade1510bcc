package dev.pilothouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse restart SERVICE}. */
@Command(
    name = "restart",
    description = "Replace every instance of a service one at a time; clears a crash loop.")
final class RestartCommand implements Callable<Integer> {
  @Mixin Common common;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(common.client().restart(service).message());
    return ExitCodes.OK;
  }
}
