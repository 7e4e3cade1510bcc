package dev.pilothouse.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;

/**
 * The demo's customer table in SQLite ({@code DEMO_DB}), for the expand/contract example
 * (examples/migration*.yaml). Schema 1 has {@code name}; the expand migration adds {@code
 * full_name}; the contract migration drops {@code name}. The code of each version ({@code
 * DEMO_SCHEMA}) writes the columns its schema has, and schema 2 reads {@code full_name} only while
 * the feature flag {@code read-full-name} says so (read over OFREP from {@code DEMO_FLAGS_URL} with
 * {@code DEMO_FLAGS_TOKEN}).
 */
final class Customers {
  static final String FLAG = "read-full-name";

  private final String url;
  private final int schema;
  private final String flagsUrl;
  private final String flagsToken;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  Customers(Map<String, String> env) throws SQLException {
    Path db = Path.of(env.get("DEMO_DB"));
    if (db.getParent() != null) {
      try {
        Files.createDirectories(db.getParent());
      } catch (java.io.IOException e) {
        throw new SQLException("cannot create " + db.getParent() + ": " + e.getMessage(), e);
      }
    }
    this.url = "jdbc:sqlite:" + db;
    this.schema = Integer.parseInt(env.getOrDefault("DEMO_SCHEMA", "1"));
    this.flagsUrl = env.getOrDefault("DEMO_FLAGS_URL", "");
    this.flagsToken = env.getOrDefault("DEMO_FLAGS_TOKEN", "");
    if (!Files.exists(db)) {
      try (Connection c = DriverManager.getConnection(url)) {
        c.createStatement()
            .execute("CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT)");
      }
    }
  }

  /** One customer's name and the column it came from, or null when there is none. */
  String read(int id, String user) throws SQLException {
    String column = schema >= 3 || (schema == 2 && flagOn(user)) ? "full_name" : "name";
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement st =
            c.prepareStatement("SELECT " + column + " FROM customers WHERE id = ?")) {
      st.setInt(1, id);
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) + " (from " + column + ")" : null;
      }
    }
  }

  /** Writes a customer with the columns this version's schema has. */
  void write(int id, String name) throws SQLException {
    String sql =
        switch (schema) {
          case 1 -> "INSERT OR REPLACE INTO customers(id, name) VALUES (?, ?)";
          case 2 -> "INSERT OR REPLACE INTO customers(id, name, full_name) VALUES (?, ?, ?)";
          default -> "INSERT OR REPLACE INTO customers(id, full_name) VALUES (?, ?)";
        };
    try (Connection c = DriverManager.getConnection(url);
        PreparedStatement st = c.prepareStatement(sql)) {
      st.setInt(1, id);
      st.setString(2, name);
      if (schema == 2) {
        st.setString(3, name);
      }
      st.executeUpdate();
    }
  }

  /** The flag for this user over OFREP; off when it cannot be read (the SDKs' default). */
  private boolean flagOn(String user) {
    if (flagsUrl.isEmpty()) {
      return false;
    }
    try {
      HttpResponse<String> r = evaluate(http, flagsUrl, flagsToken, user, Duration.ofSeconds(1));
      return r.statusCode() == 200 && r.body().replace(" ", "").contains("\"value\":true");
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** POSTs an OFREP evaluation of {@link #FLAG} for a targeting key (what an SDK would send). */
  static HttpResponse<String> evaluate(
      HttpClient http, String flagsUrl, String token, String targetingKey, Duration timeout)
      throws java.io.IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(flagsUrl + "/ofrep/v1/evaluate/flags/" + FLAG))
            .timeout(timeout)
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"context\": {\"targetingKey\": \"" + targetingKey.replace("\"", "") + "\"}}",
                    StandardCharsets.UTF_8))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
