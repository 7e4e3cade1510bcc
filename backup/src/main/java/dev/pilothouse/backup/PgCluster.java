package dev.pilothouse.backup;

import dev.pilothouse.core.spec.BackupSpec;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A session with a PostgreSQL cluster (JDBC): what base backups, archiving and recovery ask of it.
 * Every statement has a time limit.
 */
final class PgCluster implements AutoCloseable {
  /** What pg_backup_stop returned. */
  record Stop(String lsn, String label, String tablespaceMap) {}

  private final Connection c;

  private PgCluster(Connection c) {
    this.c = c;
  }

  /**
   * Connects as the plan says.
   *
   * @throws BackupException naming the cluster and what to check, when it cannot
   */
  static PgCluster connect(BackupSpec.Postgres pg, String password) {
    String host = pg.host();
    if (host.startsWith("/")) {
      // a Unix socket's directory: the driver reaches it through junixsocket only, so not here
      throw new BackupException(
          "postgres.host "
              + host
              + " is a socket directory; Pilothouse connects over TCP: give 127.0.0.1 and let"
              + " PostgreSQL listen there");
    }
    String url = "jdbc:postgresql://" + host + ":" + pg.port() + "/" + pg.database();
    Properties p = new Properties();
    p.setProperty("user", pg.user());
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("connectTimeout", "5");
    p.setProperty("socketTimeout", "900");
    p.setProperty("ApplicationName", "pilothouse");
    p.setProperty("sslmode", "prefer");
    try {
      return new PgCluster(DriverManager.getConnection(url, p));
    } catch (SQLException e) {
      throw new BackupException(
          "cannot connect to PostgreSQL at "
              + host
              + ":"
              + pg.port()
              + " as "
              + pg.user()
              + ": "
              + e.getMessage()
              + " (check postgres.host, port, user and passwordEnv, and that it runs)",
          e);
    }
  }

  /** A setting's value as SHOW gives it. */
  String show(String name) throws SQLException {
    return one("SELECT current_setting(?)", name, 30);
  }

  /** wal_segment_size in bytes. */
  long segmentBytes() throws SQLException {
    return Long.parseLong(one("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"));
  }

  int timeline() throws SQLException {
    return Integer.parseInt(one("SELECT timeline_id FROM pg_control_checkpoint()"));
  }

  boolean inRecovery() throws SQLException {
    return "t".equals(one("SELECT pg_is_in_recovery()"));
  }

  /** Begins a base backup (fast checkpoint); its start LSN. */
  String start(String label) throws SQLException {
    return one("SELECT pg_backup_start(?, true)::text", label, 600);
  }

  /** Ends the base backup, once the WAL it needs is archived (at most timeoutSeconds). */
  Stop stop(int timeoutSeconds) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(true)")) {
      s.setQueryTimeout(timeoutSeconds);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return new Stop(r.getString(1), r.getString(2), r.getString(3));
      }
    }
  }

  /** The name of the WAL file holding lsn. */
  String walFile(String lsn) throws SQLException {
    return one("SELECT pg_walfile_name(?::pg_lsn)", lsn, 30);
  }

  /** The one value a query with one text parameter answers. */
  private String one(String sql, String param, int timeoutSeconds) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setQueryTimeout(timeoutSeconds);
      s.setString(1, param);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getString(1);
      }
    }
  }

  /** ALTER SYSTEM SET name = value, then a reload. */
  void alterSystem(String name, String value) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(30);
      s.execute("ALTER SYSTEM SET " + ident(name) + " = '" + value.replace("'", "''") + "'");
      s.execute("SELECT pg_reload_conf()");
    }
  }

  /** ALTER SYSTEM RESET for each name, then a reload. */
  void alterSystemReset(String... names) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(30);
      for (String n : names) {
        s.execute("ALTER SYSTEM RESET " + ident(n));
      }
      s.execute("SELECT pg_reload_conf()");
    }
  }

  private static String ident(String name) {
    if (!name.matches("[a-z_]+")) {
      throw new IllegalArgumentException("not a setting: " + name);
    }
    return name;
  }

  private String one(String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.setQueryTimeout(30);
      try (ResultSet r = s.executeQuery(sql)) {
        r.next();
        return r.getString(1);
      }
    }
  }

  @Override
  public void close() {
    try {
      c.close();
    } catch (SQLException e) {
      // closing ends any backup still open in this session
    }
  }
}
