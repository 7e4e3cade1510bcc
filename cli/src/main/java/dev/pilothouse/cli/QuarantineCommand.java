package dev.pilothouse.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse quarantine SERVICE INSTANCE [--reason R] [--keep 1h]}. */
@Command(
    name = "quarantine",
    description =
        "Take an instance out of traffic but keep it running for analysis (a fresh instance takes"
            + " its place); it is stopped when --keep has passed.")
final class QuarantineCommand implements Callable<Integer> {
  @Mixin Common common;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Parameters(index = "1", paramLabel = "INSTANCE", description = "Its id, from 'status'.")
  String instance;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why (recorded in its event).")
  String reason = "quarantined by hand";

  @Option(
      names = "--keep",
      paramLabel = "DURATION",
      description = "How long to keep it running, up to 7d (default: 1h).")
  String keep = "1h";

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine()
        .getOut()
        .println(common.client().quarantine(service, instance, reason, keep).message());
    return ExitCodes.OK;
  }
}
