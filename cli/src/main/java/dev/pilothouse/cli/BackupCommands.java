package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse backup run|list|verify|prune} and {@code pilothouse restore}. */
final class BackupCommands {
  private BackupCommands() {}

  @Command(
      name = "backup",
      description =
          "Back up services into their repositories (deduplicated, compressed, encrypted), list"
              + " snapshots, verify repositories and apply retention. See docs/backup.md.",
      subcommands = {Run.class, ListSnapshots.class, Verify.class, Prune.class})
  static final class Group extends GroupCommand {}

  @Command(
      name = "run",
      description =
          "Back up a service now (its hooks around it); shows progress on a terminal and prints"
              + " the snapshot id.")
  static final class Run implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Bar bar = new Bar(spec.commandLine().getErr());
      JsonNode s = common.client().backup(service, p -> bar.show(p, p.path("bytesRead").asLong()));
      bar.done();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(s));
      } else {
        out.println(
            "snapshot "
                + s.path("shortId").asText()
                + " of "
                + service
                + ": "
                + s.path("files").asLong()
                + " files, "
                + bytes(s.path("bytes").asLong())
                + " ("
                + bytes(s.path("bytesAdded").asLong())
                + " new) in "
                + seconds(s.path("durationMs").asLong()));
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "list",
      description =
          "List snapshots (of one service, or all): id, service, time, files, size, data added,"
              + " and the replicas holding a copy.")
  static final class ListSnapshots implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE")
    String service;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().backups(service);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("ID", "SERVICE", "TIME", "FILES", "SIZE", "ADDED", "TAGS", "COPIES"));
      for (JsonNode s : r.path("snapshots")) {
        List<String> tags = new ArrayList<>();
        s.path("tags").forEach(x -> tags.add(x.asText()));
        List<String> copies = new ArrayList<>();
        copies.add(s.path("repository").asText());
        s.path("copies").forEach(x -> copies.add(x.asText()));
        t.add(
            List.of(
                s.path("shortId").asText(),
                s.path("service").asText(),
                s.path("time").asText(),
                Long.toString(s.path("files").asLong()),
                bytes(s.path("bytes").asLong()),
                bytes(s.path("bytesAdded").asLong()),
                String.join(",", tags),
                String.join(",", copies)));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "verify",
      description =
          "Check repositories: every snapshot's trees and blobs indexed, every pack present;"
              + " with --read-data every pack read and every blob decrypted and hashed. Exit 1"
              + " when anything is wrong, naming it.")
  static final class Verify implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(names = "--repository", description = "Only this repository.")
    String repository;

    @Option(names = "--read-data", description = "Read every pack.")
    boolean readData;

    @Option(
        names = "--read-data-subset",
        paramLabel = "PERCENT",
        description = "Read this share of the packs, chosen at random, e.g. 10%%.")
    String subset;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      double share = readData ? 1 : 0;
      if (subset != null) {
        String n = subset.endsWith("%") ? subset.substring(0, subset.length() - 1) : subset;
        try {
          share = Double.parseDouble(n) / 100;
        } catch (NumberFormatException e) {
          share = -1;
        }
        if (!(share > 0 && share <= 1)) {
          throw new CliException(
              ExitCodes.USAGE,
              "--read-data-subset must be a percentage above 0 and at most 100, not '"
                  + subset
                  + "'",
              "write e.g. --read-data-subset 10%");
        }
      }
      JsonNode r = common.client().verifyBackups(repository, share);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
      } else {
        r.path("repositories")
            .properties()
            .forEach(
                e -> {
                  JsonNode v = e.getValue();
                  out.println(
                      e.getKey()
                          + ": "
                          + (v.path("ok").asBoolean()
                              ? "ok"
                              : v.path("errors").size() + " problem(s)")
                          + " ("
                          + v.path("snapshots").asInt()
                          + " snapshots, "
                          + v.path("packs").asInt()
                          + " packs, "
                          + v.path("packsRead").asInt()
                          + " read, "
                          + (v.path("walRead").asInt() > 0
                              ? v.path("walRead").asInt() + " WAL files read, "
                              : "")
                          + bytes(v.path("bytesRead").asLong())
                          + ")");
                  v.path("errors").forEach(x -> out.println("  " + x.asText()));
                });
      }
      return r.path("ok").asBoolean() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  @Command(
      name = "prune",
      description =
          "Forget the snapshots each service's retention policy does not keep, then remove the"
              + " data no snapshot uses (memory bounded whatever the repository's size).")
  static final class Prune implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SERVICE")
    String service;

    @Option(names = "--dry-run", description = "Say what would go; change nothing.")
    boolean dryRun;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().pruneBackups(service, dryRun);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      String verb = dryRun ? "would forget" : "forgot";
      out.println(verb + " " + r.path("forgotten").size() + " snapshot(s)");
      for (JsonNode s : r.path("forgotten")) {
        out.println(
            "  "
                + s.path("shortId").asText()
                + " "
                + s.path("service").asText()
                + " "
                + s.path("time").asText());
      }
      r.path("repositories")
          .properties()
          .forEach(
              e -> {
                JsonNode v = e.getValue();
                out.println(
                    e.getKey()
                        + ": "
                        + (dryRun ? "would free " : "freed ")
                        + bytes(v.path("bytesFreed").asLong())
                        + " of "
                        + bytes(v.path("bytesBefore").asLong())
                        + " ("
                        + v.path("packsDeleted").asInt()
                        + " packs deleted, "
                        + v.path("packsRepacked").asInt()
                        + " repacked, "
                        + v.path("orphanPacks").asInt()
                        + " left by interrupted runs)");
              });
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "restore",
      description =
          "Restore a snapshot of a service: into its own paths (the service stopped and started"
              + " around it, after a safety snapshot of what is there), or into --target.")
  static final class Restore implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Option(
        names = "--snapshot",
        paramLabel = "ID",
        description =
            "A snapshot id (at least 4 hex digits) or 'latest' (the default). For PostgreSQL: the"
                + " base backup to start from (default: the newest before the target).")
    String snapshot;

    @Option(
        names = "--time",
        paramLabel = "TIME",
        description =
            "PostgreSQL: recover to this time (ISO 8601 with offset, e.g. 2026-11-30T07:10:00Z):"
                + " transactions committed by then are kept, later ones are not.")
    String time;

    @Option(
        names = "--lsn",
        paramLabel = "LSN",
        description = "PostgreSQL: recover to this WAL position (e.g. 0/3000060).")
    String lsn;

    @Option(
        names = "--name",
        paramLabel = "NAME",
        description =
            "PostgreSQL: recover to this restore point (made with SELECT"
                + " pg_create_restore_point('NAME')).")
    String name;

    @Option(
        names = "--timeline",
        paramLabel = "N",
        description = "PostgreSQL: follow this timeline (default: the newest in the archive).")
    Integer timeline;

    @Option(
        names = "--target",
        paramLabel = "DIR",
        description = "Restore under this directory instead, leaving the service alone.")
    java.nio.file.Path target;

    @Option(
        names = "--from",
        paramLabel = "REPOSITORY",
        description =
            "Restore from this replica of the service's repository (a failover when the primary"
                + " is lost; see docs/runbooks/failover.md).")
    String from;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Bar bar = new Bar(spec.commandLine().getErr());
      java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
      body.put("snapshot", snapshot);
      if (target != null) {
        body.put("target", target.toAbsolutePath().normalize().toString());
      }
      body.put("from", from);
      body.put("time", time);
      body.put("lsn", lsn);
      body.put("name", name);
      body.put("timeline", timeline);
      body.values().removeIf(java.util.Objects::isNull);
      JsonNode r =
          common.client().restore(service, body, p -> bar.show(p, p.path("bytes").asLong()));
      bar.done();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      out.println(
          "restored snapshot "
              + r.path("snapshot").path("shortId").asText()
              + " of "
              + service
              + ": "
              + r.path("files").asLong()
              + " files, "
              + bytes(r.path("bytes").asLong())
              + " in "
              + seconds(r.path("durationMs").asLong()));
      r.path("paths").forEach(p -> out.println("  " + p.asText()));
      if (!r.path("safetySnapshot").isNull() && !r.path("safetySnapshot").asText().isEmpty()) {
        out.println("what was there before is in snapshot " + r.path("safetySnapshot").asText());
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "drill",
      description =
          "Disaster-recovery drill: restore the service's latest snapshot into a sandbox, start"
              + " an instance there on a port of its own, wait for its readiness check; prints the"
              + " measured recovery time (RTO) and the achieved recovery point (RPO). The service"
              + " itself is not touched. Exit 1 when the drill fails or misses an objective.")
  static final class DrillCommand implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode d = common.client().drill(service);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(d));
      } else if (d.path("ok").asBoolean()) {
        out.println(
            "drill of "
                + service
                + ": recovered from snapshot "
                + d.path("snapshot").asText()
                + " in "
                + seconds(d.path("rtoMs").asLong())
                + " ("
                + d.path("files").asLong()
                + " files, "
                + bytes(d.path("bytes").asLong())
                + ")");
        out.println(
            "RTO "
                + seconds(d.path("rtoMs").asLong())
                + objective(d.path("rtoObjectiveMs"), 1000, d.path("rtoMet").asBoolean())
                + ", RPO "
                + d.path("rpoSeconds").asLong()
                + " s"
                + objective(d.path("rpoObjectiveSeconds"), 1, d.path("rpoMet").asBoolean()));
      } else {
        out.println(d.path("message").asText());
      }
      boolean ok =
          d.path("ok").asBoolean() && d.path("rtoMet").asBoolean() && d.path("rpoMet").asBoolean();
      return ok ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  private static String objective(JsonNode limit, long perSecond, boolean met) {
    if (limit.isNull() || limit.isMissingNode()) {
      return "";
    }
    return " (objective " + limit.asLong() / perSecond + " s: " + (met ? "met" : "MISSED") + ")";
  }

  @Command(
      name = "dr",
      description =
          "Disaster recovery: 'dr status' shows each backed-up service against its objectives.",
      subcommands = {DrStatus.class})
  static final class Dr extends GroupCommand {}

  @Command(
      name = "status",
      description =
          "Each service with backups: its newest snapshot's age against the RPO, its last drill's"
              + " measured RTO against the RTO. Exit 1 when an objective is missed.")
  static final class DrStatus implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().drStatus();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
      } else {
        List<List<String>> t = new ArrayList<>();
        t.add(
            List.of(
                "SERVICE", "NEWEST", "RPO NOW", "RPO GOAL", "LAST DRILL", "RTO", "RTO GOAL", "OK"));
        for (JsonNode s : r.path("services")) {
          JsonNode d = s.path("lastDrill");
          t.add(
              List.of(
                  s.path("service").asText(),
                  s.path("newestSnapshot").asText("-"),
                  s.path("rpoNowSeconds").isNull() ? "-" : s.path("rpoNowSeconds").asLong() + " s",
                  s.path("rpoObjectiveSeconds").isNull()
                      ? "-"
                      : s.path("rpoObjectiveSeconds").asLong() + " s",
                  d.isNull()
                      ? "never"
                      : d.path("at").asText() + (d.path("ok").asBoolean() ? "" : " FAILED"),
                  d.isNull() || d.path("rtoMs").asLong() < 0
                      ? "-"
                      : seconds(d.path("rtoMs").asLong()),
                  s.path("rtoObjectiveMs").isNull()
                      ? "-"
                      : seconds(s.path("rtoObjectiveMs").asLong()),
                  s.path("ok").asBoolean() ? "yes" : "NO"));
        }
        out.print(Output.table(t));
      }
      return r.path("ok").asBoolean() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  /** A progress line on a terminal's stderr: bytes, rate, files. Nothing when not a terminal. */
  static final class Bar {
    private final PrintWriter err;
    private final boolean tty = System.console() != null;
    private boolean shown;

    Bar(PrintWriter err) {
      this.err = err;
    }

    void show(JsonNode p, long bytes) {
      if (!tty) {
        return;
      }
      double secs = Math.max(0.001, p.path("elapsedMs").asLong() / 1000.0);
      long total = p.path("bytes").asLong();
      String pct =
          total > 0 && bytes <= total
              ? String.format(Locale.ROOT, " %3d%%", bytes * 100 / total)
              : "";
      err.print(
          String.format(
              Locale.ROOT,
              "\r%s%s  %s  %.1f MB/s  %d files   ",
              bar(bytes, total),
              pct,
              bytes(bytes),
              bytes / 1e6 / secs,
              p.path("files").asLong()));
      err.flush();
      shown = true;
    }

    private static String bar(long done, long total) {
      return total > 0 ? Progress.meter(done, total, 24) : Progress.meter(0, 1, 24);
    }

    void done() {
      if (shown) {
        err.println();
        err.flush();
      }
    }
  }

  static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static String seconds(long ms) {
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }
}
