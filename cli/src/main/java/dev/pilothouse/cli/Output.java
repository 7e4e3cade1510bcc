package dev.pilothouse.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The {@code -o} option of read commands, and table and JSON printing. */
final class Output {
  static final ObjectMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
  static final ObjectMapper JSON_LINE = JsonMapper.builder().build();

  /** Output formats. */
  enum Format {
    table,
    json
  }

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table (default) or json.",
      defaultValue = "table")
  Format format = Format.table;

  boolean json() {
    return format == Format.json;
  }

  static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serializing output", e);
    }
  }

  static String jsonLine(Object o) {
    try {
      return JSON_LINE.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serializing output", e);
    }
  }

  /** Renders rows as aligned columns; the first row is the header. */
  static String table(List<List<String>> rows) {
    if (rows.isEmpty()) {
      return "";
    }
    int cols = rows.get(0).size();
    int[] width = new int[cols];
    for (List<String> r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    for (List<String> r : rows) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < cols; i++) {
        String c = r.get(i);
        cells.add(i == cols - 1 ? c : c + " ".repeat(width[i] - c.length()));
      }
      b.append(String.join("  ", cells).stripTrailing()).append('\n');
    }
    return b.toString();
  }

  /** A short age such as 5s, 3m, 2h, 4d. */
  static String age(String since, Instant now) {
    try {
      Duration d = Duration.between(Instant.parse(since), now);
      if (d.toSeconds() < 60) {
        return Math.max(0, d.toSeconds()) + "s";
      } else if (d.toMinutes() < 60) {
        return d.toMinutes() + "m";
      } else if (d.toHours() < 48) {
        return d.toHours() + "h";
      }
      return d.toDays() + "d";
    } catch (RuntimeException e) {
      return "?";
    }
  }

  /**
   * How long ago an ISO-8601 instant was: 45s ago, 12m ago, 3h ago (the text itself if not one).
   */
  static String ago(java.time.Instant now, String at) {
    try {
      long s = java.time.Duration.between(java.time.Instant.parse(at), now).toSeconds();
      return s < 120 ? s + "s ago" : s < 7200 ? s / 60 + "m ago" : s / 3600 + "h ago";
    } catch (java.time.format.DateTimeParseException e) {
      return at;
    }
  }
}
