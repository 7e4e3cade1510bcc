package dev.pilothouse.server;

import dev.pilothouse.core.spec.SecretsSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.security.Rotator;
import dev.pilothouse.security.Secrets;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Maps secrets to HTTP (admin only, see Access): set, list (never values), read one value, delete,
 * rotate. Values travel only in the body of a set and of a read.
 */
final class SecretsApi {
  private final Secrets secrets;
  private final Rotator rotator;
  private final Supplier<Spec> spec;

  SecretsApi(Secrets secrets, Rotator rotator, Supplier<Spec> spec) {
    this.secrets = secrets;
    this.rotator = rotator;
    this.spec = spec;
  }

  /** {@code PUT /api/v1/secrets/{name}}. */
  record SetRequest(String value) {}

  void set(Context ctx) {
    String name = ctx.pathParam("name");
    SetRequest b = Api.body(ctx, SetRequest.class);
    try {
      int version = secrets.set(name, b.value());
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("name", name);
      out.put("version", version);
      out.put("usedBy", Secrets.usedBy(spec.get(), name));
      Api.send(ctx, 200, out);
    } catch (Secrets.SecretException e) {
      throw new ApiError(400, e.getMessage(), HINT);
    }
  }

  void list(Context ctx) {
    Spec s = spec.get();
    Api.send(
        ctx,
        200,
        secrets.list().stream()
            .map(
                v -> {
                  Map<String, Object> m = new LinkedHashMap<>();
                  m.put("name", v.name());
                  m.put("version", v.version());
                  m.put("created", text(v.createdAt()));
                  m.put("updated", text(v.updatedAt()));
                  m.put("rotated", text(v.rotatedAt()));
                  SecretsSpec.Policy p = s.secrets().policy(v.name()).orElse(null);
                  m.put("rotation", p == null ? null : p.kind());
                  m.put(
                      "every",
                      p == null || p.every() == null
                          ? null
                          : dev.pilothouse.core.spec.SpecTerms.duration(p.every()));
                  m.put("rotating", v.rotation());
                  m.put("lastFailure", v.lastFailure());
                  m.put("failedAt", text(v.failedAt()));
                  m.put("usedBy", Secrets.usedBy(s, v.name()));
                  return m;
                })
            .toList());
  }

  void value(Context ctx) {
    String name = ctx.pathParam("name");
    Secrets.Revealed r = secrets.reveal(name).orElseThrow(() -> notFound(name));
    Api.send(ctx, 200, Map.of("name", r.name(), "version", r.version(), "value", r.value()));
  }

  void delete(Context ctx) {
    String name = ctx.pathParam("name");
    List<String> users = Secrets.usedBy(spec.get(), name);
    if (!users.isEmpty()) {
      throw new ApiError(
          409,
          "secret '" + name + "' is used by " + String.join(", ", users),
          "remove it from their env and apply the spec first");
    }
    try {
      secrets.delete(name);
      Api.send(ctx, 200, Map.of("name", name, "deleted", true));
    } catch (Secrets.SecretException e) {
      throw new ApiError(
          e.notFound ? 404 : 400,
          e.getMessage(),
          e.notFound ? "see 'pilothouse secrets list'" : HINT);
    }
  }

  void rotate(Context ctx) {
    if (!dev.pilothouse.core.security.SecretRecord.NAME.matcher(ctx.pathParam("name")).matches()) {
      throw new ApiError(400, "'" + ctx.pathParam("name") + "' is not a secret name", HINT);
    }
    try {
      Rotator.Outcome o = rotator.rotate(ctx.pathParam("name"));
      Api.send(
          ctx,
          200,
          Map.of(
              "name",
              o.name(),
              "version",
              o.version(),
              "kind",
              o.kind(),
              "restarted",
              o.restarted()));
    } catch (Secrets.SecretException e) {
      throw new ApiError(e.notFound ? 404 : 409, e.getMessage(), "see 'pilothouse secrets list'");
    }
  }

  /**
   * The secrets the spec names that are not set (made first by their declared rotation, see
   * Rotator.firstValues): apply refuses them.
   */
  static List<String> missing(Spec s, Rotator rotator) {
    try {
      return rotator.firstValues(s);
    } catch (Secrets.SecretException e) {
      throw new ApiError(
          409,
          e.getMessage(),
          "set the secret with 'pilothouse secrets set NAME', then apply again");
    }
  }

  private static ApiError notFound(String name) {
    return new ApiError(404, "no secret named '" + name + "'", "see 'pilothouse secrets list'");
  }

  private static String text(java.time.Instant t) {
    return t == null ? null : t.toString();
  }

  private static final String HINT =
      "send {\"value\": \"...\"} (docs/security.md#secrets); names are 1 to 63 lowercase letters,"
          + " digits, '.', '_' and '-'";
}
