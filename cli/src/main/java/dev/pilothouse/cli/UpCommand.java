package dev.pilothouse.cli;

import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse up [-f SPEC] [--detach]}. */
@Command(
    name = "up",
    description =
        "Start the daemon (if not running), apply a spec and wait until its services are ready."
            + " Without --detach, then follow events until Ctrl-C, which stops everything.")
final class UpCommand implements Callable<Integer> {
  @Mixin Common common;

  @Option(
      names = {"-f", "--file"},
      paramLabel = "SPEC",
      description = "The spec file to apply.")
  Path file;

  @Option(
      names = {"-d", "--detach"},
      description = "Return once services are ready; leave the daemon running.")
  boolean detach;

  @Option(
      names = "--api-port",
      paramLabel = "PORT",
      description = "API port of a new daemon (default 9460; 0 picks a free one).")
  Integer apiPort;

  @Option(
      names = "--api-host",
      paramLabel = "ADDRESS",
      description =
          "Address the API of a new daemon listens on (default 127.0.0.1); beyond loopback it"
              + " needs --tls or --tls-cert/--tls-key.")
  String apiHost;

  @Option(
      names = "--tls",
      description =
          "Serve the API over HTTPS with a self-signed certificate kept in the state directory"
              + " (its SHA-256 fingerprint is printed).")
  boolean tls;

