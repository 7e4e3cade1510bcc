package dev.pilothouse.cli;

import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code pilothouse} command. */
@Command(
    name = "pilothouse",
    mixinStandardHelpOptions = true,
    versionProvider = Main.VersionProvider.class,
    description = "Run, watch and heal declared services.")
public final class Main implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Every command, in the order help lists them. */
  static final java.util.List<Class<?>> COMMANDS =
      java.util.List.of(
          UpCommand.class,
          DownCommand.class,
          ApplyCommand.class,
          ValidateCommand.class,
          StatusCommand.class,
          LogsCommand.class,
          RestartCommand.class,
          QuarantineCommand.class,
          ScaleCommand.class,
          EventsCommand.class,
          LoadCommand.class,
          RolloutCommand.class,
          FlagsCommand.class,
          ExperimentCommand.class,
          DeployCommand.class,
          HistoryCommand.class,
          DoraCommand.class,
          QueryCommand.class,
          AlertsCommand.class,
          RulesCommand.class,
          SilenceCommand.class,
          SloCommand.class,
          AnomalyCommand.class,
          IncidentCommands.ListIncidents.class,
          IncidentCommands.One.class,
          IncidentCommands.OnCallNow.class,
          BackupCommands.Group.class,
          BackupCommands.Restore.class,
          BackupCommands.DrillCommand.class,
          BackupCommands.Dr.class,
          WalCommands.Group.class,
          TokenCommands.Group.class,
          SecretsCommands.Group.class,
          CostCommands.Group.class,
          ChaosCommands.Group.class,
          ScanCommand.class,
          AuditCommands.Group.class,
          StoreCommands.Group.class,
          RegionCommands.Group.class,
          CommandLine.HelpCommand.class);

  /**
   * The command line for these arguments. Picocli reads every command's annotations when it is
   * added, which cost a quarter of a second of each run's start: only the command named by the
   * first argument is added, unless help, a completion or a mistyped name needs them all.
   */
  static CommandLine commandLine(String[] args) {
    CommandLine cl = new CommandLine(new Main());
    String first = args.length == 0 || args[0].startsWith("-") ? null : args[0];
    Class<?> only = null;
    for (Class<?> c : COMMANDS) {
      Command a = c.getAnnotation(Command.class);
      if (first != null
          && !c.equals(CommandLine.HelpCommand.class)
          && (a.name().equals(first) || java.util.Arrays.asList(a.aliases()).contains(first))) {
        only = c;
      }
    }
    for (Class<?> c : only == null ? COMMANDS : java.util.List.<Class<?>>of(only)) {
      cl.addSubcommand(c);
    }
    return cl;
  }

  /** Runs the command line; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = commandLine(args);
    addHelp(cl);
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          boolean debug = parsed.originalArgs().contains("--debug");
          return report(e, cmd.getErr(), debug);
        });
    cl.setExecutionStrategy(
        parsed -> {
          noEmptyPositionals(parsed);
          return new CommandLine.RunLast().execute(parsed);
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /**
   * A name, id or query given as '' is a usage error: sent on, it named no resource ("/services//
   * scale") or, worse, the collection itself ("/flags/" answers with the list).
   */
  private static void noEmptyPositionals(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      for (var param : p.matchedPositionals()) {
        for (String v : param.originalStringValues()) {
          if (v.isBlank()) {
            throw new CommandLine.ParameterException(
                p.commandSpec().commandLine(),
                "Empty value for positional parameter " + param.paramLabel() + ": give one");
          }
        }
      }
    }
  }

  /** -h/--help on every command and command group that does not have it yet. */
  private static void addHelp(CommandLine cl) {
    var spec = cl.getCommandSpec();
    if (spec.findOption("--help") == null && spec.findOption("-h") == null) {
      spec.addOption(
          picocli.CommandLine.Model.OptionSpec.builder("-h", "--help")
              .usageHelp(true)
              .description("Show this help message and exit.")
              .build());
    }
    cl.getSubcommands().values().forEach(Main::addHelp);
  }

  static int report(Exception e, PrintWriter err, boolean debug) {
    int code;
    if (e instanceof CliException c) {
      err.println("error: " + c.getMessage());
      if (!c.hint.isEmpty()) {
        err.println("hint: " + c.hint);
      }
      code = c.exitCode;
    } else if (e instanceof ApiException a) {
      Wire.Error body = a.body();
      body.problems().forEach(p -> err.println(p.render()));
      err.println("error: " + body.error());
      if (!body.hint().isEmpty()) {
        err.println("hint: " + body.hint());
      }
      code =
          a.status() == 0
              ? ExitCodes.NO_DAEMON
              : a.status() == 422 ? ExitCodes.INVALID_SPEC : ExitCodes.FAILURE;
    } else {
      err.println("error: " + e);
      err.println("hint: run again with --debug for details");
      code = ExitCodes.FAILURE;
    }
    if (debug) {
      e.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    System.exit(run(args, out, err));
  }

  /** Reports the build's version. */
  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"pilothouse " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
