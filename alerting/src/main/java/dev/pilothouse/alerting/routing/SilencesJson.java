package dev.pilothouse.alerting.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Silence;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** Silences as Alertmanager's API v2 writes and reads them (so amtool-style clients work). */
public final class SilencesJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SilencesJson() {}

  /** A silence as {@code GET /api/v2/silence/{id}} answers it. */
  public static ObjectNode write(Silence s, Instant now) {
    ObjectNode o = JSON.createObjectNode();
    o.put("id", s.id());
    o.putObject("status").put("state", s.state(now));
    o.put("updatedAt", s.updatedAt().toString());
    ArrayNode ms = o.putArray("matchers");
    for (LabelMatcher m : s.matchers()) {
      ObjectNode x = ms.addObject();
      x.put("name", m.name());
      x.put("value", m.value());
      x.put("isRegex", m.op() == LabelMatcher.Op.REGEX || m.op() == LabelMatcher.Op.NOT_REGEX);
      x.put("isEqual", m.op() == LabelMatcher.Op.EQUAL || m.op() == LabelMatcher.Op.REGEX);
    }
    o.put("startsAt", s.startsAt().toString());
    o.put("endsAt", s.endsAt().toString());
    o.put("createdBy", s.createdBy());
    o.put("comment", s.comment());
    return o;
  }

  /** What a {@code POST /api/v2/silences} body asks for. */
  public record Request(
      String id,
      List<LabelMatcher> matchers,
      Instant startsAt,
      Instant endsAt,
      String createdBy,
      String comment) {}

  /**
   * Reads a silence from Alertmanager's JSON.
   *
   * @throws IllegalArgumentException naming the field that is missing or wrong
   */
  public static Request read(JsonNode body, Instant now) {
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object");
    }
    List<LabelMatcher> matchers = new ArrayList<>();
    JsonNode ms = body.path("matchers");
    if (!ms.isArray()) {
      throw new IllegalArgumentException(
          "matchers: give a list of {name, value, isRegex, isEqual}");
    }
    for (int i = 0; i < ms.size(); i++) {
      JsonNode m = ms.get(i);
      String name = m.path("name").asText("");
      if (!name.matches("[a-zA-Z_][a-zA-Z0-9_]*")) {
        throw new IllegalArgumentException(
            "matchers[" + i + "].name: invalid label name '" + name + "'");
      }
      if (!m.path("value").isTextual()) {
        throw new IllegalArgumentException("matchers[" + i + "].value: give a string");
      }
      boolean regex = m.path("isRegex").asBoolean(false);
      boolean equal = m.path("isEqual").asBoolean(true);
      LabelMatcher.Op op =
          regex
              ? (equal ? LabelMatcher.Op.REGEX : LabelMatcher.Op.NOT_REGEX)
              : (equal ? LabelMatcher.Op.EQUAL : LabelMatcher.Op.NOT_EQUAL);
      matchers.add(new LabelMatcher(name, op, m.path("value").asText()));
    }
    Instant starts = time(body, "startsAt", now);
    Instant ends = time(body, "endsAt", null);
    return new Request(
        body.path("id").asText(""),
        matchers,
        starts,
        ends,
        body.path("createdBy").asText(""),
        body.path("comment").asText(""));
  }

  private static Instant time(JsonNode body, String field, Instant dflt) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull() || n.asText().isEmpty()) {
      if (dflt == null) {
        throw new IllegalArgumentException(field + ": give an RFC 3339 time");
      }
      return dflt;
    }
    try {
      return java.time.OffsetDateTime.parse(n.asText()).toInstant();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(field + ": '" + n.asText() + "' is not an RFC 3339 time");
    }
  }
}
