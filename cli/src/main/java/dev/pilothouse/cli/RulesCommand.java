package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pilothouse.spec.RuleFiles;
import dev.pilothouse.spec.SpecError;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse rules check FILE…} and {@code pilothouse rules list}. */
@Command(
    name = "rules",
    description = "Check Prometheus rule files, or list the daemon's rules and their health.",
    subcommands = {RulesCommand.Check.class, RulesCommand.ListRules.class})
final class RulesCommand {
  /** {@code pilothouse rules check FILE…}: promtool check rules' verdicts, without a daemon. */
  @Command(
      name = "check",
      description =
          "Check rule files as 'promtool check rules' does (groups, expressions, durations,"
              + " label names, templates); needs no daemon. Exit 1 when any file has a problem.")
  static final class Check implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Rule files to check.")
    List<Path> files;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      boolean failed = false;
      for (Path f : files) {
        String text;
        try {
          if (Files.size(f) > RuleFiles.MAX_BYTES) {
            err.println(f + ": the rule file is larger than 1 MiB (split it into several files)");
            failed = true;
            continue;
          }
          text = Files.readString(f);
        } catch (IOException | java.io.UncheckedIOException e) {
          err.println(f + ": cannot read it: " + e.getMessage());
          failed = true;
          continue;
        }
        RuleFiles.Parsed p =
            RuleFiles.read(
                f.toString(),
                text,
                dev.pilothouse.tsdb.promql.Parser::problem,
                Duration.ofMinutes(1));
        if (p.valid()) {
          int n = p.ruleCount();
          out.println(f + ": SUCCESS: " + n + " rule" + (n == 1 ? "" : "s") + " found");
        } else {
          failed = true;
          err.println(f + ": FAILED:");
          for (SpecError e : p.errors()) {
            err.println("  " + e);
          }
        }
      }
      return failed ? ExitCodes.FAILURE : ExitCodes.OK;
    }
  }

  /** {@code pilothouse rules list [-o json]}. */
  @Command(name = "list", description = "List the daemon's rule groups, rules and their health.")
  static final class ListRules implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode data = common.client().rules();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(data));
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("GROUP", "RULE", "TYPE", "STATE", "HEALTH", "LAST ERROR"));
      for (JsonNode g : data.path("groups")) {
        for (JsonNode r : g.path("rules")) {
          t.add(
              List.of(
                  g.path("file").asText() + ":" + g.path("name").asText(),
                  r.path("name").asText(),
                  r.path("type").asText(),
                  r.path("state").asText("-"),
                  r.path("health").asText(),
                  r.path("lastError").asText("")));
        }
      }
      if (t.size() == 1) {
        out.println("no rules (declare them under 'alerting: {ruleFiles: […]}' in the spec)");
        return ExitCodes.OK;
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }
}
