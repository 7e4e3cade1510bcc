package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse chaos run|list|report|abort} (docs/chaos.md). */
final class ChaosCommands {
  private ChaosCommands() {}

  @Command(
      name = "chaos",
      description =
          "Chaos experiments that prove recovery: run an experiment file, list runs, show a"
              + " run's report, abort a run; the kill switch, game days and the monkey.",
      subcommands = {
        Run.class,
        ListCmd.class,
        Report.class,
        Abort.class,
        Disable.class,
        Enable.class,
        StatusCmd.class
      })
  static final class Group extends GroupCommand {}

  @Command(
      name = "run",
      description =
          "Run an experiment (chaos/*.yaml) and follow it live: steady state, faults, probes,"
              + " rollback, recovery. Exit 0 when it passed (or a dry run), 1 when it failed, was"
              + " aborted or the steady state did not hold before.")
  static final class Run implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(paramLabel = "FILE", description = "The experiment file.")
    Path file;

    @Option(names = "--dry-run", description = "Show what would be hit and the probes' values now.")
    boolean dryRun;

    @Option(names = "--detach", description = "Start the run and return its id at once.")
    boolean detach;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      PrintWriter out = spec.commandLine().getOut();
      String text = SpecFile.text(file, "experiment file", "check the path");
      Path cwd = Path.of("").toAbsolutePath();
      Path abs = file.toAbsolutePath().normalize();
      String name = abs.startsWith(cwd) ? cwd.relativize(abs).toString() : abs.toString();
      JsonNode run = common.client().chaosStart(name, text, dryRun);
      String id = run.path("id").asText();
      if (detach) {
        out.println(output.json() ? Output.json(run) : id);
        out.flush();
        return ExitCodes.OK;
      }
      if (!output.json()) {
        out.println(
            "chaos run "
                + id
                + " of "
                + run.path("experiment").asText()
                + " on "
                + run.path("service").asText()
                + (dryRun ? " (dry run)" : "")
                + "; 'pilothouse chaos abort "
                + id
                + "' stops it");
        out.flush();
      }
      int shown = 0;
      int samples = 0;
      while (true) {
        run = common.client().chaosRun(id);
        if (!output.json()) {
          JsonNode t = run.path("timeline");
          for (; shown < t.size(); shown++) {
            out.println(
                clock(t.get(shown).path("at").asText())
                    + "  "
                    + t.get(shown).path("what").asText());
          }
          JsonNode s = run.path("samples");
          for (; samples < s.size(); samples++) {
            JsonNode x = s.get(samples);
            if (!x.path("ok").asBoolean() && !x.path("phase").asText().equals("BEFORE")) {
              out.println(
                  clock(x.path("at").asText())
                      + "  probe "
                      + x.path("probe").asText()
                      + " out of tolerance ("
                      + x.path("phase").asText().toLowerCase(Locale.ROOT)
                      + "): "
                      + value(x));
            }
          }
          out.flush();
        }
        if (run.path("state").asText().equals("DONE")) {
          break;
        }
        Thread.sleep(500);
      }
      JsonNode o = run.path("outcome");
      if (output.json()) {
        out.println(Output.json(run));
      } else {
        out.println(summary(o));
      }
      out.flush();
      String verdict = o.path("verdict").asText();
      return verdict.equals("passed") || verdict.equals("dry-run")
          ? ExitCodes.OK
          : ExitCodes.FAILURE;
    }
  }

  static String summary(JsonNode o) {
    String verdict =
        "verdict: "
            + o.path("verdict").asText()
            + (o.path("reason").asText().isEmpty() ? "" : " — " + o.path("reason").asText());
    if (List.of("dry-run", "not-run").contains(o.path("verdict").asText())) {
      return verdict;
    }
    return verdict
        + "\nresilience score: "
        + o.path("score").asText()
        + " / 100, recovery: "
        + (o.path("recoverySeconds").isNull() || o.path("recoverySeconds").isMissingNode()
            ? "not recovered"
            : o.path("recoverySeconds").asText() + " s");
  }

  private static String value(JsonNode sample) {
    JsonNode v = sample.path("value");
    String note = sample.path("note").asText();
    return v.isNumber() ? v.asText() : note.isEmpty() ? "no value" : note;
  }

  private static String clock(String instant) {
    int t = instant.indexOf('T');
    return t < 0 || instant.length() < t + 9 ? instant : instant.substring(t + 1, t + 9);
  }

  @Command(
      name = "list",
      description = "The runs kept, newest first; one experiment's side by side to compare.")
  static final class ListCmd implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(
        names = "--experiment",
        paramLabel = "NAME",
        description = "Only this experiment's runs.")
    String experiment;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode r = common.client().chaosRuns(experiment);
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      rows.add(
          List.of(
              "ID", "EXPERIMENT", "SERVICE", "STATE", "VERDICT", "SCORE", "RECOVERY", "STARTED"));
      for (JsonNode x : r.path("runs")) {
        rows.add(
            List.of(
                x.path("id").asText(),
                x.path("experiment").asText(),
                x.path("service").asText(),
                x.path("state").asText(),
                x.path("verdict").isNull() ? "-" : x.path("verdict").asText(),
                x.path("score").isNull() ? "-" : x.path("score").asText(),
                x.path("recoverySeconds").isNull()
                    ? "-"
                    : x.path("recoverySeconds").asText() + " s",
                x.path("startedAt").asText()));
      }
      if (rows.size() == 1) {
        out.println("no chaos runs yet: 'pilothouse chaos run FILE' starts one");
      } else {
        out.print(Output.table(rows));
      }
      return ExitCodes.OK;
    }
  }

  /** Report formats. */
  enum Format {
    md,
    json
  }

  @Command(
      name = "report",
      description =
          "A run's report: verdict, resilience score, recovery time, each probe against its"
              + " tolerance, the faults and their rollback, the timeline and the events it caused.")
  static final class Report implements Callable<Integer> {
    @Mixin Common common;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        description = "md (default) or json.",
        defaultValue = "md")
    Format format = Format.md;

    @Parameters(paramLabel = "ID", description = "The run's id ('chaos list').")
    String id;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      if (format == Format.json) {
        out.println(Output.json(common.client().chaosRun(id)));
      } else {
        out.print(common.client().chaosReport(id));
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "abort", description = "Stop a run; its faults are rolled back at once.")
  static final class Abort implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(paramLabel = "ID", description = "The run's id ('chaos list').")
    String id;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      common.client().chaosAbort(id);
      spec.commandLine()
          .getOut()
          .println("asked run " + id + " to stop; its faults are being rolled back");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "disable",
      description =
          "The kill switch: abort every run under way (rolling it back), stop game days and the"
              + " monkey, refuse new runs — until 'chaos enable', across restarts.")
  static final class Disable implements Callable<Integer> {
    @Mixin Common common;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (kept and shown).")
    String reason;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      common.client().chaosDisable(reason);
      spec.commandLine()
          .getOut()
          .println("chaos disabled: nothing runs until 'pilothouse chaos enable'");
      return ExitCodes.OK;
    }
  }

  @Command(name = "enable", description = "Lift the kill switch.")
  static final class Enable implements Callable<Integer> {
    @Mixin Common common;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      common.client().chaosEnable();
      spec.commandLine().getOut().println("chaos enabled");
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "status",
      description =
          "The kill switch, the allowed hours, game days and when they run next, the monkey.")
  static final class StatusCmd implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode s = common.client().chaosStatus();
      if (output.json()) {
        out.println(Output.json(s));
        return ExitCodes.OK;
      }
      JsonNode halt = s.path("halt");
      out.println(
          "chaos: "
              + (!halt.isNull() && !halt.isMissingNode()
                  ? "DISABLED since "
                      + halt.path("at").asText()
                      + " ("
                      + halt.path("reason").asText()
                      + ")"
                  : !s.path("specEnabled").asBoolean() ? "disabled by the spec" : "enabled"));
      JsonNode h = s.path("allowedHours");
      out.println(
          "allowed hours: "
              + String.join(
                  ",",
                  java.util.stream.StreamSupport.stream(h.path("days").spliterator(), false)
                      .map(d -> d.asText().substring(0, 3).toLowerCase(Locale.ROOT))
                      .toList())
              + " "
              + hhmm(h.path("from").asText())
              + "–"
              + hhmm(h.path("to").asText())
              + " "
              + h.path("timezone").asText()
              + (s.path("allowedNow").asBoolean() ? " (now: yes)" : " (now: no)")
              + ", min error budget "
              + s.path("minErrorBudget").asText());
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("GAME DAY", "SCHEDULE", "NEXT"));
      for (JsonNode g : s.path("gameDays")) {
        rows.add(
            List.of(
                g.path("experiment").asText(),
                g.path("schedule").asText(),
                g.path("next").asText("-")));
      }
      if (rows.size() > 1) {
        out.print(Output.table(rows));
      }
      rows = new ArrayList<>();
      rows.add(List.of("MONKEY", "MEAN TIME BETWEEN KILLS", "MAX CONCURRENT", "LAST KILL"));
      for (JsonNode m : s.path("monkey")) {
        rows.add(
            List.of(
                m.path("service").asText(),
                m.path("meanTimeBetweenKillsSeconds").asLong() / 60 + " min",
                m.path("maxConcurrent").asText(),
                m.path("lastKill").isNull() ? "-" : m.path("lastKill").asText()));
      }
      if (rows.size() > 1) {
        out.print(Output.table(rows));
      }
      out.println(
          "runs under way: "
              + (s.path("running").isEmpty() ? "none" : s.path("running").toString()));
      return ExitCodes.OK;
    }
  }

  private static String hhmm(String time) {
    return time.length() >= 5 ? time.substring(0, 5) : time;
  }
}
