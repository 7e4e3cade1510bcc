package dev.pilothouse.tsdb.scrape;

import dev.pilothouse.tsdb.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Parses the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text: samples with
 * labels and optional timestamps (milliseconds in the Prometheus format, seconds in OpenMetrics),
 * and the HELP, TYPE and UNIT metadata. Exemplars are skipped.
 */
public final class Exposition {
  private Exposition() {}

  /** One parsed sample; timestampMs is null when the exposition gave none. */
  public record Sample(Labels labels, double value, Long timestampMs) {}

  /** Metadata of a metric family. */
  public record Metadata(String type, String help, String unit) {}

  /** Everything a scrape returned. */
  public record Result(List<Sample> samples, Map<String, Metadata> metadata) {}

  /** A line that does not parse; the message names the line. */
  public static final class FormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FormatException(int line, String message) {
      super("line " + line + ": " + message);
    }
  }

  /**
   * Bounds on one scrape, applied while it is read: a body over maxBytes or more than maxSamples
   * samples fails as soon as the limit is passed, before the rest is read.
   *
   * @param maxBytes bytes of the body (0: no limit)
   * @param maxSamples samples (0: no limit)
   */
  public record Limits(long maxBytes, int maxSamples) {
    public static final Limits NONE = new Limits(0, 0);
  }

  /** A body or sample limit passed while reading a scrape. */
  public static final class LimitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LimitException(String message) {
      super(message);
    }
  }

  /** Parses text; openMetrics selects seconds for timestamps (and is implied by "# EOF"). */
  public static Result parse(String text, boolean openMetrics) {
    return parse(text, openMetrics, Limits.NONE);
  }

  /** Parses text within limits; openMetrics as {@link #parse(String, boolean)}. */
  public static Result parse(String text, boolean openMetrics, Limits limits) {
    if (limits.maxBytes() > 0 && text.length() > limits.maxBytes()) {
      throw tooLarge(limits);
    }
    boolean om = openMetrics || text.contains("\n# EOF") || text.startsWith("# EOF");
    try {
      return parse(new java.io.BufferedReader(new java.io.StringReader(text)), om, limits);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Parses a body as it is read, line by line (the caller bounds the bytes the reader can give).
   * Stops at the first line over a limit.
   */
  public static Result parse(java.io.BufferedReader in, boolean om, Limits limits)
      throws java.io.IOException {
    List<Sample> out = new ArrayList<>();
    Map<String, String[]> meta = new TreeMap<>();
    int lineNo = 0;
    String line;
    while ((line = in.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("#")) {
        comment(line, meta);
        continue;
      }
      if (limits.maxSamples() > 0 && out.size() >= limits.maxSamples()) {
        throw new LimitException(
            "sample limit exceeded: more than "
                + limits.maxSamples()
                + " samples (raise metrics.sampleLimit or expose fewer series)");
      }
      out.add(sample(line, lineNo, om));
    }
    Map<String, Metadata> md = new LinkedHashMap<>();
    meta.forEach((k, v) -> md.put(k, new Metadata(v[0], v[1], v[2])));
    return new Result(out, md);
  }

  static LimitException tooLarge(Limits limits) {
    return new LimitException(
        "body size limit exceeded: more than "
            + limits.maxBytes()
            + " bytes (raise metrics.bodySizeLimit or expose fewer series)");
  }

  private static void comment(String line, Map<String, String[]> meta) {
    String[] parts = line.split("\\s+", 4);
    if (parts.length < 3) {
      return;
    }
    String kind = parts[1];
    String name = parts[2];
    String rest = parts.length > 3 ? parts[3] : "";
    int idx =
        switch (kind) {
          case "TYPE" -> 0;
          case "HELP" -> 1;
          case "UNIT" -> 2;
          default -> -1;
        };
    if (idx >= 0) {
      meta.computeIfAbsent(name, k -> new String[] {"unknown", "", ""})[idx] =
          idx == 1 ? unescapeHelp(rest) : rest;
    }
  }

  private static String unescapeHelp(String s) {
    return s.replace("\\n", "\n").replace("\\\\", "\\");
  }

  private static Sample sample(String line, int lineNo, boolean om) {
    int p = 0;
    int len = line.length();
    while (p < len && line.charAt(p) != '{' && line.charAt(p) != ' ' && line.charAt(p) != '\t') {
      p++;
    }
    String name = line.substring(0, p);
    if (name.isEmpty() || !validName(name)) {
      throw new FormatException(lineNo, "invalid metric name '" + name + "'");
    }
    Map<String, String> labels = new TreeMap<>();
    labels.put(Labels.NAME, name);
    if (p < len && line.charAt(p) == '{') {
      p++;
      while (true) {
        while (p < len && (line.charAt(p) == ' ' || line.charAt(p) == ',')) {
          p++;
        }
        if (p < len && line.charAt(p) == '}') {
          p++;
          break;
        }
        int ls = p;
        while (p < len && line.charAt(p) != '=' && line.charAt(p) != ' ') {
          p++;
        }
        String ln = line.substring(ls, p);
        while (p < len && line.charAt(p) == ' ') {
          p++;
        }
        if (p >= len || line.charAt(p) != '=' || ln.isEmpty()) {
          throw new FormatException(lineNo, "expected label=\"value\" after '" + name + "{'");
        }
        if (!dev.pilothouse.tsdb.LabelLimits.validName(ln, false)) {
          throw new FormatException(lineNo, "invalid label name '" + ln + "'");
        }
        p++;
        while (p < len && line.charAt(p) == ' ') {
          p++;
        }
        if (p >= len || line.charAt(p) != '"') {
          throw new FormatException(lineNo, "label value of '" + ln + "' must be quoted");
        }
        p++;
        StringBuilder v = new StringBuilder();
        boolean closed = false;
        while (p < len) {
          char c = line.charAt(p++);
          if (c == '\\' && p < len) {
            char e = line.charAt(p++);
            v.append(e == 'n' ? '\n' : e);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            v.append(c);
          }
        }
        if (!closed) {
          throw new FormatException(lineNo, "unterminated label value of '" + ln + "'");
        }
        if (labels.put(ln, v.toString()) != null && !ln.equals(Labels.NAME)) {
          throw new FormatException(lineNo, "duplicate label '" + ln + "'");
        }
      }
    }
    String rest = line.substring(p).trim();
    int hash = rest.indexOf(" # ");
    if (hash >= 0) {
      rest = rest.substring(0, hash).trim(); // an exemplar
    }
    String[] f = rest.split("\\s+");
    if (f.length == 0 || f[0].isEmpty()) {
      throw new FormatException(lineNo, "no value for '" + name + "'");
    }
    double value = parseValue(f[0], lineNo);
    Long ts = null;
    if (f.length > 1) {
      try {
        ts = om ? Math.round(Double.parseDouble(f[1]) * 1000) : Long.parseLong(f[1]);
      } catch (NumberFormatException e) {
        throw new FormatException(lineNo, "invalid timestamp '" + f[1] + "'");
      }
    }
    return new Sample(Labels.of(labels), value, ts);
  }

  private static boolean validName(String s) {
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      boolean ok =
          Character.isLetter(c) && c < 128
              || c == '_'
              || c == ':'
              || (k > 0 && Character.isDigit(c));
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static double parseValue(String s, int lineNo) {
    try {
      return dev.pilothouse.tsdb.promql.Value.parseFloat(s);
    } catch (NumberFormatException e) {
      throw new FormatException(lineNo, "invalid value '" + s + "'");
    }
  }
}
