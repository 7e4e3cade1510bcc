package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse apply -f SPEC}. */
@Command(name = "apply", description = "Store a spec as a new revision and show what changed.")
final class ApplyCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;
  @Mixin DeployFlags deploy;

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
    f.check(spec.commandLine().getErr());
    Wire.ApplyRequest plain = f.request();
    Wire.ApplyResponse r =
        common
            .client()
            .apply(
                new Wire.ApplyRequest(
                    plain.file(),
                    plain.yaml(),
                    plain.baseDir(),
                    plain.vars(),
                    deploy.commit,
                    deploy.commitTime,
                    deploy.ignoreFreeze));
    print(r, output, spec.commandLine().getOut());
    return ExitCodes.OK;
  }

  static void print(Wire.ApplyResponse r, Output output, PrintWriter out) {
    if (output.json()) {
      out.println(Output.json(r));
      return;
    }
    if (!r.changed()) {
      out.println("no changes; revision " + r.revision() + " stays current");
      return;
    }
    out.println("applied revision " + r.revision() + ":");
    r.changes().forEach(c -> out.println("  " + c));
  }
}
