package dev.pilothouse.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.alerting.RuleStore;
import dev.pilothouse.alerting.Rules;
import dev.pilothouse.alerting.RulesJson;
import dev.pilothouse.alerting.routing.Router;
import dev.pilothouse.alerting.routing.SilencesJson;
import dev.pilothouse.alerting.slo.SloRules;
import dev.pilothouse.alerting.slo.SloStatus;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.slo.Slo;
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

  private final java.util.function.Supplier<java.util.List<Slo>> slos;
  private final RuleStore store;

  AlertingApi(
      Rules rules,
      Router router,
      InstantSource clock,
      java.util.function.Supplier<java.util.List<Slo>> slos,
      RuleStore store) {
    this.rules = rules;
    this.router = router;
    this.clock = clock;
    this.slos = slos;
    this.store = store;
  }

  /**
   * {@code GET /api/v1/slos[?service=S]}: each SLO's objective, SLI over its window, error budget
   * left, burn rates per alert window and its firing burn-rate alerts.
   */
  void slos(Context ctx) {
    String service = ctx.queryParam("service");
    java.util.List<Slo> all = slos.get();
    java.util.List<Slo> chosen =
        all.stream().filter(o -> service == null || o.service().equals(service)).toList();
    if (service != null && chosen.isEmpty()) {
      throw new ApiError(
          404,
          "service " + service + " has no SLOs",
          all.isEmpty()
              ? "declare them under services." + service + ".slos in the spec (docs/spec.md)"
              : "services with SLOs: "
                  + String.join(", ", all.stream().map(Slo::service).distinct().toList()));
    }
    java.time.Instant now = clock.instant();
    ArrayNode out = Api.JSON.createArrayNode();
    for (Slo o : chosen) {
      SloStatus st;
      try {
        st = SloStatus.of(o, store, now);
      } catch (RuntimeException e) {
        throw new ApiError(503, "the SLO cannot be computed: " + e.getMessage(), "try again");
      }
      ObjectNode n = out.addObject();
      n.put("service", o.service());
      n.put("name", o.name());
      n.put("sli", o.sli().wire());
      n.put("objective", o.objective());
      n.put("window", SloRules.period(o));
      if (o.latencyThreshold() != null) {
        n.put("threshold_seconds", o.latencyThreshold().toNanos() / 1e9);
      }
      putNullable(n, "sli_value", st.sli());
      putNullable(n, "error_budget_remaining", st.budgetRemaining());
      n.set("met", st.met() == null ? n.nullNode() : n.booleanNode(st.met()));
      ObjectNode burn = n.putObject("burn_rates");
      st.burnRates().forEach(burn::put);
      ArrayNode firing = n.putArray("firing");
      for (AlertState a : rules.alerts()) {
        if (a.state() == AlertState.State.FIRING
            && "ErrorBudgetBurn".equals(a.labels().get("alertname"))
            && o.service().equals(a.labels().get("service"))
            && o.name().equals(a.labels().get("slo"))) {
          String sev = a.labels().getOrDefault("severity", "");
          boolean seen = false;
          for (var f : firing) {
            seen |= f.asText().equals(sev);
          }
          if (!seen) {
            firing.add(sev);
          }
        }
      }
    }
    ObjectNode body = Api.JSON.createObjectNode();
    body.set("slos", out);
    Api.send(ctx, 200, body);
  }

  private static void putNullable(ObjectNode n, String field, Double v) {
    if (v == null) {
      n.putNull(field);
    } else {
      n.put(field, v);
    }
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
