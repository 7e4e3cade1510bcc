package dev.pilothouse.flags;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.flags.Flag;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenFeature Remote Evaluation Protocol (OFREP) over the flags: {@code POST
 * /ofrep/v1/evaluate/flags/{key}} and the bulk {@code POST /ofrep/v1/evaluate/flags} (with ETag),
 * each with a body {@code {"context": {"targetingKey": "user-1", ...}}}. Framework-free: the server
 * hands it the body and sends back what it returns.
 */
public final class Ofrep {
  /** What to answer: a status, a JSON body (null for none) and an ETag (bulk only). */
  public record Response(int status, JsonNode body, String etag) {}

  /** Attributes a context may carry, and the longest value; beyond that: INVALID_CONTEXT. */
  public static final int MAX_ATTRIBUTES = 100;

  public static final int MAX_VALUE_CHARS = 4096;

  private final Flags flags;

  public Ofrep(Flags flags) {
    this.flags = flags;
  }

  /** Evaluates one flag. */
  public Response evaluate(String key, byte[] body) {
    Map<String, Object> context;
    try {
      context = context(body);
    } catch (IllegalArgumentException e) {
      return new Response(400, error(key, "INVALID_CONTEXT", e.getMessage()), null);
    }
    Evaluator.Result r = flags.evaluate(key, context);
    if (r.errorCode() != null) {
      int status =
          switch (r.errorCode()) {
            case "FLAG_NOT_FOUND" -> 404;
            default -> 400;
          };
      return new Response(status, error(key, r.errorCode(), r.errorDetails()), null);
    }
    return new Response(200, success(r), null);
  }

  /** Evaluates every flag; 304 when the client's If-None-Match is the answer's ETag. */
  public Response bulk(byte[] body, String ifNoneMatch) {
    Map<String, Object> context;
    try {
      context = context(body);
    } catch (IllegalArgumentException e) {
      ObjectNode err = FlagJson.JSON.createObjectNode();
      err.put("errorCode", "INVALID_CONTEXT");
      err.put("errorDetails", e.getMessage());
      return new Response(400, err, null);
    }
    ObjectNode out = FlagJson.JSON.createObjectNode();
    ArrayNode all = out.putArray("flags");
    for (Flag f : flags.list()) {
      Evaluator.Result r = Evaluator.evaluate(f, context);
      all.add(r.errorCode() == null ? success(r) : error(f.key(), r.errorCode(), r.errorDetails()));
    }
    String etag = etag(out);
    if (etag.equals(ifNoneMatch)) {
      return new Response(304, null, etag);
    }
    return new Response(200, out, etag);
  }

  private static Map<String, Object> context(byte[] body) {
    if (body == null || body.length == 0) {
      return Map.of();
    }
    JsonNode n;
    try {
      n = FlagJson.JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the body is not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("the body could not be read: " + e.getMessage());
    }
    if (n == null || n.isNull() || n.isMissingNode()) {
      return Map.of();
    }
    JsonNode c = n.get("context");
    if (c == null || c.isNull()) {
      return Map.of();
    }
    if (!c.isObject()) {
      throw new IllegalArgumentException("'context' must be an object");
    }
    if (c.size() > MAX_ATTRIBUTES) {
      throw new IllegalArgumentException(
          "the context has " + c.size() + " attributes; at most " + MAX_ATTRIBUTES);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : c.properties()) {
      JsonNode v = e.getValue();
      Object value = v.isValueNode() ? (v.isNumber() ? v.numberValue() : v.asText()) : v.toString();
      if (String.valueOf(value).length() > MAX_VALUE_CHARS) {
        throw new IllegalArgumentException(
            "context attribute '"
                + e.getKey()
                + "' is longer than "
                + MAX_VALUE_CHARS
                + " characters");
      }
      out.put(e.getKey(), v.isNull() ? null : value);
    }
    return out;
  }

  private static ObjectNode success(Evaluator.Result r) {
    ObjectNode o = FlagJson.JSON.createObjectNode();
    o.put("key", r.key());
    o.set("value", FlagJson.JSON.valueToTree(r.value()));
    o.put("reason", r.reason());
    o.put("variant", r.variant());
    o.putObject("metadata");
    return o;
  }

  private static ObjectNode error(String key, String code, String details) {
    ObjectNode o = FlagJson.JSON.createObjectNode();
    o.put("key", key);
    o.put("errorCode", code);
    o.put("errorDetails", details);
    return o;
  }

  private static String etag(JsonNode n) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256")
              .digest(FlagJson.JSON.writeValueAsString(n).getBytes(StandardCharsets.UTF_8));
      return "\"" + HexFormat.of().formatHex(h, 0, 16) + "\"";
    } catch (NoSuchAlgorithmException | JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
