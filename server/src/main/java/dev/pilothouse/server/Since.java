package dev.pilothouse.server;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses "--since" values: a duration ago ("5m", "1h30m") or an RFC 3339 timestamp. */
final class Since {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Since() {}

  static Instant parse(String s, Instant now) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      // not a timestamp; try a duration
    }
    Duration d = duration(s);
    if (d == null) {
      throw new ApiError(
          400,
          "invalid --since value '" + s + "'",
          "give a duration such as 5m or 1h30m, or a timestamp such as 2026-01-02T15:04:05Z");
    }
    return now.minus(d);
  }

  /** A duration such as 5m, 1h30m or 7d; null when s is not one. */
  static Duration duration(String s) {
    try {
      return parseDuration(s);
    } catch (NumberFormatException | ArithmeticException e) {
      return null; // a number too large for a duration
    }
  }

  private static Duration parseDuration(String s) {
    Matcher m = PART.matcher(s);
    int at = 0;
    Duration d = Duration.ZERO;
    while (m.find()) {
      if (m.start() != at) {
        break;
      }
      long v = Long.parseLong(m.group(1));
      d =
          d.plus(
              switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(v);
                case "s" -> Duration.ofSeconds(v);
                case "m" -> Duration.ofMinutes(v);
                case "h" -> Duration.ofHours(v);
                default -> Duration.ofDays(v);
              });
      at = m.end();
    }
    return at == 0 || at != s.length() ? null : d;
  }
}
