package dev.pilothouse.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pilothouse query EXPR [--range 1h --step 15s] [--time T] [-o json]}. */
@Command(
    name = "query",
    description =
        "Evaluate a PromQL expression against the built-in metrics store: a table for instant"
            + " queries, a sparkline per series for ranges.")
final class QueryCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Parameters(index = "0", paramLabel = "EXPR", description = "A PromQL expression.")
  String expr;

  @Option(
      names = "--range",
      paramLabel = "DURATION",
      description = "Evaluate over this much time up to now (e.g. 1h), as a range query.")
  String range;

  @Option(
      names = "--step",
      paramLabel = "DURATION",
      description = "Resolution of a range query (default: range / 60, at least 1s).")
  String step;

  @Option(
      names = "--time",
      paramLabel = "UNIX_SECONDS",
      description = "Evaluation time of an instant query (default: now).")
  Double time;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private static final String BARS = "▁▂▃▄▅▆▇█";

  @Override
  public Integer call() {
    Map<String, Object> data;
    try {
      if (range != null) {
        double r = seconds(range, "--range");
        double s = step == null ? Math.max(1, Math.floor(r / 60)) : seconds(step, "--step");
        double end = System.currentTimeMillis() / 1000.0;
        data = common.client().queryRange(expr, end - r, end, s);
      } else {
        data = common.client().query(expr, time);
      }
    } catch (dev.pilothouse.client.ApiException e) {
      if (e.status() == 0 || e.status() == 401) {
        throw e; // no daemon, or no token: the usual messages and exit codes
      }
      // A query that does not parse or cannot run is a failed command (exit 1), not a bad spec.
      throw new CliException(
          ExitCodes.FAILURE,
          e.getMessage(),
          "see docs/metrics.md for the PromQL supported, and the query's sample budget");
    }
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(data));
      return ExitCodes.OK;
    }
    print(data, out);
    return ExitCodes.OK;
  }

  static double seconds(String d, String flag) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w)").matcher(d);
    double total = 0;
    int at = 0;
    while (m.find()) {
      if (m.start() != at) {
        break;
      }
      double v = Double.parseDouble(m.group(1));
      total +=
          switch (m.group(2)) {
            case "ms" -> v / 1000;
            case "s" -> v;
            case "m" -> v * 60;
            case "h" -> v * 3600;
            case "d" -> v * 86400;
            default -> v * 604800;
          };
      at = m.end();
    }
    if (at == 0 || at != d.length() || total <= 0) {
      throw new CliException(
          ExitCodes.USAGE,
          "invalid " + flag + " '" + d + "'",
          "write a duration such as 15s, 5m or 1h");
    }
    return total;
  }

  @SuppressWarnings("unchecked")
  static void print(Map<String, Object> data, PrintWriter out) {
    String type = (String) data.get("resultType");
    Object result = data.get("result");
    switch (type) {
      case "scalar", "string" -> out.println(((List<Object>) result).get(1));
      case "vector" -> {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("SERIES", "VALUE"));
        for (Object o : (List<Object>) result) {
          Map<String, Object> s = (Map<String, Object>) o;
          t.add(
              List.of(
                  series((Map<String, String>) s.get("metric")),
                  (String) ((List<Object>) s.get("value")).get(1)));
        }
        if (t.size() == 1) {
          out.println("(no data)");
        } else {
          out.print(Output.table(t));
        }
      }
      default -> {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("SERIES", "MIN", "MAX", "LAST", "TREND"));
        for (Object o : (List<Object>) result) {
          Map<String, Object> s = (Map<String, Object>) o;
          List<Object> values = (List<Object>) s.get("values");
          double[] v = new double[values.size()];
          for (int i = 0; i < v.length; i++) {
            v[i] =
                dev.pilothouse.client.PromFloat.parse(
                    (String) ((List<Object>) values.get(i)).get(1));
          }
          double min = Double.POSITIVE_INFINITY;
          double max = Double.NEGATIVE_INFINITY;
          for (double x : v) {
            if (!Double.isNaN(x)) {
              min = Math.min(min, x);
              max = Math.max(max, x);
            }
          }
          t.add(
              List.of(
                  series((Map<String, String>) s.get("metric")),
                  fmt(min),
                  fmt(max),
                  v.length == 0 ? "-" : fmt(v[v.length - 1]),
                  sparkline(v, min, max)));
        }
        if (t.size() == 1) {
          out.println("(no data)");
        } else {
          out.print(Output.table(t));
        }
      }
    }
  }

  static String series(Map<String, String> metric) {
    Map<String, String> m = new TreeMap<>(metric);
    String name = m.remove("__name__");
    StringBuilder b = new StringBuilder(name == null ? "" : name).append('{');
    boolean first = true;
    for (Map.Entry<String, String> e : m.entrySet()) {
      if (!first) {
        b.append(", ");
      }
      first = false;
      b.append(e.getKey()).append("=\"").append(e.getValue()).append('"');
    }
    return b.append('}').toString();
  }

  /** One character per point, scaled between min and max; a gap for NaN. */
  static String sparkline(double[] v, double min, double max) {
    int width = 40;
    StringBuilder b = new StringBuilder();
    int n = v.length;
    for (int k = 0; k < Math.min(width, n); k++) {
      int from = (int) ((long) k * n / Math.min(width, n));
      double x = v[from];
      if (Double.isNaN(x)) {
        b.append(' ');
        continue;
      }
      int level = max > min ? (int) Math.round((x - min) / (max - min) * (BARS.length() - 1)) : 0;
      b.append(BARS.charAt(level));
    }
    return b.toString();
  }

  static String fmt(double v) {
    if (Double.isInfinite(v) || Double.isNaN(v)) {
      return Double.toString(v);
    }
    return String.format(Locale.ROOT, "%.4g", v);
  }
}
