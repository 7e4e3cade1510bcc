package dev.pilothouse.cli;

import dev.pilothouse.store.StoreCopy;
import dev.pilothouse.store.StoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse store migrate}: the daemon's state from its SQLite file into PostgreSQL. */
final class StoreCommands {
  private StoreCommands() {}

  @Command(
      name = "store",
      description = "Where the daemon keeps its state (docs/scale-out.md).",
      subcommands = {Migrate.class})
  static final class Group extends GroupCommand {}

  @Command(
      name = "migrate",
      description =
          "Copy a stopped daemon's state (revisions, instances, the event log and every other"
              + " table) from STATE/pilothouse.db into an empty PostgreSQL database, in one"
              + " transaction; the event chain is verified on both sides. The SQLite file is left"
              + " as it was. Exit 0 when copied and verified, 1 when refused or failed.")
  static final class Migrate implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(
        names = "--to",
        paramLabel = "JDBC_URL",
        description =
            "The PostgreSQL database, jdbc:postgresql://HOST:PORT/DATABASE (default:"
                + " $PILOTHOUSE_STORE_URL).")
    String to;

    @Option(
        names = "--user",
        paramLabel = "USER",
        description = "Database user (default: $PILOTHOUSE_STORE_USER, else pilothouse).")
    String user;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description = "File holding the password (default: $PILOTHOUSE_STORE_PASSWORD_FILE).")
    Path passwordFile;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      String url = to != null ? to : System.getenv().getOrDefault("PILOTHOUSE_STORE_URL", "");
      if (!url.startsWith("jdbc:postgresql://")) {
        throw new CliException(
            ExitCodes.USAGE,
            url.isEmpty()
                ? "no target database"
                : "--to must be a PostgreSQL JDBC URL, not '" + url + "'",
            "give --to jdbc:postgresql://HOST:PORT/DATABASE (or set PILOTHOUSE_STORE_URL)");
      }
      String who =
          user != null ? user : System.getenv().getOrDefault("PILOTHOUSE_STORE_USER", "pilothouse");
      String password = password();
      Path state = common.stateDir();
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      boolean tty = System.console() != null && !output.json();
      try (FileLock lock = stopped(state)) {
        StoreCopy.Report r =
            StoreCopy.sqliteToPostgres(
                state.resolve("pilothouse.db"),
                url,
                who,
                password,
                Clock.systemUTC(),
                (table, done, total) -> {
                  if (tty) {
                    err.print(
                        "\r" + Progress.bar(done, total) + " " + table + " " + done + "/" + total);
                    if (done == total) {
                      err.println();
                    }
                    err.flush();
                  }
                });
        if (output.json()) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("target", url);
          o.put("rows", r.rows());
          o.put("events", r.events());
          o.put("chainIntact", true);
          o.put("head", r.head());
          out.println(Output.json(o));
        } else {
          List<List<String>> t = new ArrayList<>();
          t.add(List.of("TABLE", "ROWS"));
          r.rows().forEach((k, v) -> t.add(List.of(k, Long.toString(v))));
          out.print(Output.table(t));
          out.println(
              r.events()
                  + " events, chain intact on both sides"
                  + (r.head().isEmpty() ? "" : " (head " + r.head().substring(0, 12) + "…)"));
          out.println(
              "start the daemon on it: PILOTHOUSE_STORE_URL="
                  + url
                  + " pilothouse up (the SQLite file is left as it was)");
        }
        return ExitCodes.OK;
      } catch (StoreException e) {
        throw new CliException(
            ExitCodes.FAILURE, e.getMessage(), "nothing was written to the target database");
      }
    }

    private String password() {
      Path f = passwordFile;
      if (f == null) {
        String env = System.getenv().getOrDefault("PILOTHOUSE_STORE_PASSWORD_FILE", "");
        f = env.isEmpty() ? null : Path.of(env);
      }
      if (f == null) {
        return "";
      }
      try {
        return Files.readString(f).trim();
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.USAGE,
            "cannot read the password file " + f + ": " + e.getMessage(),
            "give a readable --password-file");
      }
    }

    /** The state directory's daemon lock, so that no daemon runs (or starts) while copying. */
    private static FileLock stopped(Path state) throws IOException {
      if (!Files.isDirectory(state)) {
        throw new CliException(
            ExitCodes.FAILURE,
            "no state directory " + state,
            "pass the --state-dir of the daemon whose state to move");
      }
      FileChannel ch =
          FileChannel.open(
              state.resolve("daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        throw new CliException(
            ExitCodes.FAILURE,
            "a daemon is running with state directory " + state,
            "stop it first ('pilothouse down'), so that nothing changes while its state is copied");
      }
      return lock;
    }
  }
}
