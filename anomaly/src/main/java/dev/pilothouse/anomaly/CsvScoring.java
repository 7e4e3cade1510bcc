package dev.pilothouse.anomaly;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * Offline scoring of a {@code timestamp,value} CSV into {@code timestamp,value,anomaly_score}, one
 * row out per row in, streamed (any length in constant memory). Timestamps are ISO-8601 (with or
 * without a zone, {@code T} or a space between date and time; without a zone they are UTC, as in
 * the Numenta Anomaly Benchmark's files) or epoch seconds. A header row is recognised and
 * rewritten; an empty value is a missing sample (scored 0).
 */
public final class CsvScoring {
  private CsvScoring() {}

  /** The longest line read. */
  public static final int MAX_LINE = 64 * 1024;

  /** A problem with the input, naming its line and how to fix it. */
  public static final class InputException extends Exception {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
      super(message);
    }
  }

  /** What was scored. */
  public record Summary(long rows, long missing, long anomalous) {}

  /** One scored row, for writers other than CSV. */
  public interface RowSink {
    void row(String timestamp, String value, double score) throws IOException;
  }

  /**
   * Scores every row of the input.
   *
   * @param name the input's name in messages
   * @throws InputException naming the line of the first bad row (rows before it were written)
   */
  public static Summary score(String name, BufferedReader in, Detector d, RowSink out)
      throws IOException, InputException {
    long line = 0;
    long rows = 0;
    long missing = 0;
    long anomalous = 0;
    long lastSecond = Long.MIN_VALUE;
    String text;
    while ((text = readLine(in, name, line + 1)) != null) {
      line++;
      if (text.isBlank() || text.startsWith("#")) {
        continue;
      }
      String[] cols = text.split(",", -1);
      if (cols.length < 2) {
        throw new InputException(
            name
                + ":"
                + line
                + ": expected 'timestamp,value', got '"
                + abbreviate(text)
                + "' (one sample per line, e.g. 2024-05-01T12:00:00Z,42.5)");
      }
      String ts = cols[0].trim();
      String raw = cols[1].trim();
      if (rows == 0 && lastSecond == Long.MIN_VALUE && isHeader(ts, raw)) {
        continue;
      }
      long second = epochSecond(ts, name, line);
      if (second < lastSecond) {
        throw new InputException(
            name
                + ":"
                + line
                + ": timestamp "
                + ts
                + " is earlier than the row before it (sort the file by time)");
      }
      lastSecond = second;
      double value;
      if (raw.isEmpty() || raw.equalsIgnoreCase("nan")) {
        value = Double.NaN;
        missing++;
      } else {
        try {
          value = Double.parseDouble(raw);
        } catch (NumberFormatException e) {
          throw new InputException(
              name
                  + ":"
                  + line
                  + ": value '"
                  + abbreviate(raw)
                  + "' is not a number (write e.g. 42.5; leave it empty for a missing sample)");
        }
      }
      double s = d.update(second, value);
      rows++;
      if (s >= 0.5) {
        anomalous++;
      }
      out.row(ts, raw, s);
    }
    return new Summary(rows, missing, anomalous);
  }

  /** Writes {@code timestamp,value,anomaly_score} rows. */
  public static RowSink csv(Writer w) throws IOException {
    w.write("timestamp,value,anomaly_score\n");
    return (ts, value, score) -> {
      w.write(ts);
      w.write(',');
      w.write(value);
      w.write(',');
      w.write(format(score));
      w.write('\n');
    };
  }

  /** A score with at most six decimals: 0, 1, 0.312411. */
  public static String format(double score) {
    return BigDecimal.valueOf(Math.round(score * 1e6), 6).stripTrailingZeros().toPlainString();
  }

  private static boolean isHeader(String ts, String value) {
    return !ts.isEmpty()
        && !Character.isDigit(ts.charAt(0))
        && !value.isEmpty()
        && !Character.isDigit(value.charAt(0))
        && value.charAt(0) != '-'
        && !value.equalsIgnoreCase("nan");
  }

  private static final DateTimeFormatter SPACE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss[.SSS]", Locale.ROOT);

  static long epochSecond(String ts, String name, long line) throws InputException {
    if (!ts.isEmpty()
        && (Character.isDigit(ts.charAt(0)) && !ts.contains("-") && !ts.contains(":"))) {
      try {
        double v = Double.parseDouble(ts);
        if (v >= 0 && v < 1e11) {
          return (long) Math.floor(v);
        }
      } catch (NumberFormatException e) {
        // fall through to the message below
      }
    } else {
      try {
        return OffsetDateTime.parse(ts.replace(' ', 'T')).toEpochSecond();
      } catch (DateTimeParseException e) {
        // without a zone
      }
      try {
        return LocalDateTime.parse(ts.replace(' ', 'T')).toEpochSecond(ZoneOffset.UTC);
      } catch (DateTimeParseException e) {
        // the NAB form with a space
      }
      try {
        return LocalDateTime.parse(ts, SPACE).toEpochSecond(ZoneOffset.UTC);
      } catch (DateTimeParseException e) {
        // not a time
      }
      try {
        return Instant.parse(ts).getEpochSecond();
      } catch (DateTimeParseException e) {
        // not a time
      }
    }
    throw new InputException(
        name
            + ":"
            + line
            + ": timestamp '"
            + abbreviate(ts)
            + "' is neither ISO-8601 nor epoch seconds (write e.g. 2024-05-01T12:00:00Z,"
            + " 2024-05-01 12:00:00 or 1714564800)");
  }

  private static String readLine(BufferedReader in, String name, long line)
      throws IOException, InputException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        return stripCr(b);
      }
      if (b.length() >= MAX_LINE) {
        throw new InputException(
            name + ":" + line + ": the line is longer than 64 KiB (is this a CSV of samples?)");
      }
      b.append((char) c);
    }
    return b.isEmpty() ? null : stripCr(b);
  }

  private static String stripCr(StringBuilder b) {
    int n = b.length();
    return n > 0 && b.charAt(n - 1) == '\r' ? b.substring(0, n - 1) : b.toString();
  }

  private static String abbreviate(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "…" : s;
  }
}
