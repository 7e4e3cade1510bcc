package dev.pilothouse.spec;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations ("250ms", "1h30m"), memory sizes ("256Mi") and CPU amounts ("500m"). */
final class Quantities {
  private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h|d|w)");
  private static final Pattern MEMORY =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(Ki|Mi|Gi|Ti|K|k|M|G|T)?B?");
  private static final Pattern MILLICORES = Pattern.compile("(\\d+)m");

  private Quantities() {}

  static Optional<Duration> duration(String s) {
    if (s.isEmpty()) {
      return Optional.empty();
    }
    Matcher m = DURATION_PART.matcher(s);
    int at = 0;
    double nanos = 0;
    while (m.find()) {
      if (m.start() != at) {
        return Optional.empty();
      }
      double v = Double.parseDouble(m.group(1));
      nanos +=
          v
              * switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                case "w" -> 7 * 86400e9;
                default -> 86400e9;
              };
      at = m.end();
    }
    if (at != s.length() || nanos > 365 * 86400e9) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos((long) nanos));
  }

  static Optional<Long> memory(String s) {
    Matcher m = MEMORY.matcher(s.trim());
    if (!m.matches()) {
      return Optional.empty();
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2);
    double mult =
        switch (unit) {
          case "Ki" -> 1024d;
          case "Mi" -> 1024d * 1024;
          case "Gi" -> 1024d * 1024 * 1024;
          case "Ti" -> 1024d * 1024 * 1024 * 1024;
          case "K", "k" -> 1e3;
          case "M" -> 1e6;
          case "G" -> 1e9;
          case "T" -> 1e12;
          default -> 1;
        };
    double bytes = v * mult;
    return bytes > 1L << 50 ? Optional.empty() : Optional.of((long) bytes);
  }

  static Optional<Double> cpu(String s) {
    Matcher m = MILLICORES.matcher(s.trim());
    try {
      if (m.matches()) {
        return Optional.of(Long.parseLong(m.group(1)) / 1000.0);
      }
      return Optional.of(Double.parseDouble(s.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
