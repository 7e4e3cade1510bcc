package dev.pilothouse.server;

import dev.pilothouse.core.security.ApiToken;
import dev.pilothouse.core.security.Role;
import dev.pilothouse.security.Tokens;
import io.javalin.http.Context;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Maps API tokens to HTTP: create (the secret shown once), list (never secrets), revoke. */
final class TokensApi {
  private final Tokens tokens;
  private final InstantSource clock;

  TokensApi(Tokens tokens, InstantSource clock) {
    this.tokens = tokens;
    this.clock = clock;
  }

  /** {@code POST /api/v1/tokens}. */
  record CreateRequest(
      String name, String role, List<String> services, List<String> grants, String expires) {}

  void create(Context ctx) {
    CreateRequest b = Api.body(ctx, CreateRequest.class);
    Role role;
    try {
      role = Role.of(b.role() == null ? "" : b.role());
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "role: " + e.getMessage(), HINT);
    }
    Duration expires = null;
    if (b.expires() != null) {
      expires = Since.duration(b.expires());
      if (expires == null) {
        throw new ApiError(400, "expires: '" + b.expires() + "' is not a duration", HINT);
      }
    }
    try {
      Tokens.Created c =
          tokens.create(
              b.name(),
              role,
              names(b.services(), "services"),
              names(b.grants(), "grants"),
              expires);
      Map<String, Object> out = view(c.token());
      out.put("token", c.secret());
      Api.send(ctx, 201, out);
    } catch (Tokens.TokenException e) {
      throw new ApiError(400, e.getMessage(), HINT);
    }
  }

  void list(Context ctx) {
    Api.send(ctx, 200, tokens.list().stream().map(this::view).toList());
  }

  void revoke(Context ctx) {
    try {
      Api.send(ctx, 200, view(tokens.revoke(ctx.pathParam("name"))));
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
    m.put("state", t.state(clock.instant()));
    return m;
  }

  private static List<String> names(List<String> list, String field) {
    if (list == null) {
      return List.of();
    }
    if (list.size() > 100) {
      throw new ApiError(400, field + ": must be a list of at most 100 names", HINT);
    }
    return list;
  }

  private static final String HINT =
      "send {\"name\": \"grafana\", \"role\": \"viewer\", \"services\": [], \"grants\": [],"
          + " \"expires\": \"90d\"} (docs/security.md#roles)";
}
