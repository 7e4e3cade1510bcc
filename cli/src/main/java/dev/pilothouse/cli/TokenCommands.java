package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse token create|list|revoke}: API tokens with roles (docs/security.md). */
final class TokenCommands {
  private TokenCommands() {}

  @Command(
      name = "token",
      description =
          "API tokens with a role (viewer, operator, admin), optionally limited to services and"
              + " expiring; managing them needs an admin token.",
      subcommands = {Create.class, ListTokens.class, Revoke.class})
  static final class Group extends GroupCommand {}

  /** {@code pilothouse token create NAME --role ROLE [--service S]… [--expires 90d]}. */
  @Command(
      name = "create",
      description = "Make a token and print it (this once): give it to Grafana, CI or a colleague.")
  static final class Create implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "NAME", description = "A name for it, e.g. grafana.")
    String name;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "viewer (reads), operator (day-to-day changes) or admin (everything).")
    String role;

    @Option(
        names = "--service",
        paramLabel = "SERVICE",
        description = "Limit it to this service (repeat for several).")
    List<String> services = new ArrayList<>();

    @Option(
        names = "--grant",
        paramLabel = "GRANT",
        description = "An extra right: remote-write (lets a viewer send Prometheus remote write).")
    List<String> grants = new ArrayList<>();

    @Option(
        names = "--expires",
        paramLabel = "DURATION",
        description = "Lifetime, e.g. 90d or 12h (default: does not expire).")
    String expires;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("name", name);
      body.put("role", role);
      body.put("services", services);
      body.put("grants", grants);
      if (expires != null) {
        body.put("expires", expires);
      }
      JsonNode t = common.client().createToken(body);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(t));
        return ExitCodes.OK;
      }
      out.println(t.path("token").asText());
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "token '"
              + t.path("name").asText()
              + "' ("
              + t.path("role").asText()
              + (t.path("services").isEmpty() ? "" : ", services " + join(t.path("services")))
              + (t.path("expires").isNull() ? "" : ", expires " + t.path("expires").asText())
              + "): shown this once; send it as 'Authorization: Bearer TOKEN'");
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse token list [-o json]}. */
  @Command(
      name = "list",
      description = "List tokens: names, roles, scopes and states (never secrets).")
  static final class ListTokens implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode all = common.client().tokens();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(all));
        return ExitCodes.OK;
      }
      if (all.isEmpty()) {
        out.println("no tokens besides the daemon's own (STATE_DIR/api-token, admin)");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(List.of("NAME", "ROLE", "SERVICES", "GRANTS", "STATE", "CREATED", "EXPIRES"));
      for (JsonNode n : all) {
        t.add(
            List.of(
                n.path("name").asText(),
                n.path("role").asText(),
                n.path("services").isEmpty() ? "all" : join(n.path("services")),
                n.path("grants").isEmpty() ? "-" : join(n.path("grants")),
                n.path("state").asText(),
                n.path("created").asText(),
                n.path("expires").isNull() ? "never" : n.path("expires").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse token revoke NAME}. */
  @Command(name = "revoke", description = "Revoke a token at once.")
  static final class Revoke implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode t = common.client().revokeToken(name);
      spec.commandLine().getOut().println("revoked " + t.path("name").asText());
      return ExitCodes.OK;
    }
  }

  private static String join(JsonNode list) {
    List<String> out = new ArrayList<>();
    list.forEach(x -> out.add(x.asText()));
    return String.join(",", out);
  }
}
