package dev.pilothouse.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pilothouse logs SERVICE}. */
@Command(name = "logs", description = "Print the output of a service's instances.")
final class LogsCommand implements Callable<Integer> {
  @Mixin Common common;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Option(names = "--instance", paramLabel = "ID", description = "Only this instance.")
  String instance;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing new output.")
  boolean follow;

  @Option(
      names = "--since",
      paramLabel = "WHEN",
      description = "Only output since a duration ago (5m, 1h) or a timestamp.")
  String since;

  @Override
  public Integer call() {
    common
        .client()
        .logs(service, instance, since, follow, new FileOutputStream(FileDescriptor.out));
    return ExitCodes.OK;
  }
}
