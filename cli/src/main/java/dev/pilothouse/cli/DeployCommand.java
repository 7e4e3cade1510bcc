package dev.pilothouse.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse deploy SERVICE --version V [--env K=V]... [--image IMAGE]}. */
@Command(
    name = "deploy",
    description =
        "Deploy a new version of a service (a new revision), with its strategy: rolling, or"
            + " canary or blue-green with analysis and automatic rollback.")
final class DeployCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;
  @Mixin DeployFlags deploy;

  @Parameters(index = "0", paramLabel = "SERVICE")
  String service;

  @Option(
      names = "--version",
      required = true,
      paramLabel = "V",
      description = "The version label.")
  String version;

  @Option(
      names = "--env",
      paramLabel = "K=V",
      description = "Set an environment variable (repeatable).")
  List<String> env = List.of();

  @Option(
      names = "--image",
      paramLabel = "IMAGE",
      description =
          "Run this container image (services on the kubernetes runtime), e.g."
              + " registry.example.com/shop/web:1.4.2.")
  String image = "";

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Map<String, String> vars = new LinkedHashMap<>();
    for (String kv : env) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new CliException(
            ExitCodes.USAGE,
            "--env needs KEY=VALUE, but got '" + kv + "'",
            "write e.g. --env MODE=fast");
      }
      vars.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    ApplyCommand.print(
        common
            .client()
            .deploy(
                service,
                version,
                vars,
                deploy.commit,
                deploy.commitTime,
                deploy.ignoreFreeze,
                image),
        output,
        spec.commandLine().getOut());
    return ExitCodes.OK;
  }
}
