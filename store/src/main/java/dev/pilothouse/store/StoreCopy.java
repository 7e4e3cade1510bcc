package dev.pilothouse.store;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves a daemon's state from its SQLite file into an empty PostgreSQL database: every table, row
 * for row, in one transaction, so the event log keeps its sequence numbers and hashes and its chain
 * verifies on the other side (docs/scale-out.md). The source is migrated to the newest schema first
 * and must verify; the target is migrated by the same versions and must hold no state.
 */
public final class StoreCopy {
  private static final int BATCH = 500;

  /**
   * Tables whose rows a migration writes (a fresh database holds them): the source's replace them.
   */
  private static final java.util.Set<String> SEEDED = java.util.Set.of("incident_cursor");

  /**
   * What was copied.
   *
   * @param rows rows per table, in copy order
   * @param events events in the target's log, whose chain verified
   * @param head the hash of the newest event (the same on both sides)
   */
  public record Report(Map<String, Long> rows, long events, String head) {}

  /** Told how far the copy of each table is (rows done of total). */
  public interface Progress {
    void table(String table, long done, long total);
  }

  private StoreCopy() {}

  /**
   * Copies the SQLite store in file into the PostgreSQL database at url.
   *
   * @throws StoreException naming what is wrong (no source, a broken source chain, a target that
   *     holds state, a table the target lacks) and leaving the target as it was
   */
  public static Report sqliteToPostgres(
      Path file, String url, String user, String password, InstantSource clock, Progress progress) {
    requireNonNull(progress, "progress");
    if (!Files.isRegularFile(file)) {
      throw new StoreException(
          "no SQLite store at " + file + " (give the state directory of the daemon to move)", null);
    }
    EventLog.Verification source;
    String sourceHead;
    try (SqliteStore s = SqliteStore.open(file, clock)) { // migrates it to the newest schema
      source = s.verify();
      sourceHead = s.latest(1).stream().map(e -> e.hash()).findFirst().orElse("");
    }
    if (!source.intact()) {
      throw new StoreException(
          "the event chain in "
              + file
              + " is broken at event "
              + source.broken().seq()
              + " ("
              + source.broken().reason()
              + "); a copy would carry the break: see 'pilothouse audit log verify'",
          null);
    }
    Map<String, Long> copied = new LinkedHashMap<>();
    // The copy holds the leader's lease (renewed while it runs): no daemon leads meanwhile.
    try (Holding held = Holding.take(url, user, password);
        SqliteStore target = SqliteStore.postgres(url, user, password, clock, held.term());
        Connection from = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        Connection to = DriverManager.getConnection(url, user, password)) {
      SqliteStore.fence(to, held.term().getAsLong());
      List<String> tables = tables(from);
      requireEmpty(to, tables, url);
      to.setAutoCommit(false);
      try {
        for (String t : tables) {
          copied.put(t, copy(from, to, t, progress));
        }
        to.commit();
      } catch (SQLException | RuntimeException e) {
        to.rollback();
        throw e;
      }
      EventLog.Verification after = target.verify();
      String head = target.latest(1).stream().map(e -> e.hash()).findFirst().orElse("");
      if (!after.intact() || after.events() != source.events() || !head.equals(sourceHead)) {
        throw new StoreException(
            "the copy's event chain does not match the source's ("
                + after.events()
                + " events, head "
                + head
                + "; the source has "
                + source.events()
                + ", head "
                + sourceHead
                + ")",
            null);
      }
      return new Report(copied, after.events(), head);
    } catch (dev.pilothouse.core.cluster.LeaseStore.LeaseException e) {
      throw new StoreException(e.getMessage(), e);
    } catch (SQLException e) {
      throw new StoreException("copying " + file + " to " + url + ": " + e.getMessage(), e);
    }
  }

