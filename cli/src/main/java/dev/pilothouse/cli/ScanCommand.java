package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code pilothouse scan [SERVICE] [-o table|json|sarif|cyclonedx] [--fail-on SEVERITY]} and {@code
 * pilothouse scan --update FROM}: known vulnerabilities in what runs, from an offline OSV database.
 */
@Command(
    name = "scan",
    description =
        "Find known vulnerabilities (offline OSV database) in the services' jars and the host's"
            + " Debian packages; --update imports OSV records from a directory or zip.")
final class ScanCommand implements Callable<Integer> {
  @Mixin Common common;

  enum Format {
    table,
    json,
    sarif,
    cyclonedx
  }

  @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE", description = "One service.")
  String service;

  @Option(
      names = "--update",
      paramLabel = "FROM",
      description = "Import OSV records from this directory or zip (e.g. osv.dev's Maven/all.zip).")
  Path update;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      defaultValue = "table",
      description = "table (default), json, sarif or cyclonedx (an SBOM with its vulnerabilities).")
  Format format;

  @Option(
      names = "--fail-on",
      paramLabel = "SEVERITY",
      description = "Exit 1 when a finding is at least critical, high, medium or low.")
  String failOn;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  static final List<String> SEVERITIES = List.of("critical", "high", "medium", "low");

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (failOn != null && !SEVERITIES.contains(failOn)) {
      throw new CliException(
          ExitCodes.USAGE,
          "--fail-on: unknown severity '" + failOn + "'",
          "critical, high, medium or low");
    }
    if (update != null) {
      JsonNode r = common.client().updateScanDatabase(update.toAbsolutePath().toString());
      out.println(
          "imported "
              + r.path("imported").asInt()
              + " OSV records "
              + r.path("byEcosystem")
              + " ("
              + r.path("skipped").asInt()
              + " files skipped); the database holds "
              + r.path("records").asInt());
      return ExitCodes.OK;
    }
    if (format == Format.cyclonedx) {
      out.println(Output.json(common.client().scan(service, true)));
      return ExitCodes.OK;
    }
    JsonNode r = common.client().scan(service, false);
    switch (format) {
      case json -> out.println(Output.json(r));
      case sarif -> out.println(Output.json(sarif(r)));
      default -> table(r, out);
    }
    if (failOn != null) {
      for (JsonNode t : r.path("targets")) {
        for (JsonNode f : t.path("findings")) {
          int s = SEVERITIES.indexOf(f.path("severity").asText());
          if (s >= 0 && s <= SEVERITIES.indexOf(failOn)) {
            return ExitCodes.FAILURE;
          }
        }
      }
    }
    return ExitCodes.OK;
  }

  private static void table(JsonNode r, PrintWriter out) {
    if (r.path("database").path("records").asInt() == 0) {
      out.println(
          "the vulnerability database is empty: import OSV records with 'pilothouse scan --update"
              + " FROM' (a directory or zip, such as osv.dev's Maven/all.zip)");
    }
    List<List<String>> t = new ArrayList<>();
    t.add(List.of("TARGET", "SEVERITY", "ID", "PACKAGE", "VERSION", "FIXED IN", "SUMMARY"));
    int total = 0;
    for (JsonNode target : r.path("targets")) {
      for (JsonNode f : target.path("findings")) {
        total++;
        t.add(
            List.of(
                target.path("target").asText(),
                f.path("severity").asText(),
                f.path("id").asText(),
                f.path("package").asText(),
                f.path("version").asText(),
                f.path("fixed").isNull() || f.path("fixed").asText().isEmpty()
                    ? "-"
                    : f.path("fixed").asText(),
                f.path("summary").asText()));
      }
    }
    if (total > 0) {
      out.print(Output.table(t));
    }
    for (JsonNode target : r.path("targets")) {
      out.println(
          target.path("target").asText()
              + ": "
              + target.path("components").asInt()
              + " components, "
              + target.path("findings").size()
              + " known vulnerabilities");
    }
  }

  static JsonNode sarif(JsonNode r) {
    Sarif log = new Sarif("pilothouse-scan");
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (JsonNode target : r.path("targets")) {
      for (JsonNode f : target.path("findings")) {
        String id = f.path("id").asText();
        if (seen.add(id)) {
          log.rule(id, f.path("summary").asText(), score(f.path("severity").asText()));
        }
        log.result(
                id,
                f.path("severity").asText().matches("critical|high") ? "error" : "warning",
                f.path("package").asText()
                    + " "
                    + f.path("version").asText()
                    + " in "
                    + target.path("target").asText()
                    + (f.path("fixed").asText("").isEmpty()
                        ? ""
                        : ": fixed in " + f.path("fixed").asText()))
            .putArray("locations")
            .addObject()
            .putObject("physicalLocation")
            .putObject("artifactLocation")
            .put("uri", f.path("source").asText());
      }
    }
    return log.root;
  }

  private static String score(String severity) {
    return switch (severity) {
      case "critical" -> "9.5";
      case "high" -> "8.0";
      case "medium" -> "5.0";
      case "low" -> "2.0";
      default -> "0.0";
    };
  }
}
