package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse events}. */
@Command(
    name = "events",
    description = "Show what the daemon did (the audit log).",
    subcommands = EventsCommand.Verify.class)
final class EventsCommand implements Callable<Integer> {

  /** {@code pilothouse events verify [-o json]}: exit 0 when the chain is intact, else 1. */
  @Command(name = "verify", description = "Check the audit log's hash chain.")
  static final class Verify implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      Wire.ChainCheck c = common.client().verifyEvents();
      if (output.json()) {
        out.println(Output.json(c));
      } else if (c.intact()) {
        out.println(c.events() + " events, chain intact");
      } else {
        out.println(
            "chain broken at event "
                + c.firstBroken()
                + ": "
                + c.reason()
                + " ("
                + c.events()
                + " events checked)");
      }
      out.flush();
      return c.intact() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
  }

  @Mixin Common common;
  @Mixin Output output;

  @Option(
      names = {"-f", "--follow"},
      description = "Keep printing new events (JSON lines with -o json).")
  boolean follow;

  @Option(
      names = "--limit",
      defaultValue = "50",
      description = "How many recent events (default ${DEFAULT-VALUE}, at most 10000).")
  int limit;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    var client = common.client();
    List<Wire.Event> recent = client.events(-1, limit);
    if (output.json() && !follow) {
      out.println(Output.json(recent));
      return ExitCodes.OK;
    }
    for (Wire.Event e : recent) {
      out.println(line(e, output.json()));
    }
    out.flush();
    if (follow) {
      long last = recent.isEmpty() ? 0 : recent.get(recent.size() - 1).seq();
      client.followEvents(
          last,
          e -> {
            out.println(line(e, output.json()));
            out.flush();
          });
      // The stream ends only when the daemon goes away (stopped, killed or restarted).
      throw daemonGone();
    }
    return ExitCodes.OK;
  }

  /** The error of a follow whose daemon went away. */
  static CliException daemonGone() {
    return new CliException(
        ExitCodes.NO_DAEMON,
        "the event stream ended: the daemon stopped",
        "see 'pilothouse status'; 'pilothouse up' starts it again and adopts the running instances");
  }

  static String line(Wire.Event e, boolean json) {
    if (json) {
      return Output.jsonLine(e);
    }
    List<String> parts = new ArrayList<>();
    parts.add(e.at());
    parts.add(e.type());
    if (!e.service().isEmpty()) {
      parts.add(e.service());
    }
    if (!e.instance().isEmpty()) {
      parts.add(e.instance());
    }
    parts.add(e.message());
    return String.join("  ", parts);
  }
}
