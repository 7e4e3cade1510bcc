package dev.pilothouse.cli;

import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.PilotClient;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code pilothouse down}. */
@Command(name = "down", description = "Stop every instance gracefully, then the daemon.")
final class DownCommand implements Callable<Integer> {
  @Mixin Common common;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Path stateDir = common.stateDir();
    Optional<PilotClient> client = DaemonLauncher.running(stateDir);
    if (client.isEmpty()) {
      stopFollowers(stateDir, out); // they would take over (state in PostgreSQL)
      if (!Files.exists(stateDir.resolve("pilothouse.db"))) {
        out.println("nothing to stop: no daemon has run with state directory " + stateDir);
        return ExitCodes.OK;
      }
      // A daemon that died may have left instances: start one to adopt them, then stop all.
      client = Optional.of(DaemonLauncher.start(stateDir, 0));
    }
    shutdown(client.get(), stateDir, out);
    return ExitCodes.OK;
  }

  static void shutdown(PilotClient client, Path stateDir, PrintWriter out) {
    stopFollowers(stateDir, out);
    long pid;
    int instances;
    try {
      var s = client.status();
      pid = s.pid();
      instances = s.services().stream().mapToInt(svc -> svc.instances().size()).sum();
      client.shutdown(true);
    } catch (ApiException e) {
      out.println("the daemon is already gone");
      return;
    }
    out.println(
        "stopping "
            + instances
            + " instance"
            + (instances == 1 ? "" : "s")
            + " and the daemon (pid "
            + pid
            + ")…");
    out.flush();
    if (!DaemonLauncher.awaitExit(pid, 90_000)) {
      throw new CliException(
          ExitCodes.TIMEOUT,
          "the daemon (pid " + pid + ") did not stop within 90s",
          "see " + stateDir.resolve("daemon.log"));
    }
    out.println("stopped");
    out.flush();
  }

  /**
   * Stops the daemons that follow the leader first (SIGTERM), or they would take over and start the
   * instances again.
   */
  static void stopFollowers(Path stateDir, PrintWriter out) {
    var followers = DaemonLauncher.followers(stateDir);
    if (followers.isEmpty()) {
      return;
    }
    out.println("stopping " + followers.size() + " standby daemon(s) first…");
    out.flush();
    for (var f : followers) {
      ProcessHandle.of(f.pid()).ifPresent(ProcessHandle::destroy);
    }
    for (var f : followers) {
      if (!DaemonLauncher.awaitExit(f.pid(), 30_000)) {
        throw new CliException(
            ExitCodes.TIMEOUT,
            "the standby daemon (pid " + f.pid() + ") did not stop within 30s",
            "see " + stateDir.resolve("daemon-standby.log"));
      }
    }
  }
}
