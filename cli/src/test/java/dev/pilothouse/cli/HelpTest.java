package dev.pilothouse.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help renders cleanly (picocli warns on stderr about an unescaped '%'). */
class HelpTest {
  @Test
  void everyCommandsHelp_printsItsUsage_withoutAWarning() {
    List<List<String>> paths = new ArrayList<>();
    collect(Main.commandLine(new String[0]), new ArrayList<>(), paths);
    assertThat(paths).hasSizeGreaterThan(30);
    PrintStream before = System.err;
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
    try {
      for (List<String> path : paths) {
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code =
            Main.run(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
        assertThat(code).as(String.join(" ", args)).isZero();
        assertThat(out.toString()).as(String.join(" ", args)).contains("Usage: pilothouse");
        assertThat(err.toString() + stderr).as(String.join(" ", args)).doesNotContain("WARN");
      }
    } finally {
      System.setErr(before);
    }
  }

  @Test
  void aCommandLine_holdsOnlyTheNamedCommand_butEveryCommandForHelpAndForAnUnknownName() {
    assertThat(Main.commandLine(new String[] {"status", "-o", "json"}).getSubcommands())
        .containsOnlyKeys("status");
    assertThat(Main.commandLine(new String[] {"backup", "list"}).getSubcommands())
        .containsOnlyKeys("backup");
    int all = Main.COMMANDS.size();
    assertThat(Main.commandLine(new String[0]).getSubcommands()).hasSize(all);
    assertThat(Main.commandLine(new String[] {"--help"}).getSubcommands()).hasSize(all);
    assertThat(Main.commandLine(new String[] {"help", "status"}).getSubcommands()).hasSize(all);
    assertThat(Main.commandLine(new String[] {"stauts"}).getSubcommands()).hasSize(all);

    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new String[] {"stauts"}, new PrintWriter(out), new PrintWriter(err));
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("Did you mean").contains("status");
  }

  private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
    out.add(List.copyOf(path));
    for (var e : cl.getSubcommands().entrySet()) {
      if (e.getValue().getCommandSpec().name().equals(e.getKey())) {
        List<String> next = new ArrayList<>(path);
        next.add(e.getKey());
        collect(e.getValue(), next, out);
      }
    }
  }

  @Test
  void anEmptyNameOrId_isAUsageError_beforeAnythingIsSent() {
    // No daemon runs here: each is refused while the command line is read (exit 2), before a
    // request could name the collection ("/api/v1/flags/" answers with every flag).
    for (String[] args :
        List.of(
            new String[] {"flags", "set", ""},
            new String[] {"scale", "", "2"},
            new String[] {"rollout", "status", " "},
            new String[] {"silence", "expire", ""},
            new String[] {"query", ""})) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
      assertThat(code).as(String.join(" ", args)).isEqualTo(2);
      assertThat(err.toString())
          .as(String.join(" ", args))
          .contains("Empty value for positional parameter")
          .contains("Usage: pilothouse");
    }
  }

  @Test
  void anOptionThatAppliesOnlyWithAnother_isAUsageErrorWithoutIt() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Main.run(
            new String[] {"cost", "report", "--window", "abc", "--state-dir", "/nonexistent"},
            new PrintWriter(out),
            new PrintWriter(err));
    assertThat(code).isEqualTo(2);
    assertThat(err.toString()).contains("--window applies only with --per-request");
  }
}
