package dev.pilothouse.store;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.cluster.LeaseStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * The leader's lease as one row of the {@code leader} table, on a connection of its own (so that a
 * store call waiting on a lock never delays a renewal). Every statement is bounded by a socket
 * timeout; a failed connection is dropped and the next call opens a new one.
 */
public final class PostgresLease implements LeaseStore {
  /** The database's clock, in milliseconds since the epoch (not the transaction's start). */
  private static final String NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

  private final String url;
  private final Properties props;
  private Connection connection;
  private boolean migrated;

  /**
   * A lease on the database at url; no connection is made until the first call.
   *
   * @param timeout bound on connecting and on every statement
   */
  public PostgresLease(String url, String user, String password, Duration timeout) {
    this.url = requireNonNull(url, "url");
    this.props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    String seconds = Long.toString(Math.max(1, timeout.toSeconds()));
    props.setProperty("connectTimeout", seconds);
    props.setProperty("socketTimeout", seconds);
    props.setProperty("loginTimeout", seconds);
    props.setProperty("ApplicationName", "pilothouse-lease");
  }

  @Override
  public synchronized OptionalLong acquire(
      String holder, String address, String site, Duration lease) {
    return call(
        "taking the lease",
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "INSERT INTO leader(id, holder, address, site, term, expires_ms)"
                      + " VALUES (1, ?, ?, ?, 1, "
                      + NOW
                      + " + ?) ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder,"
                      + " address = EXCLUDED.address, site = EXCLUDED.site,"
                      + " term = leader.term + 1, expires_ms = EXCLUDED.expires_ms"
                      + " WHERE leader.expires_ms < "
                      + NOW
                      + " RETURNING term")) {
            st.setString(1, holder);
            st.setString(2, address);
            st.setString(3, site);
            st.setLong(4, lease.toMillis());
            try (ResultSet rs = st.executeQuery()) {
              return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
          }
        });
  }

  @Override
  public synchronized boolean renew(String holder, long term, Duration lease) {
    return call(
        "renewing the lease",
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "UPDATE leader SET expires_ms = "
                      + NOW
                      + " + ? WHERE id = 1 AND holder = ? AND term = ? AND expires_ms >= "
                      + NOW)) {
            st.setLong(1, lease.toMillis());
            st.setString(2, holder);
            st.setLong(3, term);
            return st.executeUpdate() == 1;
          }
        });
  }

  @Override
  public synchronized Optional<Lease> current() {
    return call(
        "reading the lease",
        c -> {
          try (PreparedStatement st =
                  c.prepareStatement(
                      "SELECT holder, address, site, term, expires_ms - "
                          + NOW
                          + " FROM leader WHERE id = 1");
              ResultSet rs = st.executeQuery()) {
            if (!rs.next()) {
              return Optional.empty();
            }
            return Optional.of(
                new Lease(
                    rs.getString(1),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getLong(4),
                    Duration.ofMillis(rs.getLong(5))));
          }
        });
  }

  @Override
  public synchronized void release(String holder, long term) {
    call(
        "releasing the lease",
        c -> {
          try (PreparedStatement st =
              c.prepareStatement(
                  "UPDATE leader SET expires_ms = "
                      + NOW
                      + " - 1 WHERE id = 1 AND holder = ? AND term = ?")) {
            st.setString(1, holder);
            st.setLong(2, term);
            return st.executeUpdate();
          }
        });
  }

  @Override
  public synchronized void close() {
    drop();
  }

  private interface Sql<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Where the newest stored revision runs its services (local processes, when there is none): with
   * a cluster runtime, daemons on any host may lead.
   */
  public synchronized dev.pilothouse.core.spec.RuntimeSpec newestRuntime() {
    return call(
        "reading the newest revision",
        c -> {
          try (PreparedStatement st =
                  c.prepareStatement(
                      "SELECT spec_json FROM revisions ORDER BY number DESC LIMIT 1");
              java.sql.ResultSet rs = st.executeQuery()) {
            if (!rs.next()) {
              return dev.pilothouse.core.spec.RuntimeSpec.local();
            }
            try {
              return SpecJson.builder()
                  .build()
                  .readValue(rs.getString(1), dev.pilothouse.core.spec.Spec.class)
                  .runtime();
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
              throw new SQLException("the newest revision does not read: " + e.getMessage(), e);
            }
          }
        });
  }

  private <T> T call(String what, Sql<T> sql) {
    try {
      if (!migrated) { // the lease's table comes with the schema, before any store is opened
        SqliteStore.migratePostgres(url, props.getProperty("user"), props.getProperty("password"));
        migrated = true;
      }
      if (connection == null) {
        connection = DriverManager.getConnection(url, props);
      }
      return sql.run(connection);
    } catch (SQLException | org.flywaydb.core.api.FlywayException e) {
      drop(); // the next call connects afresh
      throw new LeaseException(what + " at " + url + ": " + e.getMessage(), e);
    }
  }

  private void drop() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // closing a broken connection
      }
      connection = null;
    }
  }
}
