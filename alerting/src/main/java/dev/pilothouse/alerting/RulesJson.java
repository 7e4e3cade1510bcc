package dev.pilothouse.alerting;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.alerting.Rule;
import dev.pilothouse.core.alerting.template.Template;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Rules and alerts as Prometheus's HTTP API writes them ({@code /api/v1/rules}, {@code /alerts}).
 */
public final class RulesJson {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant ZERO = Instant.parse("0001-01-01T00:00:00Z");

  private RulesJson() {}

  /**
   * The data of {@code /api/v1/rules}: {@code {"groups": […]}}.
   *
   * @param type "alert", "record" or null for both (Prometheus's {@code type} parameter)
   */
  public static ObjectNode rules(List<Rules.GroupStatus> groups, String type) {
    ObjectNode data = JSON.createObjectNode();
    ArrayNode out = data.putArray("groups");
    for (Rules.GroupStatus g : groups) {
      ObjectNode gn = JSON.createObjectNode();
      gn.put("name", g.group().name());
      gn.put("file", g.group().file());
      ArrayNode rules = gn.putArray("rules");
      for (Rules.RuleStatus r : g.rules()) {
        boolean alerting = r.rule() instanceof Rule.Alerting;
        if (("alert".equals(type) && !alerting) || ("record".equals(type) && alerting)) {
          continue;
        }
        rules.add(rule(r));
      }
      gn.put("interval", g.group().interval().toMillis() / 1000.0);
      gn.put("limit", g.group().limit());
      gn.put("evaluationTime", seconds(g.evaluationTime()));
      gn.put("lastEvaluation", time(g.lastEvaluation()));
      if (type == null || !rules.isEmpty()) {
        out.add(gn);
      }
    }
    return data;
  }

  private static ObjectNode rule(Rules.RuleStatus r) {
    ObjectNode n = JSON.createObjectNode();
    if (r.rule() instanceof Rule.Alerting a) {
      n.put("state", r.state().word());
      n.put("name", a.alert());
      n.put("query", a.expr());
      n.put("duration", a.holdFor().toMillis() / 1000.0);
      n.put("keepFiringFor", a.keepFiringFor().toMillis() / 1000.0);
      n.set("labels", map(a.labels()));
      n.set("annotations", map(a.annotations()));
      ArrayNode alerts = n.putArray("alerts");
      r.alerts().stream()
          .filter(x -> x.state() != AlertState.State.INACTIVE)
          .forEach(x -> alerts.add(alert(x)));
    } else {
      Rule.Recording rec = (Rule.Recording) r.rule();
      n.put("name", rec.record());
      n.put("query", rec.expr());
      n.set("labels", map(rec.labels()));
    }
    n.put("health", r.health());
    if (!r.lastError().isEmpty()) {
      n.put("lastError", r.lastError());
    }
    n.put("evaluationTime", seconds(r.evaluationTime()));
    n.put("lastEvaluation", time(r.lastEvaluation()));
    n.put("type", r.rule() instanceof Rule.Alerting ? "alerting" : "recording");
    return n;
  }

  /** One alert as Prometheus's API writes it. */
  public static ObjectNode alert(AlertState a) {
    ObjectNode n = JSON.createObjectNode();
    n.set("labels", map(a.labels()));
    n.set("annotations", map(a.annotations()));
    n.put("state", a.state().word());
    n.put("activeAt", a.activeAt().toString());
    if (a.keepFiringSince() != null) {
      n.put("keepFiringSince", a.keepFiringSince().toString());
    }
    n.put("value", Template.apiValue(a.value()));
    return n;
  }

  private static ObjectNode map(Map<String, String> m) {
    ObjectNode n = JSON.createObjectNode();
    m.forEach(n::put);
    return n;
  }

  private static double seconds(Duration d) {
    return d.toNanos() / 1e9;
  }

  private static String time(Instant t) {
    return (t == null ? ZERO : t).toString();
  }
}