  /** The leader's lease, held by the copy and renewed in the background until closed. */
  private record Holding(
      PostgresLease lease,
      java.util.concurrent.ScheduledExecutorService renewer,
      java.util.OptionalLong term)
      implements AutoCloseable {
    private static final String HOLDER = "pilothouse store migrate";
    private static final java.time.Duration LEASE = java.time.Duration.ofSeconds(30);

    static Holding take(String url, String user, String password) {
      PostgresLease lease =
          new PostgresLease(url, user, password, java.time.Duration.ofSeconds(10));
      try {
        java.util.OptionalLong term = lease.acquire(HOLDER, "", "", LEASE);
        if (term.isEmpty()) {
          String who = lease.current().map(l -> l.address() + " (" + l.site() + ")").orElse("");
          throw new StoreException(
              "a daemon leads on the database "
                  + url
                  + " ("
                  + who
                  + "); stop every daemon using it first",
              null);
        }
        var renewer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread t = new Thread(r, "store-migrate-lease");
                  t.setDaemon(true);
                  return t;
                });
        renewer.scheduleWithFixedDelay(
            () -> {
              try {
                lease.renew(HOLDER, term.getAsLong(), LEASE);
              } catch (RuntimeException e) {
                // the fence refuses the copy's writes if the lease is lost meanwhile
              }
            },
            5,
            5,
            java.util.concurrent.TimeUnit.SECONDS);
        return new Holding(lease, renewer, term);
      } catch (RuntimeException e) {
        lease.close();
        throw e;
      }
    }

    @Override
    public void close() {
      renewer.shutdownNow();
      try {
        lease.release(HOLDER, term.getAsLong());
      } catch (RuntimeException e) {
        // it expires by itself
      }
      lease.close();
    }
  }

  /** The source's tables: every one but SQLite's, Flyway's and the lease's. */
  private static List<String> tables(Connection from) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Statement st = from.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                    + " AND name NOT IN ('flyway_schema_history', 'leader') ORDER BY name")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  private static void requireEmpty(Connection to, List<String> tables, String url)
      throws SQLException {
    List<String> holding = new ArrayList<>();
    for (String t : tables) {
      long n = SEEDED.contains(t) ? 0 : count(to, t);
      if (n > 0) {
        holding.add(t + ": " + n);
      }
    }
    if (!holding.isEmpty()) {
      throw new StoreException(
          "the database "
              + url
              + " already holds state ("
              + String.join(", ", holding)
              + " rows); move into an empty database (CREATE DATABASE …), never over another"
              + " daemon's state",
          null);
    }
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + quote(table))) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long copy(Connection from, Connection to, String table, Progress progress)
      throws SQLException {
    long total = count(from, table);
    Map<String, Integer> targetTypes = columns(to, table);
    List<String> cols = new ArrayList<>();
    try (Statement st = from.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM " + quote(table) + " LIMIT 0")) {
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        String c = rs.getMetaData().getColumnName(i);
        if (!targetTypes.containsKey(c)) {
          throw new StoreException(
              "the target's table "
                  + table
                  + " has no column "
                  + c
                  + ": its schema is older than the source's (start a newer Pilothouse on it once)",
              null);
        }
        cols.add(c);
      }
    }
    if (SEEDED.contains(table)) {
      try (Statement st = to.createStatement()) {
        st.executeUpdate("DELETE FROM " + quote(table));
      }
    }
    String names = String.join(", ", cols.stream().map(StoreCopy::quote).toList());
    String marks = String.join(", ", cols.stream().map(c -> "?").toList());
    long done = 0;
    progress.table(table, 0, total);
    try (Statement st = from.createStatement();
        ResultSet rs = st.executeQuery("SELECT " + names + " FROM " + quote(table));
        PreparedStatement ins =
            to.prepareStatement(
                "INSERT INTO " + quote(table) + " (" + names + ") VALUES (" + marks + ")")) {
      while (rs.next()) {
        for (int i = 0; i < cols.size(); i++) {
          bind(ins, i + 1, rs, i + 1, targetTypes.get(cols.get(i)));
        }
        ins.addBatch();
        if (++done % BATCH == 0) {
          ins.executeBatch();
          progress.table(table, done, total);
        }
      }
      ins.executeBatch();
    }
    progress.table(table, done, total);
    return done;
  }

  /** The target's column types by name (java.sql.Types). */
  private static Map<String, Integer> columns(Connection to, String table) throws SQLException {
    Map<String, Integer> out = new LinkedHashMap<>();
    try (ResultSet rs = to.getMetaData().getColumns(null, null, table, null)) {
      while (rs.next()) {
        out.put(rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"));
      }
    }
    if (out.isEmpty()) {
      throw new StoreException(
          "the target has no table "
              + table
              + ": its schema is older than the source's (start a newer Pilothouse on it once)",
          null);
    }
    return out;
  }

  /** SQLite's values are dynamically typed; the target's column decides the type sent. */
  private static void bind(PreparedStatement ins, int at, ResultSet rs, int col, int type)
      throws SQLException {
    Object v = rs.getObject(col);
    if (v == null) {
      ins.setNull(at, type);
      return;
    }
    switch (type) {
      case Types.BIGINT, Types.INTEGER, Types.SMALLINT -> ins.setLong(at, rs.getLong(col));
      case Types.DOUBLE, Types.REAL, Types.FLOAT, Types.NUMERIC ->
          ins.setDouble(at, rs.getDouble(col));
      case Types.BIT, Types.BOOLEAN -> ins.setBoolean(at, rs.getLong(col) != 0);
      case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY -> ins.setBytes(at, rs.getBytes(col));
      default -> ins.setString(at, rs.getString(col));
    }
  }

  private static String quote(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }
}
