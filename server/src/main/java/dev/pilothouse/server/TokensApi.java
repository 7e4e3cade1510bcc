package dev.pilothouse.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import dev.pilothouse.security.Tokens;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Maps API tokens to HTTP: create (the secret shown once), list (never secrets), revoke. */
final class TokensApi {
  private static final ObjectMapper JSON = JsonMapper.builder().build();

  private final Tokens tokens;
  private final EventSink events;
  private final InstantSource clock;

  TokensApi(Tokens tokens, EventSink events, InstantSource clock) {
    this.tokens = tokens;
    this.events = events;
    this.clock = clock;
  }

  void create(Context ctx) {
    JsonNode b;
    try {
      b = JSON.readTree(ctx.body());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new ApiError(400, "the request body is not JSON: " + e.getOriginalMessage(), HINT);
    }
    if (b == null || !b.isObject()) {
      throw new ApiError(400, "the request body must be a JSON object", HINT);
    }
    Role role;
    try {
      role = Role.of(b.path("role").asText(""));
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "role: " + e.getMessage(), HINT);
    }
    Duration expires = null;
    if (b.hasNonNull("expires")) {
      expires = Since.duration(b.get("expires").asText());
      if (expires == null) {
        throw new ApiError(
            400, "expires: '" + b.get("expires").asText() + "' is not a duration", HINT);
      }
    }
    try {
      Tokens.Created c =
          tokens.create(
              b.path("name").asText(null),
              role,
              strings(b, "services"),
              strings(b, "grants"),
              expires);
      events.emit(
          new NewEvent(
              clock.instant(),
              "TokenCreated",
              "",
              "",
              "API token '" + c.token().name() + "' created with the role " + role.id(),
              Map.of("token", c.token().name(), "role", role.id())));
      Map<String, Object> out = view(c.token());
      out.put("token", c.secret());
      Api.send(ctx, 201, out);
    } catch (Tokens.TokenException e) {
      throw new ApiError(400, e.getMessage(), HINT);
    }
  }

  void list(Context ctx) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ApiToken t : tokens.list()) {
      out.add(view(t));
    }
    Api.send(ctx, 200, out);
  }

  void revoke(Context ctx) {
    try {
      ApiToken t = tokens.revoke(ctx.pathParam("name"));
      events.emit(
          new NewEvent(
              clock.instant(),
              "TokenRevoked",
              "",
              "",
              "API token '" + t.name() + "' revoked",
              Map.of("token", t.name(), "role", t.role().id())));
      Api.send(ctx, 200, view(t));
    } catch (Tokens.TokenException e) {
      throw new ApiError(e.notFound ? 404 : 400, e.getMessage(), HINT);
    }
  }

  private Map<String, Object> view(ApiToken t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", t.name());
    m.put("role", t.role().id());
    m.put("services", t.services());
    m.put("grants", t.grants());
    m.put("created", t.created().toString());
    m.put("expires", t.expires() == null ? null : t.expires().toString());
    m.put("revoked", t.revoked() == null ? null : t.revoked().toString());
    m.put(
        "state",
        t.revoked() != null ? "revoked" : t.validAt(clock.instant()) ? "active" : "expired");
    return m;
  }

  private static List<String> strings(JsonNode b, String field) {
    JsonNode n = b.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return List.of();
    }
    if (!n.isArray() || n.size() > 100) {
      throw new ApiError(400, field + ": must be a list of at most 100 names", HINT);
    }
    List<String> out = new ArrayList<>();
    n.forEach(x -> out.add(x.asText()));
    return out;
  }

  private static final String HINT =
      "send {\"name\": \"grafana\", \"role\": \"viewer\", \"services\": [], \"grants\": [],"
          + " \"expires\": \"90d\"} (docs/security.md#roles)";
}
