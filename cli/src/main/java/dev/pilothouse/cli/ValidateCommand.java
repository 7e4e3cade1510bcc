package dev.pilothouse.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse validate -f SPEC}. */
@Command(
    name = "validate",
    description = "Check a spec file and report every problem; needs no daemon.")
final class ValidateCommand implements Callable<Integer> {
  @Mixin Common common;

  @Option(
      names = {"-f", "--file"},
      required = true,
      paramLabel = "SPEC",
      description = "The spec file.")
  Path file;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    SpecFile f = SpecFile.read(file);
    var parsed = f.check(spec.commandLine().getErr());
    int n = parsed.serviceCount();
    spec.commandLine()
        .getOut()
        .println(f.displayName() + " is valid: " + n + " service" + (n == 1 ? "" : "s"));
    return ExitCodes.OK;
  }
}
