package dev.pilothouse.spec;

import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.spec.AlertingSpec;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The {@code alerting:} section: rule files, read when the spec is applied. */
final class AlertingReader extends SectionReader {
  static final List<String> ALERTING =
      List.of(
          "ruleFiles",
          "evaluationInterval",
          "alertmanagerConfig",
          "alertmanagers",
          "builtinRules",
          "anomalies");

  static final List<String> ANOMALY = List.of("name", "expr", "interval");

  /** Anomaly detectors a spec may run (each scores up to 1,000 series). */
  static final int MAX_ANOMALIES = 100;

  /** Files a spec's globs may match in all. */
  static final int MAX_FILES = 1_000;

  /** Prometheus's default evaluation interval. */
  static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

  AlertingReader(SectionReader parent) {
    super(parent);
  }

  AlertingSpec alerting(Fields f) {
    Duration interval = duration(f, "evaluationInterval", DEFAULT_INTERVAL, false);
    List<String> globs = f.strings("ruleFiles").orElse(List.of());
    List<RuleGroup> groups = new ArrayList<>();
    List<Path> seen = new ArrayList<>();
    for (int i = 0; i < globs.size(); i++) {
      Node at = ((Node.ListNode) f.get("ruleFiles").orElseThrow()).items().get(i);
      String path = f.join("ruleFiles") + "[" + i + "]";
      List<Path> files = expand(globs.get(i), at, path);
      for (Path p : files) {
        if (seen.contains(p)) {
          continue;
        }
        seen.add(p);
        if (seen.size() > MAX_FILES) {
          problems.at(at, path, "the globs match more than " + MAX_FILES + " files", "narrow them");
          return AlertingSpec.none();
        }
        read(p, at, path, interval, groups);
      }
    }
    String amFile = f.string("alertmanagerConfig").orElse("");
    dev.pilothouse.core.alerting.routing.RoutingConfig routing = null;
    if (!amFile.isEmpty()) {
      routing =
          routing(amFile, f.get("alertmanagerConfig").orElseThrow(), f.join("alertmanagerConfig"));
    }
    List<String> forward = urls(f, "alertmanagers");
    if (forward.size() > 16) {
      problems.at(
          f.get("alertmanagers").orElseThrow(),
          f.join("alertmanagers"),
          "at most 16 Alertmanagers",
          "give the ones of one cluster");
    }
    return new AlertingSpec(
        globs,
        groups,
        amFile,
        routing,
        forward,
        f.bool("builtinRules").orElse(true),
        List.of(),
        anomalies(f, interval),
        null);
  }

