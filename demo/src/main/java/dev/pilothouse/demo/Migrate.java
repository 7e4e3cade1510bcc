package dev.pilothouse.demo;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;

/**
 * The demo's schema migrations, run as a {@code preDeploy} hook: {@code pilothouse demo migrate
 * expand} adds and backfills {@code full_name} (old code keeps working); {@code migrate contract}
 * drops {@code name}, and refuses (exit 3) unless the flag {@code read-full-name} is fully on — no
 * reader of the old column is left. Both are idempotent. Reads {@code DEMO_DB}, {@code
 * DEMO_FLAGS_URL}, {@code DEMO_FLAGS_TOKEN} from the environment (the service's env).
 */
final class Migrate {
  private Migrate() {}

  static int run(String step, Map<String, String> env) {
    String db = env.get("DEMO_DB");
    if (db == null) {
      System.err.println("migrate: DEMO_DB is not set");
      return 2;
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
      c.createStatement()
          .execute("CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT)");
      boolean hasFull = hasColumn(c, "full_name");
      boolean hasName = hasColumn(c, "name");
      switch (step) {
        case "expand" -> {
          if (!hasFull) {
            c.createStatement().execute("ALTER TABLE customers ADD COLUMN full_name TEXT");
          }
          int n =
              hasName
                  ? c.createStatement()
                      .executeUpdate(
                          "UPDATE customers SET full_name = name WHERE full_name IS NULL")
                  : 0;
          System.out.println("migrate expand: full_name present, " + n + " rows backfilled");
          return 0;
        }
        case "contract" -> {
          String why = fullyOn(env);
          if (why != null) {
            System.out.println("migrate contract refused: " + why);
            return 3;
          }
          if (!hasFull) {
            System.out.println("migrate contract refused: expand has not run (no full_name)");
            return 3;
          }
          if (hasName) {
            c.createStatement().execute("ALTER TABLE customers DROP COLUMN name");
          }
          System.out.println("migrate contract: name dropped");
          return 0;
        }
        default -> {
          System.err.println("migrate: unknown step '" + step + "'; use expand or contract");
          return 2;
        }
      }
    } catch (SQLException e) {
      System.err.println("migrate " + step + " failed: " + e.getMessage());
      return 1;
    }
  }

  private static boolean hasColumn(Connection c, String column) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("PRAGMA table_info(customers)")) {
      while (rs.next()) {
        if (rs.getString("name").equals(column)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Null when the flag serves on to everyone with no rule left; else why not. */
  private static String fullyOn(Map<String, String> env) {
    String url = env.getOrDefault("DEMO_FLAGS_URL", "");
    if (url.isEmpty()) {
      return "DEMO_FLAGS_URL is not set, so the flag cannot be checked";
    }
    try {
      HttpResponse<String> r =
          Customers.evaluate(
              HttpClient.newHttpClient(),
              url,
              env.getOrDefault("DEMO_FLAGS_TOKEN", ""),
              "migration",
              Duration.ofSeconds(5));
      String body = r.body().replace(" ", "");
      if (r.statusCode() != 200
          || !body.contains("\"value\":true")
          || !body.contains("\"reason\":\"STATIC\"")) {
        return "flag " + Customers.FLAG + " is not on for everyone yet: " + r.body();
      }
      return null;
    } catch (java.io.IOException e) {
      return "the flag could not be read: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
