package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pilothouse audit host [--profile P] [-o table|json|sarif|html|junit] [--fix [--dry-run]]}:
 * the daemon's host against CIS-mapped rules; exit code 1 when a rule fails.
 */
@Command(
    name = "host",
    description =
        "Audit this host against CIS Debian 12 rules (and Pilothouse's own setup): findings with"
            + " evidence and fixes, a hardening score; --fix applies the safe fixes with backups."
            + " Exits 1 when a rule fails.")
final class HostAuditCommand implements Callable<Integer> {
  @Mixin Common common;

  enum Format {
    table,
    json,
    sarif,
    html,
    junit
  }

  @Option(
      names = "--profile",
      paramLabel = "PROFILE",
      defaultValue = "cis-debian12-l1",
      description = "cis-debian12-l1 (default) or cis-debian12-l2 (level 1 and 2 rules).")
  String profile;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      defaultValue = "table",
      description = "table (default), json, sarif, html or junit.")
  Format format;

  @Option(
      names = "--fix",
      description =
          "Apply the automatic fixes of failed rules (a backup of every file changed), then"
              + " check again; needs an admin token.")
  boolean fix;

  @Option(names = "--dry-run", description = "With --fix: print the fixes, change nothing.")
  boolean dryRun;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (dryRun && !fix) {
      throw new CliException(ExitCodes.USAGE, "--dry-run goes with --fix", "add --fix");
    }
    PrintWriter out = spec.commandLine().getOut();
    JsonNode report;
    if (fix) {
      JsonNode r = common.client().fixHost(profile, dryRun);
      report = r.path("after");
      if (format == Format.json) {
        out.println(Output.json(r));
        return exit(report);
      }
      if (format == Format.table) {
        printFix(r, out);
        return exit(report);
      }
    } else {
      report = common.client().auditHost(profile);
    }
    switch (format) {
      case json -> out.println(Output.json(report));
      case sarif -> out.println(Output.json(sarif(report)));
      case html -> out.print(html(report));
      case junit -> out.print(junit(report));
      default -> printTable(report, out);
    }
    return exit(report);
  }

  private static int exit(JsonNode report) {
    return report.path("counts").path("fail").asInt() > 0 ? ExitCodes.FAILURE : ExitCodes.OK;
  }

  static void printTable(JsonNode r, PrintWriter out) {
    List<List<String>> t = new ArrayList<>();
    t.add(List.of("STATUS", "ID", "CIS", "LEVEL", "AREA", "TITLE", "EVIDENCE"));
    for (JsonNode f : r.path("findings")) {
      t.add(
          List.of(
              f.path("status").asText().toUpperCase(java.util.Locale.ROOT),
              f.path("id").asText(),
              f.path("cis").asText(),
              f.path("level").asText(),
              f.path("area").asText(),
              f.path("title").asText(),
              f.path("evidence").asText()));
    }
    out.print(Output.table(t));
    JsonNode c = r.path("counts");
    out.printf(
        "%nhardening score %d/100 (%s): %d passed, %d failed, %d skipped, %d errors%n",
        r.path("score").asInt(),
        r.path("profile").asText(),
        c.path("pass").asInt(),
        c.path("fail").asInt(),
        c.path("skip").asInt(),
        c.path("error").asInt());
    for (JsonNode f : r.path("findings")) {
      if (f.path("status").asText().equals("fail")) {
        out.println(
            "  fix "
                + f.path("id").asText()
                + ": "
                + f.path("fix").asText()
                + (f.path("fixable").asBoolean() ? "   [--fix]" : ""));
      }
    }
  }

  private static void printFix(JsonNode r, PrintWriter out) {
    boolean dry = r.path("dryRun").asBoolean();
    JsonNode changes = r.path("changes");
    if (changes.isEmpty()) {
      out.println("nothing to fix automatically");
    }
    for (JsonNode c : changes) {
      out.println(
          (dry ? "would " : "")
              + c.path("action").asText()
              + "  "
              + c.path("file").asText()
              + "  ("
              + c.path("id").asText()
              + (c.path("backup").isNull() || c.path("backup").isMissingNode()
                  ? ""
                  : ", backup " + c.path("backup").asText())
              + ")");
    }
    if (!dry) {
      List<String> now = new ArrayList<>();
      r.path("nowPassing").forEach(x -> now.add(x.asText()));
      out.printf(
          "%nscore %d -> %d; now passing: %s%n",
          r.path("before").path("score").asInt(),
          r.path("after").path("score").asInt(),
          now.isEmpty() ? "none" : String.join(", ", now));
      int left = r.path("after").path("counts").path("fail").asInt();
      if (left > 0) {
        out.println(left + " rules still fail: they need a person ('pilothouse audit host')");
      }
    }
  }

  /** SARIF 2.1.0: one rule per audit rule, one result per failed finding. */
  static JsonNode sarif(JsonNode r) {
    Sarif log = new Sarif("pilothouse-audit-host");
    for (JsonNode f : r.path("findings")) {
      ObjectNode rule =
          log.rule(
              f.path("id").asText(), f.path("title").asText(), severity(f.path("impact").asText()));
      rule.put("name", f.path("id").asText());
      rule.putObject("fullDescription").put("text", f.path("rationale").asText());
      rule.putObject("help").put("text", f.path("fix").asText());
      ObjectNode props = (ObjectNode) rule.path("properties");
      props.put("cis", f.path("cis").asText());
      props.put("level", f.path("level").asInt());
      props.put("area", f.path("area").asText());
      if (f.path("status").asText().equals("fail")) {
        log.result(
            f.path("id").asText(),
            f.path("impact").asText().equals("high") ? "error" : "warning",
            f.path("title").asText() + ": " + f.path("evidence").asText());
      }
    }
    return log.root;
  }

  private static String severity(String impact) {
    return switch (impact) {
      case "high" -> "8.0";
      case "medium" -> "5.0";
      default -> "2.0";
    };
  }

  static String junit(JsonNode r) {
    JsonNode c = r.path("counts");
    StringBuilder b = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    b.append("<testsuites>\n  <testsuite name=\"pilothouse audit host ")
        .append(xml(r.path("profile").asText()))
        .append("\" tests=\"")
        .append(r.path("findings").size())
        .append("\" failures=\"")
        .append(c.path("fail").asInt())
        .append("\" errors=\"")
        .append(c.path("error").asInt())
        .append("\" skipped=\"")
        .append(c.path("skip").asInt())
        .append("\" timestamp=\"")
        .append(xml(r.path("at").asText()))
        .append("\">\n");
    for (JsonNode f : r.path("findings")) {
      b.append("    <testcase classname=\"")
          .append(xml(f.path("area").asText()))
          .append("\" name=\"")
          .append(xml(f.path("id").asText() + " " + f.path("title").asText()))
          .append("\"");
      String s = f.path("status").asText();
      String ev = xml(f.path("evidence").asText());
      switch (s) {
        case "fail" ->
            b.append(">\n      <failure message=\"")
                .append(ev)
                .append("\">")
                .append(xml("fix: " + f.path("fix").asText()))
                .append("</failure>\n    </testcase>\n");
        case "error" ->
            b.append(">\n      <error message=\"").append(ev).append("\"/>\n    </testcase>\n");
        case "skip" ->
            b.append(">\n      <skipped message=\"").append(ev).append("\"/>\n    </testcase>\n");
        default -> b.append("/>\n");
      }
    }
    return b.append("  </testsuite>\n</testsuites>\n").toString();
  }

  static String html(JsonNode r) {
    StringBuilder b =
        new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    b.append("<title>Host audit ").append(xml(r.path("profile").asText())).append("</title>");
    b.append(
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            + "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
            + ".fail{background:#fdd}.pass{background:#dfd}.skip{background:#eee}"
            + ".error{background:#fd9}</style></head><body>\n");
    JsonNode c = r.path("counts");
    b.append("<h1>Host audit: ")
        .append(xml(r.path("profile").asText()))
        .append("</h1>\n<p>Hardening score <strong>")
        .append(r.path("score").asInt())
        .append("/100</strong> — ")
        .append(c.path("pass").asInt())
        .append(" passed, ")
        .append(c.path("fail").asInt())
        .append(" failed, ")
        .append(c.path("skip").asInt())
        .append(" skipped, ")
        .append(c.path("error").asInt())
        .append(" errors; ")
        .append(xml(r.path("at").asText()))
        .append("</p>\n<table>\n<tr><th>Status</th><th>ID</th><th>CIS</th><th>Level</th>")
        .append("<th>Area</th><th>Title</th><th>Evidence</th><th>Fix</th></tr>\n");
    for (JsonNode f : r.path("findings")) {
      String s = f.path("status").asText();
      b.append("<tr class=\"")
          .append(xml(s))
          .append("\"><td>")
          .append(xml(s))
          .append("</td><td>")
          .append(xml(f.path("id").asText()))
          .append("</td><td>")
          .append(xml(f.path("cis").asText()))
          .append("</td><td>")
          .append(f.path("level").asInt())
          .append("</td><td>")
          .append(xml(f.path("area").asText()))
          .append("</td><td>")
          .append(xml(f.path("title").asText()))
          .append("</td><td>")
          .append(xml(f.path("evidence").asText()))
          .append("</td><td>")
          .append(xml(f.path("fix").asText()))
          .append("</td></tr>\n");
    }
    return b.append("</table>\n</body></html>\n").toString();
  }

  static String xml(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;")
        .replace("'", "&#39;");
  }
}
