package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import dev.pilothouse.spec.ParsedSpec;
import dev.pilothouse.spec.SpecError;
import dev.pilothouse.spec.SpecParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A spec file read from disk, with the variables it refers to. */
record SpecFile(Path path, String text, Map<String, String> vars) {

  static SpecFile read(Path file) {
    Path p = file.toAbsolutePath().normalize();
    String text = text(file, "spec file", "check the path given to -f");
    Map<String, String> vars = new LinkedHashMap<>();
    for (String name : SpecParser.referencedVariables(text)) {
      String v = System.getenv(name);
      if (v != null) {
        vars.put(name, v);
      }
    }
    return new SpecFile(p, text, vars);
  }

  /**
   * A file of YAML the CLI sends (a spec, an experiment): at most 1 MiB of UTF-8, else a clear
   * error naming it.
   */
  static String text(Path file, String what, String missingHint) {
    try {
      if (Files.size(file) > SpecParser.MAX_BYTES) {
        throw new CliException(
            ExitCodes.INVALID_SPEC, file + " is larger than 1 MiB", "is this the right file?");
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new CliException(ExitCodes.USAGE, what + " " + file + " does not exist", missingHint);
    } catch (MalformedInputException e) {
      throw new CliException(
          ExitCodes.INVALID_SPEC, file + " is not UTF-8 text", "save it as UTF-8");
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.FAILURE,
          "cannot read " + file + ": " + e.getMessage(),
          "check its permissions");
    }
  }

  String displayName() {
    Path cwd = Path.of("").toAbsolutePath();
    return path.startsWith(cwd) ? cwd.relativize(path).toString() : path.toString();
  }

  ParsedSpec parse() {
    return SpecParser.parse(
        displayName(), text, path.getParent(), vars, dev.pilothouse.tsdb.promql.Parser::problem);
  }

  /**
   * Parses locally; prints every warning (a password in plain text) and every problem, and fails
   * with exit code 4 when invalid.
   */
  ParsedSpec check(PrintWriter err) {
    ParsedSpec parsed = parse();
    for (SpecError w : parsed.warnings()) {
      err.println("warning: " + w);
    }
    if (!parsed.valid()) {
      List<SpecError> errors = parsed.errors();
      for (SpecError e : errors) {
        err.println(e);
      }
      throw new CliException(
          ExitCodes.INVALID_SPEC,
          displayName()
              + " has "
              + errors.size()
              + " problem"
              + (errors.size() == 1 ? "" : "s")
              + "; nothing was applied",
          "fix them and try again");
    }
    return parsed;
  }

  Wire.ApplyRequest request() {
    return new Wire.ApplyRequest(displayName(), text, path.getParent().toString(), vars);
  }
}
