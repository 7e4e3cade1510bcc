package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.PilotClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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
 * {@code pilothouse wal push|fetch|status}: PostgreSQL's archive_command and restore_command (run
 * by PostgreSQL in its data directory, with the configuration the daemon wrote there), and the
 * state of a service's WAL archive.
 */
final class WalCommands {
  /** restore_command's exit for a failure that must stop recovery (as the shell's 127 does). */
  static final int ABORT_RECOVERY = 127;

  private WalCommands() {}

  @Command(
      name = "wal",
      description =
          "PostgreSQL's WAL archive: 'wal push' and 'wal fetch' are the archive_command and"
              + " restore_command Pilothouse sets; 'wal status' shows a service's archive.",
      subcommands = {Push.class, Fetch.class, Status.class})
  static final class Group extends GroupCommand {}

  /** The configuration the daemon writes into a PostgreSQL data directory. */
  record Config(String service, String api, String token, String tlsFingerprint) {
    static Config read(Path file) {
      try {
        JsonNode n = new ObjectMapper().readTree(Files.readAllBytes(file));
        Config c =
            new Config(
                n.path("service").asText(null),
                n.path("api").asText(null),
                n.path("token").asText(null),
                n.path("tlsFingerprint").asText(null));
        if (c.service() == null || c.api() == null || c.token() == null) {
          throw new CliException(
              ExitCodes.FAILURE, file + " lacks service, api or token", "the daemon rewrites it");
        }
        return c;
      } catch (NoSuchFileException e) {
        throw new CliException(
            ExitCodes.FAILURE,
            file.toAbsolutePath() + " does not exist",
            "the daemon writes it into the data directory of each PostgreSQL service with"
                + " backups; is the daemon running?");
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.FAILURE, "cannot read " + file + ": " + e.getMessage(), "");
      }
    }

    PilotClient client() {
      return PilotClient.of(api, token, tlsFingerprint);
    }
  }

  @Command(
      name = "push",
      description =
          "Archive a WAL file (PostgreSQL's archive_command: wal push --config"
              + " pilothouse-wal.json %%p %%f). Exit 0 once it is in the repository.")
  static final class Push implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE")
    Path config;

    @Parameters(index = "0", paramLabel = "PATH")
    String path;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Config c = Config.read(config);
      String abs = Path.of(path).toAbsolutePath().normalize().toString();
      try {
        c.client().walPush(c.service(), abs, name);
        return ExitCodes.OK;
      } catch (ApiException e) {
        spec.commandLine().getErr().println("pilothouse wal push " + name + ": " + e.getMessage());
        return ExitCodes.FAILURE;
      }
    }
  }

  @Command(
      name = "fetch",
      description =
          "Fetch an archived WAL file (PostgreSQL's restore_command: wal fetch --config"
              + " pilothouse-wal.json %%f %%p). Exit 0 when fetched, 1 when the archive has none,"
              + " 127 on any other failure (which stops recovery rather than ending it early).")
  static final class Fetch implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE")
    Path config;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "PATH")
    String path;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String abs = Path.of(path).toAbsolutePath().normalize().toString();
      try {
        Config c = Config.read(config);
        return c.client().walFetch(c.service(), name, abs) ? ExitCodes.OK : ExitCodes.FAILURE;
      } catch (ApiException | CliException e) {
        spec.commandLine().getErr().println("pilothouse wal fetch " + name + ": " + e.getMessage());
        return ABORT_RECOVERY;
      }
    }
  }

  @Command(
      name = "status",
      description =
          "A PostgreSQL service's WAL archive: files, the newest segment and when it was"
              + " archived, the first gap after the oldest base backup, the archiving lag. Exit 1"
              + " when there is a gap.")
  static final class Status implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "SERVICE")
    String service;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().walStatus(service);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
      } else {
        List<List<String>> t = new ArrayList<>();
        t.add(
            List.of("SERVICE", "FILES", "TIMELINE", "NEWEST", "ARCHIVED", "GAP", "WAITING", "LAG"));
        t.add(
            List.of(
                service,
                Long.toString(r.path("files").asLong()),
                Long.toString(r.path("timeline").asLong()),
                r.path("newest").asText("-"),
                r.path("newestArchived").asText("-"),
                r.path("firstGap").asText("none"),
                Long.toString(r.path("readyFiles").asLong()),
                r.path("lagSeconds").asLong() + " s"));
        out.print(Output.table(t));
      }
      return r.path("firstGap").isNull() || r.path("firstGap").isMissingNode()
          ? ExitCodes.OK
          : ExitCodes.FAILURE;
    }
  }
}
