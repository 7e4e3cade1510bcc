package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.client.ApiException;
import java.io.PrintWriter;
import java.nio.file.Files;
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
 * {@code pilothouse flags list|get|set|delete|history|token|rollout}: feature flags
 * (docs/flags.md).
 */
@Command(
    name = "flags",
    description =
        "Feature flags: list, get, set (incl. kill switch and percentage rollouts),"
            + " delete, history, gradual rollouts.",
    subcommands = {
      FlagsCommand.ListFlags.class,
      FlagsCommand.Get.class,
      FlagsCommand.Set.class,
      FlagsCommand.Delete.class,
      FlagsCommand.History.class,
      FlagsCommand.Token.class,
      FlagRolloutCommand.class
    })
final class FlagsCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "list", description = "Every flag: type, on/off, default, rules.")
  static final class ListFlags implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode all = common.client().flags();
      if (output.json()) {
        out.println(Output.json(all));
      } else {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("FLAG", "TYPE", "ENABLED", "DEFAULT", "RULES"));
        for (JsonNode f : all) {
          rows.add(
              List.of(
                  f.path("key").asText(),
                  f.path("type").asText(),
                  f.path("enabled").asBoolean() ? "yes" : "no (kill switch)",
                  f.path("default").asText(),
                  rules(f)));
        }
        out.print(Output.table(rows));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  /** Rules in a few words: "staff -> on; rollout on 10% / off 90%". */
  static String rules(JsonNode f) {
    List<String> parts = new ArrayList<>();
    for (JsonNode r : f.path("rules")) {
      String name = r.path("name").asText();
      if (r.has("split")) {
        List<String> s = new ArrayList<>();
        r.get("split")
            .properties()
            .forEach(e -> s.add(e.getKey() + " " + e.getValue().asInt() + "%"));
        parts.add(name + " " + String.join(" / ", s));
      } else {
        parts.add(name + " -> " + r.path("variant").asText());
      }
    }
    return parts.isEmpty() ? "-" : String.join("; ", parts);
  }

  @Command(name = "get", description = "One flag's definition.")
  static final class Get implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "FLAG")
    String key;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode f = common.client().flag(key);
      if (output.json()) {
        out.println(Output.json(f));
      } else {
        out.printf(
            "%s: %s, %s, default %s%n",
            f.path("key").asText(),
            f.path("type").asText(),
            f.path("enabled").asBoolean()
                ? "enabled"
                : "disabled (serves " + f.path("offVariant").asText() + ")",
            f.path("default").asText());
        out.println("  variants: " + f.path("variants"));
        out.println("  rules: " + rules(f));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "set",
      description =
          "Create or change a flag: a whole definition with --json, or one change at a time.")
  static final class Set implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "FLAG")
    String key;

    @Option(
        names = "--json",
        paramLabel = "JSON",
        description = "The whole definition as JSON, or @FILE to read it from a file.")
    String json;

    @Option(names = "--enable", description = "Turn the flag on.")
    boolean enable;

    @Option(
        names = "--disable",
        description = "The kill switch: serve the off variant to everyone.")
    boolean disable;

    @Option(
        names = "--default",
        paramLabel = "VARIANT",
        description = "The variant when no rule matches.")
    String dflt;

    @Option(
        names = "--rollout",
        paramLabel = "V=PCT,…",
        description =
            "A percentage rollout by targeting key, e.g. on=10,off=90 (replaces the last such rule).")
    String rollout;

    @Option(names = "--description", paramLabel = "TEXT")
    String description;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (enable && disable) {
        throw new CliException(
            ExitCodes.USAGE, "--enable and --disable contradict each other", "give one");
      }
      var client = common.client();
      ObjectNode f;
      if (json != null) {
        String text = json.startsWith("@") ? Files.readString(Path.of(json.substring(1))) : json;
        JsonNode n;
        try {
          n = Output.JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new CliException(
              ExitCodes.USAGE,
              "--json is not valid JSON: " + e.getOriginalMessage(),
              "see docs/flags.md");
        }
        if (!(n instanceof ObjectNode o)) {
          throw new CliException(
              ExitCodes.USAGE, "--json must be a JSON object", "see docs/flags.md");
        }
        f = o;
      } else {
        try {
          f = (ObjectNode) client.flag(key);
        } catch (ApiException e) {
          if (e.status() != 404) {
            throw e;
          }
          f = Output.JSON.createObjectNode(); // a new boolean flag: on/off, default off
        }
      }
      if (enable || disable) {
        f.put("enabled", enable);
      }
      if (dflt != null) {
        f.put("default", dflt);
      }
      if (description != null) {
        f.put("description", description);
      }
      if (rollout != null) {
        ObjectNode split = Output.JSON.createObjectNode();
        for (String part : rollout.split(",")) {
          String[] kv = part.split("=", 2);
          if (kv.length != 2 || !kv[1].trim().matches("\\d{1,3}")) {
            throw new CliException(
                ExitCodes.USAGE,
                "--rollout '" + part + "' is not VARIANT=PERCENT",
                "write e.g. on=10,off=90");
          }
          split.put(kv[0].trim(), Integer.parseInt(kv[1].trim()));
        }
        ArrayNode rules = f.has("rules") ? (ArrayNode) f.get("rules") : f.putArray("rules");
        int last = rules.size() - 1;
        if (last >= 0 && rules.get(last).has("split") && rules.get(last).path("when").isEmpty()) {
          ((ObjectNode) rules.get(last)).set("split", split);
        } else {
          rules.addObject().put("name", "rollout").set("split", split);
        }
      }
      f.remove("key");
      JsonNode saved = client.putFlag(key, f);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(saved));
      } else {
        out.printf(
            "flag %s: %s, default %s; rules: %s%n",
            key,
            saved.path("enabled").asBoolean() ? "enabled" : "disabled",
            saved.path("default").asText(),
            rules(saved));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(name = "delete", description = "Delete a flag (its history stays).")
  static final class Delete implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(index = "0", paramLabel = "FLAG")
    String key;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      common.client().deleteFlag(key);
      spec.commandLine().getOut().println("flag " + key + " deleted");
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "token",
      description =
          "The token that reads flags over OFREP and nothing else: give it to services, not the"
              + " API token.")
  static final class Token implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Path f = dev.pilothouse.client.DaemonInfo.flagsTokenFile(common.stateDir());
      if (!Files.exists(f)) {
        throw new CliException(
            ExitCodes.FAILURE,
            "no flags token in " + common.stateDir() + " yet",
            "start the daemon once ('pilothouse up'); it creates the token");
      }
      String token = Files.readString(f).trim();
      PrintWriter out = spec.commandLine().getOut();
      out.println(output.json() ? Output.json(java.util.Map.of("token", token)) : token);
      out.flush();
      return ExitCodes.OK;
    }
  }

  @Command(name = "history", description = "Changes of a flag (or of all flags), newest first.")
  static final class History implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "FLAG", arity = "0..1")
    String key;

    @Option(names = "--limit", description = "How many changes (default 50, at most 1000).")
    int limit = 50;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      JsonNode all = common.client().flagHistory(key, limit);
      if (output.json()) {
        out.println(Output.json(all));
      } else {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("AT", "FLAG", "BY", "NOW"));
        for (JsonNode c : all) {
          JsonNode after = c.path("after");
          rows.add(
              List.of(
                  c.path("at").asText(),
                  c.path("key").asText(),
                  c.path("source").asText(),
                  after.isMissingNode() || after.isNull()
                      ? "(deleted)"
                      : (after.path("enabled").asBoolean() ? "enabled" : "disabled")
                          + ", default "
                          + after.path("default").asText()
                          + "; "
                          + rules(after)));
        }
        out.print(Output.table(rows));
      }
      out.flush();
      return ExitCodes.OK;
    }
  }
}