  /** {@code anomalies: [{name, expr, interval}]}: the series scored by detectors. */
  private List<dev.pilothouse.core.anomaly.AnomalyDetection> anomalies(Fields f, Duration dflt) {
    List<dev.pilothouse.core.anomaly.AnomalyDetection> out = new ArrayList<>();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Fields a :
        objects(
            f,
            "anomalies",
            ANOMALY,
            "write '- {name: shop-traffic, expr: \'sum(rate(...[5m]))\'}'",
            MAX_ANOMALIES)) {
      int before = problems.list().size();
      String name =
          a.require("name", "give the detector a name, its detector label")
              .flatMap(n -> a.asString(n, a.join("name")))
              .orElse("");
      if (!name.isEmpty() && !name.matches("[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?")) {
        problems.at(
            a.get("name").orElseThrow(),
            a.join("name"),
            "invalid detector name '" + name + "'",
            "use lowercase letters, digits, '-' and '_'");
      } else if (!name.isEmpty() && !names.add(name)) {
        problems.at(
            a.get("name").orElseThrow(),
            a.join("name"),
            "a second detector named '" + name + "'",
            "give each detector its own name");
      }
      String expr =
          a.require("expr", "give the PromQL of the series to score")
              .flatMap(n -> a.asString(n, a.join("expr")))
              .orElse("");
      if (!expr.isEmpty()) {
        String problem = promql.problem(expr);
        if (problem != null) {
          problems.at(
              a.get("expr").orElseThrow(),
              a.join("expr"),
              problem,
              "check it with: pilothouse query '" + expr.replace("'", "") + "'");
        }
      }
      Duration every = duration(a, "interval", dflt, false);
      if (every.compareTo(Duration.ofSeconds(1)) < 0) {
        problems.at(
            a.get("interval").orElseThrow(), a.join("interval"), "must be at least 1s", "write 1m");
      }
      if (problems.list().size() == before) {
        out.add(new dev.pilothouse.core.anomaly.AnomalyDetection(name, expr, every));
      }
    }
    return out;
  }

  /** Reads the Alertmanager configuration file; its problems are the spec's. */
  private dev.pilothouse.core.alerting.routing.RoutingConfig routing(
      String file, Node at, String path) {
    Path p = baseDir.resolve(file).normalize();
    String shown = baseDir.relativize(p).toString();
    String text;
    try {
      if (!Files.isRegularFile(p)) {
        problems.at(
            at,
            path,
            "file " + file + " does not exist",
            "check the path; it is relative to the spec file");
        return null;
      }
      if (Files.size(p) > AlertmanagerConfig.MAX_BYTES) {
        problems.at(at, path, shown + " is larger than 1 MiB", "remove what is not needed");
        return null;
      }
      text = Files.readString(p);
    } catch (IOException | java.io.UncheckedIOException e) {
      problems.at(
          at, path, "cannot read " + shown + ": " + e.getMessage(), "check its permissions");
      return null;
    }
    AlertmanagerConfig.Parsed parsed = AlertmanagerConfig.read(shown, text);
    parsed.errors().forEach(problems::add);
    return parsed.config().orElse(null);
  }

  private void read(Path p, Node at, String path, Duration interval, List<RuleGroup> out) {
    String shown = baseDir.relativize(p).toString();
    String text;
    try {
      if (Files.size(p) > RuleFiles.MAX_BYTES) {
        problems.at(at, path, shown + " is larger than 1 MiB", "split it into several files");
        return;
      }
      text = Files.readString(p);
    } catch (IOException | java.io.UncheckedIOException e) {
      problems.at(
          at, path, "cannot read " + shown + ": " + e.getMessage(), "check its permissions");
      return;
    }
    RuleFiles.Parsed parsed = RuleFiles.read(shown, text, promql, interval);
    if (!parsed.valid()) {
      parsed.errors().forEach(problems::add);
      return;
    }
    out.addAll(parsed.groups());
  }

  /** The regular files a glob (relative to the spec's directory) matches, sorted. */
  private List<Path> expand(String glob, Node at, String path) {
    Path pattern = baseDir.resolve(glob).normalize();
    String text = pattern.toString();
    int firstGlob = indexOfGlob(text);
    if (firstGlob < 0) {
      if (!Files.isRegularFile(pattern)) {
        problems.at(at, path, "rule file " + glob + " does not exist", "check the path");
        return List.of();
      }
      return List.of(pattern);
    }
    Path root = Path.of(text.substring(0, text.lastIndexOf('/', firstGlob) + 1));
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + text);
    List<Path> out = new ArrayList<>();
    if (Files.isDirectory(root)) {
      try (Stream<Path> s = Files.walk(root, text.contains("**") ? 16 : depth(text, root))) {
        s.filter(Files::isRegularFile).filter(m::matches).sorted().forEach(out::add);
      } catch (IOException | java.io.UncheckedIOException e) {
        problems.at(at, path, "cannot list " + root + ": " + e.getMessage(), "check permissions");
      }
    }
    if (out.isEmpty()) {
      problems.at(
          at,
          path,
          "'" + glob + "' matches no file",
          "check the pattern; it is relative to the spec file's directory");
    }
    return out;
  }

  private static int indexOfGlob(String s) {
    for (int i = 0; i < s.length(); i++) {
      if ("*?[{".indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }

  private static int depth(String pattern, Path root) {
    String rest = pattern.substring(root.toString().length());
    return (int) rest.chars().filter(c -> c == '/').count() + 1;
  }
}
