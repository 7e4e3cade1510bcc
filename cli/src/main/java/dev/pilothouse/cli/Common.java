package dev.pilothouse.cli;

import dev.pilothouse.client.PilotClient;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes. */
final class Common {
  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description =
          "State directory of the daemon (default: $PILOTHOUSE_STATE_DIR, else"
              + " $XDG_STATE_HOME/pilothouse, else ~/.local/state/pilothouse).")
  Path stateDir;

  @Option(names = "--debug", description = "Show stack traces of failures.")
  boolean debug;

  Path stateDir() {
    if (stateDir != null) {
      return stateDir.toAbsolutePath().normalize();
    }
    String env = System.getenv("PILOTHOUSE_STATE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath().normalize();
    }
    String xdg = System.getenv("XDG_STATE_HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "pilothouse");
    }
    return Path.of(System.getProperty("user.home"), ".local", "state", "pilothouse");
  }

  /** A client of the running daemon, or a failure saying how to start one. */
  PilotClient client() {
    return PilotClient.forStateDir(stateDir())
        .orElseThrow(
            () ->
                new CliException(
                    ExitCodes.NO_DAEMON,
                    "no daemon is running with state directory " + stateDir(),
                    "start one with 'pilothouse up -f SPEC' (or pass --state-dir)"));
  }
}
