package dev.pilothouse.cli;

import dev.pilothouse.anomaly.CsvScoring;
import dev.pilothouse.anomaly.Detector;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pilothouse anomaly score --input FILE.csv [-o csv|json]}. */
@Command(
    name = "anomaly",
    description = "Anomaly detection offline: score a series from a file.",
    subcommands = {AnomalyCommand.Score.class})
final class AnomalyCommand {
  /** Output formats of {@code anomaly score}. */
  enum Format {
    csv,
    json
  }

  @Command(
      name = "score",
      description =
          "Score each sample of a 'timestamp,value' CSV (ISO-8601 or epoch seconds) with the"
              + " detector the daemon runs, in time order as if it arrived live; writes"
              + " 'timestamp,value,anomaly_score' (scores in [0, 1]: 0.3 is one in a thousand,"
              + " 0.5 one in 100,000). Needs no daemon.")
  static final class Score implements Callable<Integer> {
    @Option(
        names = {"-i", "--input"},
        required = true,
        paramLabel = "FILE",
        description = "The CSV to score; - for standard input.")
    String input;

    @Option(
        names = {"-o", "--output"},
        paramLabel = "FORMAT",
        defaultValue = "csv",
        description = "csv (default) or json (one object per line).")
    Format format;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      try (BufferedReader in = open()) {
        CsvScoring.RowSink sink =
            format == Format.csv
                ? CsvScoring.csv(out)
                : (ts, value, score) -> {
                  java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
                  row.put("timestamp", ts);
                  Double v = null;
                  try {
                    v = Double.valueOf(value);
                  } catch (NumberFormatException e) {
                    // a missing sample
                  }
                  row.put("value", v == null || v.isNaN() ? null : v);
                  row.put("anomaly_score", Double.parseDouble(CsvScoring.format(score)));
                  out.println(Output.jsonLine(row));
                };
        CsvScoring.score(input.equals("-") ? "stdin" : input, in, new Detector(), sink);
      } catch (CsvScoring.InputException e) {
        out.flush();
        throw new CliException(ExitCodes.FAILURE, e.getMessage(), "");
      } catch (java.nio.charset.CharacterCodingException e) {
        out.flush();
        throw new CliException(
            ExitCodes.FAILURE, input + " is not UTF-8 text", "give a 'timestamp,value' CSV");
      } catch (IOException e) {
        out.flush();
        throw new CliException(
            ExitCodes.FAILURE, "cannot read " + input + ": " + e.getMessage(), "check the path");
      }
      out.flush();
      return ExitCodes.OK;
    }

    private BufferedReader open() throws IOException {
      if (input.equals("-")) {
        return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      }
      Path p = Path.of(input);
      try {
        return Files.newBufferedReader(p, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new CliException(
            ExitCodes.USAGE, "no file " + input, "give the path of a 'timestamp,value' CSV");
      }
    }
  }
}
