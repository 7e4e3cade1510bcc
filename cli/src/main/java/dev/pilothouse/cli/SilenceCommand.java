package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse silence add|list|expire}: Alertmanager's silences, as amtool handles them. */
@Command(
    name = "silence",
    description = "Mute alerts that match labels for a while (Alertmanager's silences).",
    subcommands = {
      SilenceCommand.Add.class,
      SilenceCommand.ListSilences.class,
      SilenceCommand.Expire.class
    })
final class SilenceCommand {
  private static final Pattern MATCHER =
      Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"?(.*?)\"?\\s*");

  /** {@code pilothouse silence add MATCHER… --duration 2h --comment TEXT}. */
  @Command(
      name = "add",
      description =
          "Silence the alerts matching every MATCHER (name=value, name!=value, name=~regex,"
              + " name!~regex) for --duration; prints the silence's id.")
  static final class Add implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(
        arity = "1..*",
        paramLabel = "MATCHER",
        description = "e.g. alertname=Backlog service=~'api|web'")
    List<String> matchers;

    @Option(
        names = "--duration",
        defaultValue = "1h",
        paramLabel = "DURATION",
        description = "How long (default: 1h).")
    String duration;

    @Option(
        names = "--comment",
        required = true,
        paramLabel = "TEXT",
        description = "Why (shown to everyone).")
    String comment;

    @Option(names = "--author", paramLabel = "NAME", description = "Who (default: $USER).")
    String author;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      ObjectMapper json = new ObjectMapper();
      ObjectNode body = json.createObjectNode();
      ArrayNode ms = body.putArray("matchers");
      for (String m : matchers) {
        Matcher x = MATCHER.matcher(m);
        if (!x.matches()) {
          throw new CliException(
              ExitCodes.USAGE,
              "bad matcher '" + m + "'",
              "write name=value, name!=value, name=~regex or name!~regex");
        }
        ObjectNode o = ms.addObject();
        o.put("name", x.group(1));
        o.put("value", x.group(3));
        o.put("isRegex", x.group(2).contains("~"));
        o.put("isEqual", !x.group(2).startsWith("!"));
      }
      Duration d = duration(duration);
      Instant now = Instant.now();
      body.put("startsAt", now.toString());
      body.put("endsAt", now.plus(d).toString());
      body.put(
          "createdBy", author != null ? author : System.getProperty("user.name", "pilothouse"));
      body.put("comment", comment);
      String id = common.client().addSilence(body);
      spec.commandLine().getOut().println(id);
      return ExitCodes.OK;
    }
  }

  private static final Pattern DURATION =
      Pattern.compile("(?:(\\d+)w)?(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");

  /** A duration such as 2h, 1d12h or 30m. */
  static Duration duration(String s) {
    Matcher m = DURATION.matcher(s);
    if (s.isEmpty() || !m.matches()) {
      throw new CliException(
          ExitCodes.USAGE, "--duration: '" + s + "' is not a duration", "write e.g. 30m, 2h or 1d");
    }
    long[] unit = {7 * 86400, 86400, 3600, 60, 1};
    long seconds = 0;
    for (int i = 0; i < unit.length; i++) {
      if (m.group(i + 1) != null) {
        seconds += Long.parseLong(m.group(i + 1)) * unit[i];
      }
    }
    if (seconds <= 0 || seconds > 366L * 86400) {
      throw new CliException(
          ExitCodes.USAGE, "--duration: must be between 1s and a year", "write e.g. 2h");
    }
    return Duration.ofSeconds(seconds);
  }

  /** {@code pilothouse silence list [-o json] [--expired]}. */
  @Command(name = "list", description = "List active and pending silences (--expired: those too).")
  static final class ListSilences implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Option(names = "--expired", description = "Also list expired silences.")
    boolean expired;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode all = common.client().silences();
      PrintWriter out = spec.commandLine().getOut();
      List<JsonNode> shown = new ArrayList<>();
      for (JsonNode s : all) {
        if (expired || !s.path("status").path("state").asText().equals("expired")) {
          shown.add(s);
        }
      }
      if (output.json()) {
        out.println(Output.json(shown));
        return ExitCodes.OK;
      }
      if (shown.isEmpty()) {
        out.println("no silences");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("ID", "STATE", "MATCHERS", "ENDS", "CREATED BY", "COMMENT"));
      for (JsonNode s : shown) {
        List<String> ms = new ArrayList<>();
        for (JsonNode m : s.path("matchers")) {
          String op =
              (m.path("isEqual").asBoolean(true) ? "" : "!")
                  + (m.path("isRegex").asBoolean() ? "~" : "=");
          op = op.equals("~") ? "=~" : op.equals("!") ? "!=" : op;
          ms.add(m.path("name").asText() + op + "\"" + m.path("value").asText() + "\"");
        }
        t.add(
            List.of(
                s.path("id").asText(),
                s.path("status").path("state").asText(),
                String.join(" ", ms),
                s.path("endsAt").asText(),
                s.path("createdBy").asText(),
                s.path("comment").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse silence expire ID…}. */
  @Command(name = "expire", description = "End silences now.")
  static final class Expire implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(arity = "1..*", paramLabel = "ID")
    List<String> ids;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      for (String id : ids) {
        common.client().expireSilence(id);
        spec.commandLine().getOut().println("expired " + id);
      }
      return ExitCodes.OK;
    }
  }
}
