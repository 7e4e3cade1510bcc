package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse incidents}, {@code incident ack|resolve|show|postmortem}, {@code oncall}. */
final class IncidentCommands {
  private IncidentCommands() {}

  /** {@code pilothouse incidents [--all] [-o json]}. */
  @Command(
      name = "incidents",
      description =
          "List open incidents (firing alerts grouped per service): state, severity, age, alerts,"
              + " who acknowledged. --all shows the last 100, resolved ones too.")
  static final class ListIncidents implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(names = "--all", description = "Also resolved incidents (the last 100).")
    boolean all;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().incidents(all);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      JsonNode list = r.path("incidents");
      if (list.isEmpty()) {
        out.println(all ? "no incidents" : "no open incidents");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("ID", "STATE", "SEVERITY", "SERVICE", "OPENED", "ALERTS", "ACK BY", "TITLE"));
      Instant now = Instant.now();
      for (JsonNode i : list) {
        long firing = 0;
        for (JsonNode a : i.path("alerts")) {
          firing += a.path("resolved_at").isNull() ? 1 : 0;
        }
        t.add(
            List.of(
                i.path("id").asText(),
                i.path("state").asText(),
                dash(i.path("severity").asText()),
                dash(i.path("service").asText()),
                Output.ago(now, i.path("opened_at").asText()),
                firing + "/" + i.path("alerts").size() + " firing",
                dash(i.path("acknowledged_by").asText("")),
                i.path("title").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse incident ack|resolve|show|postmortem ID}. */
  @Command(
      name = "incident",
      description =
          "Act on one incident: acknowledge, resolve, show, draft its postmortem; capture a"
              + " service's diagnostics into an encrypted bundle, open one.",
      subcommands = {
        Ack.class,
        Resolve.class,
        Show.class,
        PostmortemDraft.class,
        Capture.class,
        OpenBundle.class
      })
  static final class One {}

  /** {@code pilothouse incident capture SERVICE [-o FILE]}. */
  @Command(
      name = "capture",
      description =
          "Collect a service's diagnostics before anything is restarted (per instance /proc status,"
              + " open files, TCP connections, threads or a JVM thread dump, log tail; its events"
              + " and metrics) into an encrypted bundle; prints the key once.")
  static final class Capture implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FILE",
        description = "Where to write the bundle (default incident-SERVICE-TIME.bundle).")
    java.nio.file.Path output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws java.io.IOException {
      String key = dev.pilothouse.client.IncidentBundle.newKey();
      byte[] bundle = common.client().captureIncident(service, key);
      java.nio.file.Path f =
          output != null
              ? output
              : java.nio.file.Path.of(
                  "incident-"
                      + service
                      + "-"
                      + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                          .withZone(java.time.ZoneOffset.UTC)
                          .format(java.time.Instant.now())
                      + ".bundle");
      java.nio.file.Files.deleteIfExists(f);
      java.nio.file.Files.createFile(
          f,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      java.nio.file.Files.write(f, bundle);
      PrintWriter out = spec.commandLine().getOut();
      out.println("wrote " + f + " (" + bundle.length + " bytes, AES-256-GCM)");
      out.println("key (shown this once; the daemon does not keep it): " + key);
      out.println("open it with: pilothouse incident open " + f + " --key KEY");
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse incident open BUNDLE --key KEY [-o DIR]}. */
  @Command(name = "open", description = "Decrypt an incident bundle into a directory.")
  static final class OpenBundle implements Callable<Integer> {
    @Mixin Common common; // --state-dir is accepted as everywhere, and not needed

    @Parameters(index = "0", paramLabel = "BUNDLE")
    java.nio.file.Path bundle;

    @Option(
        names = "--key",
        required = true,
        paramLabel = "KEY",
        description = "The key 'incident capture' printed.")
    String key;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "DIR",
        description = "Where to put the files (default: the bundle's name without .bundle).")
    java.nio.file.Path dir;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      java.nio.file.Path to =
          dir != null
              ? dir
              : java.nio.file.Path.of(bundle.toString().replaceFirst("\\.bundle$", "") + ".d");
      try {
        if (java.nio.file.Files.size(bundle)
            > 2L * dev.pilothouse.client.IncidentBundle.MAX_OPEN_BYTES) {
          throw new CliException(ExitCodes.USAGE, bundle + " is too large to be a bundle", "");
        }
        List<java.nio.file.Path> files =
            dev.pilothouse.client.IncidentBundle.open(
                java.nio.file.Files.readAllBytes(bundle), key, to);
        spec.commandLine().getOut().println("opened " + files.size() + " files into " + to);
        return ExitCodes.OK;
      } catch (java.nio.file.NoSuchFileException e) {
        throw new CliException(ExitCodes.USAGE, bundle + " does not exist", "check the path");
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.FAILURE, e.getMessage(), "check the key and the file");
      } catch (java.io.IOException e) {
        throw new CliException(
            ExitCodes.FAILURE, "cannot open " + bundle + ": " + e.getMessage(), "");
      }
    }
  }

  abstract static class Act implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "ID", description = "The incident's id.")
    long id;

    @Option(
        names = "--by",
        paramLabel = "NAME",
        description = "Who acts (default: $USER), shown in the timeline.")
    String by;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    abstract String action();

    @Override
    public Integer call() {
      String who = by != null ? by : System.getenv().getOrDefault("USER", "cli");
      JsonNode i = common.client().incidentAction(id, action(), who);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(i));
      } else {
        out.println(
            "incident " + i.path("id").asText() + " " + i.path("state").asText() + " by " + who);
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "ack", description = "Acknowledge an incident: its escalation stops.")
  static final class Ack extends Act {
    @Override
    String action() {
      return "ack";
    }
  }

  @Command(
      name = "resolve",
      description = "Resolve an incident (alerts still firing open a new one).")
  static final class Resolve extends Act {
    @Override
    String action() {
      return "resolve";
    }
  }

  @Command(name = "show", description = "Show an incident: its alerts and timeline.")
  static final class Show implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "ID", description = "The incident's id.")
    long id;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode i = common.client().incident(id);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(i));
        return ExitCodes.OK;
      }
      out.println(
          "incident "
              + i.path("id").asText()
              + " ("
              + i.path("state").asText()
              + (i.path("severity").asText().isEmpty() ? "" : ", " + i.path("severity").asText())
              + "): "
              + i.path("title").asText());
      out.println(
          "opened "
              + i.path("opened_at").asText()
              + (i.path("escalation").asText().isEmpty()
                  ? ""
                  : ", escalation "
                      + i.path("escalation").asText()
                      + " level "
                      + i.path("escalation_level").asText()));
      out.println();
      out.println("alerts:");
      for (JsonNode a : i.path("alerts")) {
        out.println(
            "  "
                + a.path("name").asText()
                + " "
                + a.path("labels").asText()
                + (a.path("resolved_at").isNull() ? " firing" : " resolved")
                + (a.path("runbook_url").asText().isEmpty()
                    ? ""
                    : " (runbook: " + a.path("runbook_url").asText() + ")"));
      }
      out.println();
      out.println("timeline:");
      for (JsonNode e : i.path("timeline")) {
        out.println("  " + e.path("at").asText() + "  " + e.path("text").asText());
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "postmortem",
      description =
          "Write a blameless postmortem draft (Markdown): timeline, impact (failed requests, SLO"
              + " budget spent), the deploy before it, and sections to fill in.")
  static final class PostmortemDraft implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(index = "0", paramLabel = "ID", description = "The incident's id.")
    long id;

    @Option(
        names = {"-f", "--file"},
        paramLabel = "FILE",
        description = "Write it to this file instead of standard output.")
    Path file;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String md = common.client().postmortem(id);
      if (file == null) {
        spec.commandLine().getOut().print(md);
        return ExitCodes.OK;
      }
      try {
        Files.writeString(file, md);
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.FAILURE, "cannot write " + file + ": " + e.getMessage(), "check the path");
      }
      spec.commandLine().getOut().println("wrote " + file);
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse oncall [-o json]}. */
  @Command(
      name = "oncall",
      description = "Who is on call now in each schedule, until when, and who is next.")
  static final class OnCallNow implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().oncall();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      if (r.path("schedules").isEmpty()) {
        out.println("no schedules: declare them under oncall.schedules in the spec (docs/spec.md)");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("SCHEDULE", "ON CALL", "UNTIL", "NEXT"));
      for (JsonNode s : r.path("schedules")) {
        t.add(
            List.of(
                s.path("schedule").asText(),
                s.path("user").asText(),
                s.path("until").asText(),
                s.path("next").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  private static String dash(String s) {
    return s == null || s.isEmpty() || s.equals("null") ? "-" : s;
  }
}
