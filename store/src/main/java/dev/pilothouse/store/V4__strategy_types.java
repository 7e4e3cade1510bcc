package dev.pilothouse.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

/**
 * Rewrites stored specs and rollouts from the single strategy record of 0.x ({@code "canary": {...,
 * "kind": "CANARY", "alpha": ...}}) to one typed record per strategy ({@code "strategy": {"type":
 * "canary", "analysis": {"alpha": ...}, ...}}). Runs once, in Flyway's transaction: a crash leaves
 * the old rows untouched and the next start runs it again.
 */
@SuppressWarnings("checkstyle:TypeName") // Flyway takes the version from the class name
final class V4__strategy_types extends BaseJavaMigration {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> ANALYSIS =
      List.of(
          "alpha",
          "minRequests",
          "maxErrorRateIncrease",
          "maxLatencyIncreaseMs",
          "maxLatencyIncreaseRatio");
  private static final List<String> ROLLING =
      List.of("maxSurge", "maxUnavailable", "progressDeadline");
  private static final List<String> CANARY =
      List.of(
          "steps",
          "canaryReplicas",
          "match",
          "sticky",
          "maxAnalysisWait",
          "checks",
          "load",
          "smoke",
          "validation",
          "progressDeadline");
  private static final List<String> BLUE_GREEN =
      List.of("canaryReplicas", "match", "smoke", "rollbackWindow", "progressDeadline");

  @Override
  public void migrate(Context context) throws Exception {
    Connection c = context.getConnection();
    rewrite(c, "revisions", "number", "spec_json", V4__strategy_types::spec);
    rewrite(
        c,
        "rollouts",
        "service",
        "json",
        rollout -> {
          spec(rollout.get("before"));
          spec(rollout.get("after"));
          if (rollout.get("plan") instanceof ObjectNode plan) {
            rollout.set("plan", strategy(plan));
          }
        });
  }

  private interface Upgrade {
    void apply(ObjectNode row);
  }

  private static void rewrite(Connection c, String table, String key, String column, Upgrade u)
      throws SQLException, JsonProcessingException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT " + key + ", " + column + " FROM " + table);
        PreparedStatement update =
            c.prepareStatement(
                "UPDATE " + table + " SET " + column + " = ? WHERE " + key + " = ?")) {
      while (rs.next()) {
        JsonNode row = JSON.readTree(rs.getString(2));
        if (row instanceof ObjectNode o) {
          u.apply(o);
          update.setString(1, JSON.writeValueAsString(o));
          update.setObject(2, rs.getObject(1));
          update.executeUpdate();
        }
      }
    }
  }

  /** Each service's "canary" becomes its "strategy". */
  static void spec(JsonNode spec) {
    if (spec == null || !(spec.get("services") instanceof Iterable<?> services)) {
      return;
    }
    for (Object s : services) {
      if (s instanceof ObjectNode service && service.has("canary")) {
        JsonNode old = service.remove("canary");
        if (old instanceof ObjectNode plan) {
          service.set("strategy", strategy(plan));
        }
      }
    }
  }

  /** The one record of every strategy, as the typed record of its kind. */
  static ObjectNode strategy(ObjectNode old) {
    if (old.has("type")) {
      return old; // already typed
    }
    String kind = old.path("kind").asText("CANARY");
    ObjectNode out = JSON.createObjectNode();
    List<String> fields;
    switch (kind) {
      case "ROLLING" -> {
        out.put("type", "rolling");
        fields = ROLLING;
      }
      case "BLUE_GREEN" -> {
        out.put("type", "blueGreen");
        fields = BLUE_GREEN;
      }
      default -> {
        out.put("type", "canary");
        fields = CANARY;
      }
    }
    for (String f : fields) {
      if (old.has(f)) {
        out.set(f, old.get(f));
      }
    }
    if (!kind.equals("ROLLING")) {
      ObjectNode analysis = out.putObject("analysis");
      for (String f : ANALYSIS) {
        if (old.has(f)) {
          analysis.set(f, old.get(f));
        }
      }
    }
    return out;
  }
}