  @Option(
      names = "--tls-cert",
      paramLabel = "PEM",
      description = "Serve the API over HTTPS with this certificate (chain), PEM.")
  Path tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "PEM",
      description = "The private key of --tls-cert, PEM (unencrypted).")
  Path tlsKey;

  @Option(
      names = "--store",
      paramLabel = "JDBC_URL",
      description =
          "Keep a new daemon's state in this PostgreSQL database"
              + " (jdbc:postgresql://HOST:PORT/DATABASE) instead of the state directory's SQLite"
              + " file (default: $PILOTHOUSE_STORE_URL; docs/scale-out.md).")
  String store;

  @Option(
      names = "--store-user",
      paramLabel = "USER",
      description = "The database user (default: $PILOTHOUSE_STORE_USER, else pilothouse).")
  String storeUser;

  @Option(
      names = "--store-password-file",
      paramLabel = "FILE",
      description = "File holding its password (default: $PILOTHOUSE_STORE_PASSWORD_FILE).")
  Path storePasswordFile;

  @Option(
      names = "--standby",
      description =
          "Start one more daemon on the same PostgreSQL store ($PILOTHOUSE_STORE_URL) and state"
              + " directory: it follows the leader, forwards API calls to it, and takes over when"
              + " the leader fails (docs/scale-out.md). Give it its own --api-port.")
  boolean standby;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "120",
      description = "How long to wait for readiness (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The options of a new daemon beyond its state directory and port. */
  private java.util.List<String> daemonArgs() {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new CliException(
          ExitCodes.USAGE, "--tls-cert and --tls-key go together", "give both PEM files");
    }
    java.util.List<String> a = new java.util.ArrayList<>();
    if (apiHost != null) {
      a.addAll(java.util.List.of("--api-host", apiHost));
    }
    if (tlsCert != null) {
      a.addAll(
          java.util.List.of(
              "--tls-cert",
              tlsCert.toAbsolutePath().toString(),
              "--tls-key",
              tlsKey.toAbsolutePath().toString()));
    } else if (tls) {
      a.add("--tls");
    }
    if (store != null) {
      a.addAll(java.util.List.of("--store", store));
    }
    if (storeUser != null) {
      a.addAll(java.util.List.of("--store-user", storeUser));
    }
    if (storePasswordFile != null) {
      a.addAll(
          java.util.List.of(
              "--store-password-file", storePasswordFile.toAbsolutePath().toString()));
    }
    return a;
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path stateDir = common.stateDir();
    if (standby) {
      return standby(stateDir, out);
    }
    Optional<SpecFile> specFile = Optional.ofNullable(file).map(SpecFile::read);
    specFile.ifPresent(f -> f.check(err));
    Optional<PilotClient> existing = DaemonLauncher.running(stateDir);
    PilotClient client;
    if (existing.isPresent()) {
      client = existing.get();
      out.println("daemon already running at " + client.base());
    } else {
      long t0 = System.nanoTime();
      client = DaemonLauncher.start(stateDir, apiPort, daemonArgs());
      out.printf(
          "daemon started at %s in %d ms (state: %s)%n",
          client.base(), (System.nanoTime() - t0) / 1_000_000, stateDir);
      dev.pilothouse.client.PilotClient.info(stateDir)
          .map(dev.pilothouse.client.DaemonInfo::tlsFingerprint)
          .ifPresent(
              f ->
                  out.printf(
                      "API certificate SHA-256 fingerprint %s (%s)%n",
                      f, tlsCert != null ? tlsCert : stateDir.resolve("tls/cert.pem")));
    }
    out.flush();
    if (specFile.isPresent()) {
      ApplyCommand.print(client.apply(specFile.get().request()), new Output(), out);
    }
    Wire.Status s = Progress.awaitReady(client, timeoutSeconds, out);
    out.println();
    StatusCommand.print(s, out);
    printNext(s, out);
    out.flush();
    // The routes are not served: a script that goes on would find nothing on the port.
    boolean notListening = s.proxy() != null && !s.proxy().error().isEmpty();
    if (notListening) {
      err.println("error: the load balancer is not listening: " + s.proxy().error());
      err.println(
          "hint: free the port or change proxy.port; the daemon tries again every 5 s,"
              + " and the services run meanwhile");
      err.flush();
    }
    if (detach) {
      return notListening ? ExitCodes.FAILURE : ExitCodes.OK;
    }
    out.println();
    out.println("following events; press Ctrl-C to stop all services and the daemon");
    out.flush();
    Thread stopper =
        new Thread(
            () -> {
              out.println();
              out.println("stopping…");
              out.flush();
              DownCommand.shutdown(client, stateDir, out);
            });
    Runtime.getRuntime().addShutdownHook(stopper);
    long last = client.events(-1, 1).stream().mapToLong(Wire.Event::seq).max().orElse(0);
    client.followEvents(
        last,
        e -> {
          out.println(EventsCommand.line(e, false));
          out.flush();
        });
    try {
      // The daemon went away without a Ctrl-C here: nothing is left for this process to stop.
      Runtime.getRuntime().removeShutdownHook(stopper);
    } catch (IllegalStateException shuttingDown) {
      return ExitCodes.OK; // Ctrl-C: the hook stops everything
    }
    throw EventsCommand.daemonGone();
  }

  private int standby(Path stateDir, PrintWriter out) {
    if (store == null && System.getenv().getOrDefault("PILOTHOUSE_STORE_URL", "").isBlank()) {
      throw new CliException(
          ExitCodes.USAGE,
          "--standby needs the state in PostgreSQL: one SQLite file has one daemon",
          "give --store JDBC_URL (or set PILOTHOUSE_STORE_URL), as for the leader"
              + " (docs/scale-out.md)");
    }
    if (file != null) {
      throw new CliException(
          ExitCodes.USAGE,
          "--standby applies no spec: the leader runs the one in the store",
          "drop -f (apply specs with 'pilothouse apply')");
    }
    long t0 = System.nanoTime();
    PilotClient c = DaemonLauncher.startStandby(stateDir, apiPort, daemonArgs());
    Wire.Leadership l = c.leader();
    out.printf(
        "standby daemon started at %s in %d ms (%s; leader: %s)%n",
        c.base(),
        (System.nanoTime() - t0) / 1_000_000,
        l.role(),
        l.leader() == null ? "none yet" : l.leader().address() + ", term " + l.leader().term());
    return ExitCodes.OK;
  }

  private void printNext(Wire.Status s, PrintWriter out) {
    out.println();
    out.println("Try next:");
    String sd = common.stateDir != null ? " --state-dir " + common.stateDir() : "";
    if (s.proxy() != null && s.proxy().listening()) {
      out.println(
          "  curl http://localhost:" + s.proxy().port() + "/          # through the load balancer");
    }
    s.services().stream()
        .flatMap(svc -> svc.instances().stream())
        .findFirst()
        .ifPresent(
            i -> {
              out.println("  curl http://127.0.0.1:" + i.port() + "/          # ask one instance");
              out.println(
                  "  kill -9 "
                      + i.pid()
                      + "                         # and watch it being replaced:");
            });
    out.println("  ./pilothouse status" + sd + "            # instances, pids, ports, readiness");
    out.println(
        "  open "
            + s.api()
            + "/   # the dashboard; log in with the token in "
            + common.stateDir()
            + "/api-token");
    out.println("  ./pilothouse events -f" + sd + "         # what the daemon does, live");
    s.services().stream()
        .findFirst()
        .ifPresent(
            svc -> {
              out.println(
                  "  ./pilothouse logs "
                      + svc.name()
                      + " -f"
                      + sd
                      + "        # the instances' output");
              out.println(
                  "  ./pilothouse scale " + svc.name() + " 5" + sd + "        # more instances");
            });
    out.println("  ./pilothouse down" + sd + "              # stop everything");
  }
}
