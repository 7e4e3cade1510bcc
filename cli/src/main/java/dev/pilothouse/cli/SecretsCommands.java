package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

/** {@code pilothouse secrets set|get|list|rotate|delete} (docs/security.md#secrets). */
final class SecretsCommands {
  private SecretsCommands() {}

  /** Largest value read from a file or stdin (the daemon's limit). */
  static final int MAX_BYTES = 64 * 1024;

  @Command(
      name = "secrets",
      description =
          "Secrets kept encrypted by the daemon, given to services as env or files, rotated on a"
              + " schedule; needs an admin token.",
      subcommands = {
        SetSecret.class,
        GetSecret.class,
        ListSecrets.class,
        Rotate.class,
        Delete.class
      })
  static final class Group extends GroupCommand {}

  /** {@code pilothouse secrets set NAME [--from-file F]} (else the value comes on stdin). */
  @Command(
      name = "set",
      description =
          "Set a secret's value from a file (as it is) or stdin (one trailing newline dropped);"
              + " a terminal is asked without echo.")
  static final class SetSecret implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "NAME", description = "e.g. db-password.")
    String name;

    @Option(
        names = "--from-file",
        paramLabel = "FILE",
        description = "Read the value from this file instead of stdin.")
    Path file;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      String value = file != null ? fromFile(file) : fromStdin();
      JsonNode r = common.client().setSecret(name, value);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      out.println("secret " + name + " set (version " + r.path("version").asInt() + ")");
      List<String> users = new ArrayList<>();
      r.path("usedBy").forEach(u -> users.add(u.asText()));
      if (!users.isEmpty()) {
        out.println(
            "used by "
                + String.join(", ", users)
                + ": running instances keep the old value until restarted ('pilothouse restart "
                + users.get(0)
                + "')");
      }
      return ExitCodes.OK;
    }

    private static String fromFile(Path f) {
      try {
        if (Files.size(f) > MAX_BYTES) {
          throw new CliException(
              ExitCodes.USAGE, f + " is larger than 64 KiB", "a secret holds at most 64 KiB");
        }
        return decode(Files.readAllBytes(f), f.toString()); // as it is: keys, certificates
      } catch (NoSuchFileException e) {
        throw new CliException(ExitCodes.USAGE, f + " does not exist", "check --from-file");
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.FAILURE, "cannot read " + f + ": " + e.getMessage(), "check permissions");
      }
    }

    private static String fromStdin() {
      java.io.Console console = System.console();
      if (console != null && terminal(console)) {
        char[] typed = console.readPassword("value for the secret: ");
        if (typed == null || typed.length == 0) {
          throw new CliException(ExitCodes.USAGE, "no value given", "type the value, or pipe it");
        }
        return new String(typed);
      }
      try {
        InputStream in = System.in;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
          b.write(buf, 0, n);
          if (b.size() > MAX_BYTES + 2) {
            throw new CliException(
                ExitCodes.USAGE, "the value on stdin is larger than 64 KiB", "send less");
          }
        }
        String v = chomp(decode(b.toByteArray(), "stdin"));
        if (v.isEmpty()) {
          throw new CliException(
              ExitCodes.USAGE,
              "no value on stdin",
              "pipe it in (printf %s \"$VALUE\" | pilothouse secrets set NAME) or use --from-file");
        }
        return v;
      } catch (IOException e) {
        throw new CliException(ExitCodes.FAILURE, "cannot read stdin: " + e.getMessage(), "");
      }
    }

    /** Console.isTerminal (Java 22+): since 22 a console exists also when stdin is a pipe. */
    private static boolean terminal(java.io.Console console) {
      try {
        return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
      } catch (ReflectiveOperationException e) {
        return true; // Java 21: a console exists only for a terminal
      }
    }

    private static String decode(byte[] bytes, String where) {
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .decode(java.nio.ByteBuffer.wrap(bytes))
            .toString();
      } catch (CharacterCodingException e) {
        throw new CliException(
            ExitCodes.USAGE,
            where + " is not UTF-8 text",
            "store binary keys base64-encoded and decode them in the service");
      }
    }

    static String chomp(String s) {
      if (s.endsWith("\r\n")) {
        return s.substring(0, s.length() - 2);
      }
      return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }
  }

  /** {@code pilothouse secrets get NAME}. */
  @Command(name = "get", description = "Print a secret's current value.")
  static final class GetSecret implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().secret(name);
      PrintWriter out = spec.commandLine().getOut();
      out.println(output.json() ? Output.json(r) : r.path("value").asText());
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse secrets list [-o json]}. */
  @Command(
      name = "list",
      description = "List secrets: versions, rotation and its last failure, users (never values).")
  static final class ListSecrets implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode all = common.client().secrets();
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(all));
        return ExitCodes.OK;
      }
      if (all.isEmpty()) {
        out.println("no secrets; set one with 'pilothouse secrets set NAME'");
        return ExitCodes.OK;
      }
      List<List<String>> t = new ArrayList<>();
      t.add(
          List.of(
              "NAME", "VERSION", "UPDATED", "ROTATION", "LAST ROTATED", "USED BY", "LAST FAILURE"));
      for (JsonNode n : all) {
        List<String> users = new ArrayList<>();
        n.path("usedBy").forEach(u -> users.add(u.asText()));
        String rotation =
            n.path("rotation").isNull()
                ? "-"
                : n.path("rotation").asText()
                    + (n.path("every").isNull() ? "" : " every " + n.path("every").asText())
                    + (n.path("rotating").isNull()
                        ? ""
                        : " (under way: " + n.path("rotating").asText() + ")");
        t.add(
            List.of(
                n.path("name").asText(),
                n.path("version").asText(),
                n.path("updated").asText(),
                rotation,
                n.path("rotated").isNull() ? "never" : n.path("rotated").asText(),
                users.isEmpty() ? "-" : String.join(",", users),
                n.path("lastFailure").isNull()
                    ? "-"
                    : n.path("failedAt").asText() + " " + n.path("lastFailure").asText()));
      }
      out.print(Output.table(t));
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse secrets rotate NAME}. */
  @Command(
      name = "rotate",
      description =
          "Rotate a secret now as its spec declares: a new value set, tested, promoted, and a"
              + " rolling restart of the services that use it.")
  static final class Rotate implements Callable<Integer> {
    @Mixin Common common;
    @Mixin Output output;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode r = common.client().rotateSecret(name);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json()) {
        out.println(Output.json(r));
        return ExitCodes.OK;
      }
      List<String> restarted = new ArrayList<>();
      r.path("restarted").forEach(u -> restarted.add(u.asText()));
      out.println(
          "rotated "
              + name
              + " to version "
              + r.path("version").asInt()
              + " ("
              + r.path("kind").asText()
              + ")"
              + (restarted.isEmpty()
                  ? ""
                  : "; rolling restart of " + String.join(", ", restarted)));
      return ExitCodes.OK;
    }
  }

  /** {@code pilothouse secrets delete NAME}. */
  @Command(name = "delete", description = "Delete a secret and its versions (refused while used).")
  static final class Delete implements Callable<Integer> {
    @Mixin Common common;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      common.client().deleteSecret(name);
      spec.commandLine().getOut().println("deleted " + name);
      return ExitCodes.OK;
    }
  }
}
