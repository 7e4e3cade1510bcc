package dev.pilothouse.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A silence from the dashboard's form, as Alertmanager's API v2 takes it. */
final class Silences {
  private static final Pattern MATCHER =
      Pattern.compile(
          "\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*");
  private static final Pattern DURATION = Pattern.compile("(\\d{1,6})([mhd])");

  private Silences() {}

  /**
   * The silence of these matchers ({@code name="value", other=~"re"}), for this long ("30m", "2h",
   * "1d") from now.
   *
   * @throws Dashboard.BadInput naming the field that is wrong and how to write it
   */
  static JsonNode of(String matchers, String duration, String comment, String by, Instant now) {
    if (matchers == null || matchers.isBlank()) {
      throw new Dashboard.BadInput(
          "matchers: at least one is needed", "write them as alertname=\"HighErrorRate\"");
    }
    if (matchers.length() > Dashboard.MAX_FIELD) {
      throw new Dashboard.BadInput("matchers: too long", "fewer matchers");
    }
    ArrayNode list = Json.MAPPER.createArrayNode();
    String text = matchers.trim();
    Matcher m = MATCHER.matcher(text);
    int at = 0;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new Dashboard.BadInput(
            "matchers: cannot read '" + text.substring(at) + "'",
            "write name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\","
                + " separated by commas");
      }
      int next = m.end();
      if (next < text.length()) {
        if (text.charAt(next) != ',') {
          throw new Dashboard.BadInput(
              "matchers: a comma is missing before '" + text.substring(next) + "'",
              "separate matchers with commas: a=\"1\", b=\"2\"");
        }
        next++;
      }
      String op = m.group(2);
      ObjectNode x = list.addObject();
      x.put("name", m.group(1));
      x.put("value", m.group(3).replace("\\\"", "\"").replace("\\\\", "\\"));
      x.put("isRegex", op.contains("~"));
      x.put("isEqual", !op.startsWith("!"));
      at = next;
    }
    Matcher d = DURATION.matcher(duration == null ? "" : duration.trim());
    if (!d.matches()) {
      throw new Dashboard.BadInput(
          "duration: '" + duration + "' is not a duration", "write 30m, 2h or 1d");
    }
    long n = Long.parseLong(d.group(1));
    Duration length =
        switch (d.group(2)) {
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
    if (length.isZero() || length.compareTo(Duration.ofDays(365)) > 0) {
      throw new Dashboard.BadInput("duration: " + duration + " is out of range", "from 1m to 365d");
    }
    ObjectNode s = Json.MAPPER.createObjectNode();
    s.set("matchers", list);
    s.put("startsAt", now.toString());
    s.put("endsAt", now.plus(length).toString());
    s.put("createdBy", by);
    s.put(
        "comment",
        comment == null || comment.isBlank()
            ? "silenced from the dashboard"
            : comment.substring(0, Math.min(comment.length(), 1000)));
    return s;
  }
}
