package dev.pilothouse.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.client.Wire;
import dev.pilothouse.core.flags.FlagChange;
import dev.pilothouse.flags.FlagJson;
import dev.pilothouse.flags.FlagRolloutJson;
import dev.pilothouse.flags.FlagRollouts;
import dev.pilothouse.flags.Flags;
import dev.pilothouse.flags.Ofrep;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * Maps the flags module to HTTP: {@code /api/v1/flags…} (list, get, put, delete, history, gradual
 * rollouts) and the OpenFeature Remote Evaluation Protocol at {@code /ofrep/v1/evaluate/flags…}.
 * The logic is the flags module's; this only reads requests and writes answers.
 */
final class FlagsApi {
  private final Flags flags;
  private final FlagRollouts rollouts;
  private final Ofrep ofrep;

  FlagsApi(Flags flags, FlagRollouts rollouts) {
    this.flags = flags;
    this.rollouts = rollouts;
    this.ofrep = new Ofrep(flags);
  }

  /** Starts a gradual change: {"to", "steps", "every", "checks"}. */
  void startRollout(Context ctx) {
    String key = ctx.pathParam("key");
    try {
      FlagRolloutJson.Plan plan =
          FlagRolloutJson.read(key, json(ctx), dev.pilothouse.tsdb.promql.Parser::problem);
      var r =
          rollouts.start(key, plan.to(), plan.steps(), plan.every(), plan.checks(), source(ctx));
      Api.send(ctx, 201, FlagRolloutJson.write(r));
    } catch (Flags.InvalidFlagException e) {
      throw invalid(key, e);
    } catch (FlagRollouts.RefusedException e) {
      throw new ApiError(409, e.getMessage(), "see 'pilothouse flags rollout status " + key + "'");
    }
  }

  void rollout(Context ctx) {
    String key = ctx.pathParam("key");
    Api.send(
        ctx,
        200,
        FlagRolloutJson.write(
            rollouts
                .status(key)
                .orElseThrow(
                    () ->
                        new ApiError(
                            404,
                            "flag '" + key + "' has never been rolled out gradually",
                            "start one with 'pilothouse flags rollout start " + key + "'"))));
  }

  void rollouts(Context ctx) {
    ArrayNode out = Api.JSON.createArrayNode();
    rollouts.all().forEach(r -> out.add(FlagRolloutJson.write(r)));
    Api.send(ctx, 200, out);
  }

  void abortRollout(Context ctx) {
    String key = ctx.pathParam("key");
    try {
      Api.send(ctx, 200, FlagRolloutJson.write(rollouts.abort(key, source(ctx))));
    } catch (FlagRollouts.RefusedException e) {
      throw new ApiError(409, e.getMessage(), "see 'pilothouse flags rollout status " + key + "'");
    }
  }

  private static JsonNode json(Context ctx) {
    try {
      return Api.JSON.readTree(ctx.bodyAsBytes());
    } catch (IOException e) {
      throw new ApiError(
          400, "the request body is not JSON: " + e.getMessage(), "send the body as JSON");
    }
  }

  private static ApiError invalid(String key, Flags.InvalidFlagException e) {
    return new ApiError(
        400,
        e.getMessage(),
        "fix the fields named; docs/flags.md lists them",
        e.problems().stream().map(p -> new Wire.Problem("", 0, 0, "flags." + key, p, "")).toList());
  }

  void list(Context ctx) {
    ArrayNode out = Api.JSON.createArrayNode();
    flags.list().forEach(f -> out.add(FlagJson.write(f)));
    Api.send(ctx, 200, out);
  }

  void get(Context ctx) {
    String key = ctx.pathParam("key");
    Api.send(
        ctx,
        200,
        FlagJson.write(
            flags
                .get(key)
                .orElseThrow(
                    () ->
                        new ApiError(
                            404, "no flag named '" + key + "'", "see 'pilothouse flags list'"))));
  }

  void put(Context ctx) {
    String key = ctx.pathParam("key");
    JsonNode body = json(ctx);
    try {
      FlagChange c = flags.put(FlagJson.read(key, body), source(ctx));
      Api.send(ctx, c.before() == null ? 201 : 200, FlagJson.write(c.after()));
    } catch (Flags.InvalidFlagException e) {
      throw invalid(key, e);
    }
  }

  /** Who changes a flag, as the history records it: the CLI says so; anything else is "api". */
  private static String source(Context ctx) {
    return "cli".equals(ctx.header("X-Pilothouse-Client")) ? "cli" : "api";
  }

  void delete(Context ctx) {
    String key = ctx.pathParam("key");
    if (flags.delete(key, source(ctx)).isEmpty()) {
      throw new ApiError(404, "no flag named '" + key + "'", "see 'pilothouse flags list'");
    }
    Api.send(ctx, 200, Api.JSON.createObjectNode().put("deleted", key));
  }

  void history(Context ctx) {
    String key = ctx.pathParamMap().get("key");
    int limit = Api.limit(ctx, 50, 1000);
    ArrayNode out = Api.JSON.createArrayNode();
    for (FlagChange c : flags.history(key, limit)) {
      ObjectNode o = out.addObject();
      o.put("seq", c.seq());
      o.put("at", c.at().toString());
      o.put("key", c.key());
      o.put("source", c.source());
      o.set("before", c.before() == null ? null : FlagJson.write(c.before()));
      o.set("after", c.after() == null ? null : FlagJson.write(c.after()));
    }
    Api.send(ctx, 200, out);
  }

  void evaluate(Context ctx) {
    answer(ctx, ofrep.evaluate(ctx.pathParam("key"), ctx.bodyAsBytes()));
  }

  void evaluateAll(Context ctx) {
    answer(ctx, ofrep.bulk(ctx.bodyAsBytes(), ctx.header("If-None-Match")));
  }

  private static void answer(Context ctx, Ofrep.Response r) {
    if (r.etag() != null) {
      ctx.header("ETag", r.etag());
    }
    if (r.body() == null) {
      ctx.status(r.status());
      return;
    }
    Api.send(ctx, r.status(), r.body());
  }
}
