package dev.pilothouse.cli;

import dev.pilothouse.client.load.LoadGenerator;
import dev.pilothouse.client.load.LoadResult;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse load URL --rate R --duration D}. */
@Command(
    name = "load",
    description =
        "Send HTTP GETs at a constant rate (open model) and report status counts and latency"
            + " percentiles, measured from each request's intended start.")
final class LoadCommand implements Callable<Integer> {
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "URL", description = "An http:// URL.")
  String url;

  @Option(names = "--rate", required = true, paramLabel = "R", description = "Requests per second.")
  double rate;

  @Option(
      names = "--duration",
      required = true,
      paramLabel = "D",
      description = "How long: 30s, 2m, 1500ms.")
  String duration;

  @Option(
      names = "--connections",
      defaultValue = "10",
      paramLabel = "C",
      description = "Keep-alive connections (default ${DEFAULT-VALUE}).")
  int connections;

  @Option(
      names = "--timeout",
      defaultValue = "10s",
      paramLabel = "T",
      description = "A request unanswered this long is an error (default ${DEFAULT-VALUE}).")
  String timeout;

  @Option(
      names = "--start-at",
      paramLabel = "TIME",
      description =
          "Send the first request at this time (Unix seconds, or ISO 8601 such as"
              + " 2026-11-30T08:00:00Z), at most an hour ahead: lines up a load step with other"
              + " generators.")
  String startAt;

  @Option(names = "--debug", description = "Show stack traces of failures.")
  boolean debug;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private static void waitUntil(String at) {
    java.time.Instant when;
    try {
      when =
          at.matches("\\d+(\\.\\d+)?")
              ? java.time.Instant.ofEpochMilli(Math.round(Double.parseDouble(at) * 1000))
              : java.time.Instant.parse(at);
    } catch (java.time.format.DateTimeParseException e) {
      throw new CliException(
          ExitCodes.USAGE,
          "invalid --start-at '" + at + "'",
          "give Unix seconds (date +%s) or an ISO 8601 time such as 2026-11-30T08:00:00Z");
    }
    long waitMs = java.time.Duration.between(java.time.Instant.now(), when).toMillis();
    if (waitMs > 3_600_000) {
      throw new CliException(
          ExitCodes.USAGE,
          "--start-at is more than an hour ahead",
          "give a time within the next hour");
    }
    if (waitMs > 0) {
      try {
        Thread.sleep(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public Integer call() {
    Duration d = LoadGenerator.parseDuration(duration);
    Duration t = LoadGenerator.parseDuration(timeout);
    if (d == null || t == null) {
      throw new CliException(
          ExitCodes.USAGE,
          "invalid duration '" + (d == null ? duration : timeout) + "'",
          "write e.g. 30s, 2m or 1500ms");
    }
    LoadGenerator.Options options;
    try {
      options = new LoadGenerator.Options(URI.create(url), rate, d, connections, t);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, e.getMessage(), "see 'pilothouse load --help'");
    }
    if (startAt != null) {
      waitUntil(startAt);
    }
    PrintWriter err = spec.commandLine().getErr();
    boolean tty = System.console() != null;
    LoadResult r =
        LoadGenerator.run(
            options,
            tty
                ? (answered, errors, elapsed) -> {
                  err.print(
                      "\r"
                          + Progress.bar(
                              (long) Math.min(elapsed, d.toSeconds()),
                              Math.max(1, d.toSeconds()),
                              "s")
                          + "  "
                          + answered
                          + " answered, "
                          + errors
                          + " errors ");
                  err.flush();
                }
                : null);
    if (tty) {
      err.println();
    }
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("url", url);
      json.put("requests", r.requests());
      json.put("errors", r.errors());
      json.put("status", r.status());
      json.put("latency_ms", r.latencyMs());
      json.put("duration_s", r.durationS());
      json.put("rate", r.rate());
      json.put("achieved_rps", r.achievedRps());
      json.put("connections", r.connections());
      out.println(Output.json(json));
    } else {
      out.printf("target      %s%n", url);
      out.printf(
          "rate        %s/s for %s over %d connections (achieved %.1f/s)%n",
          fmt(r.rate()), duration, r.connections(), r.achievedRps());
      out.printf("requests    %d answered, %d errors (no answer)%n", r.requests(), r.errors());
      out.printf(
          "status      %s%n",
          r.status().entrySet().stream()
              .map(e -> e.getKey() + ": " + e.getValue())
              .collect(Collectors.joining(", ")));
      Map<String, Double> l = r.latencyMs();
      out.printf(
          "latency ms  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s%n",
          l.get("p50"), l.get("p90"), l.get("p99"), l.get("p999"), l.get("max"));
    }
    return ExitCodes.OK;
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }
}
