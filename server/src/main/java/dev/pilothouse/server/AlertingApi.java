package dev.pilothouse.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.alerting.Rules;
import dev.pilothouse.alerting.RulesJson;
import dev.pilothouse.alerting.routing.Router;
import dev.pilothouse.alerting.routing.SilencesJson;
import dev.pilothouse.core.alerting.AlertState;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.InstantSource;
import java.util.Map;

/**
 * Maps the alerting module to HTTP: Prometheus's rules and alerts API (each alert also says where
 * it is routed and what mutes it) and Alertmanager's silences API v2.
 */
final class AlertingApi {
  private final Rules rules;
  private final Router router;
  private final InstantSource clock;

  AlertingApi(Rules rules, Router router, InstantSource clock) {
    this.rules = rules;
    this.router = router;
    this.clock = clock;
  }

  Object rules(Context ctx) {
    String type = ctx.queryParam("type");
    if (type != null && !type.isEmpty() && !type.equals("alert") && !type.equals("record")) {
      throw new ApiError(400, "type: must be 'alert' or 'record'", "leave it out for both");
    }
    return RulesJson.rules(rules.groups(), type == null || type.isEmpty() ? null : type);
  }

  Object alerts(Context ctx) {
    ObjectNode data = Api.JSON.createObjectNode();
    ArrayNode out = data.putArray("alerts");
    for (AlertState a : rules.alerts()) {
      ObjectNode o = RulesJson.alert(a);
      Router.Status s = router.status(a.labels());
      o.set("receivers", Api.JSON.valueToTree(s.receivers()));
      o.set("silencedBy", Api.JSON.valueToTree(s.silencedBy()));
      o.set("inhibitedBy", Api.JSON.valueToTree(s.inhibitedBy()));
      out.add(o);
    }
    return data;
  }

  void silences(Context ctx) {
    ArrayNode out = Api.JSON.createArrayNode();
    router.silences().forEach(s -> out.add(SilencesJson.write(s, clock.instant())));
    Api.send(ctx, 200, out);
  }

  void silence(Context ctx) {
    String id = ctx.pathParam("id");
    var s =
        router
            .silence(id)
            .orElseThrow(
                () ->
                    new ApiError(
                        404, "no silence with id " + id, "list them: pilothouse silence list"));
    Api.send(ctx, 200, SilencesJson.write(s, clock.instant()));
  }

  void addSilence(Context ctx) {
    JsonNode body;
    try {
      body = Api.JSON.readTree(ctx.bodyAsBytes());
    } catch (IOException e) {
      throw new ApiError(
          400, "the request body is not JSON", "send a silence as Alertmanager's API v2 takes it");
    }
    try {
      SilencesJson.Request r = SilencesJson.read(body, clock.instant());
      var s =
          router.silence(
              r.id(), r.matchers(), r.startsAt(), r.endsAt(), r.createdBy(), r.comment());
      Api.send(ctx, 200, Map.of("silenceID", s.id()));
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, e.getMessage(), "see docs/alerting.md#silences");
    }
  }

  void expireSilence(Context ctx) {
    try {
      router.expire(ctx.pathParam("id"));
      Api.send(ctx, 200, Map.of());
    } catch (IllegalArgumentException e) {
      throw new ApiError(
          e.getMessage().startsWith("no silence") ? 404 : 400,
          e.getMessage(),
          "list them: pilothouse silence list");
    }
  }
}
