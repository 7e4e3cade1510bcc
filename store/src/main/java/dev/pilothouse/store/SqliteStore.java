package dev.pilothouse.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.core.alerting.routing.RoutingRepository.Notified;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventChain;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceRecord;
import dev.pilothouse.core.instance.InstanceRepository;
import dev.pilothouse.core.rollout.Ports;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.spec.Revision;
import dev.pilothouse.core.spec.Revisions;
import dev.pilothouse.core.spec.Spec;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * The embedded store: one SQLite file in WAL mode holding revisions, instances and the event log.
 * One connection serves every call; calls are serialized, which SQLite does anyway for writes.
 */
public final class SqliteStore
    implements InstanceRepository,
        EventLog,
        Revisions,
        Ports.RolloutStore,
        dev.pilothouse.core.flags.FlagRepository,
        dev.pilothouse.core.experiment.ExperimentRepository,
        dev.pilothouse.core.alerting.AlertStateRepository,
        dev.pilothouse.core.alerting.routing.RoutingRepository,
        dev.pilothouse.core.incident.IncidentRepository,
        dev.pilothouse.core.scaling.ScaleRepository,
        dev.pilothouse.core.security.TokenRepository,
        dev.pilothouse.core.security.SecretRepository,
        dev.pilothouse.core.chaos.ChaosRepository,
        AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SqliteStore.class);
  private static final TypeReference<Map<String, String>> FIELDS = new TypeReference<>() {};

  private final Connection connection;
  private final Handle h;
  private final InstantSource clock;
  private final ObjectMapper json;
  private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
  private String lastHash;
  private long lastSeq;
  private volatile Map<String, dev.pilothouse.core.scaling.ScaleState> scales;

  private SqliteStore(Connection connection, InstantSource clock) {
    this.connection = connection;
    this.h = Jdbi.create(connection).open();
    this.clock = clock;
    this.json = SpecJson.builder().build();
    Optional<Map<String, Object>> last =
        h.createQuery("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
            .mapToMap()
            .findOne();
    lastSeq = last.map(m -> ((Number) m.get("seq")).longValue()).orElse(0L);
    lastHash = last.map(m -> (String) m.get("hash")).orElse(EventChain.GENESIS);
  }

  /** Opens (creating and migrating as needed) the store in file. */
  public static SqliteStore open(Path file, InstantSource clock) {
    requireNonNull(file, "file");
    String url = "jdbc:sqlite:" + file.toAbsolutePath();
    try {
      SQLiteConfig config = new SQLiteConfig();
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      // FULL: in WAL mode every commit is fsynced, so an acknowledged revision or event survives a
      // power loss (NORMAL may lose the last commits). Cost measured in docs/performance.md.
      config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
      config.setBusyTimeout(5000);
      config.enforceForeignKeys(true);
      Connection c = DriverManager.getConnection(url, config.toProperties());
      if (!atSchemaVersion(c)) {
        Flyway.configure()
            .dataSource(url, "", "")
            .locations("classpath:db/sqlite")
            .loggers("slf4j")
            .javaMigrations(new V4__strategy_types())
            .load()
            .migrate();
      }
      return new SqliteStore(c, requireNonNull(clock, "clock"));
    } catch (SQLException | RuntimeException e) {
      throw new StoreException("opening the store " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens (creating and migrating as needed) the store in a PostgreSQL database: the same tables,
   * migrated by the same versions as SQLite's ({@code db/postgres}, PostgreSQL's types), behind the
   * same repository ports. Not fenced: for tools and tests; a daemon opens it with its term.
   *
   * @param url e.g. {@code jdbc:postgresql://db:5432/pilothouse}
   */
  public static SqliteStore postgres(
      String url, String user, String password, InstantSource clock) {
    return postgres(url, user, password, clock, java.util.OptionalLong.empty());
  }

  /**
   * Opens the store in a PostgreSQL database writing for the leader's term: every change it makes
   * is refused by the database once a newer term leads (see {@link PostgresLease}).
   */
  public static SqliteStore postgres(
      String url, String user, String password, InstantSource clock, java.util.OptionalLong term) {
    requireNonNull(url, "url");
    try {
      migratePostgres(url, user, password);
      java.util.Properties props = new java.util.Properties();
      props.setProperty("user", user);
      props.setProperty("password", password);
      // A lost database fails a call within bounds instead of holding the store forever.
      props.setProperty("connectTimeout", "10");
      props.setProperty("socketTimeout", "30");
      props.setProperty("ApplicationName", "pilothouse");
      Connection c = DriverManager.getConnection(url, props);
      if (term.isPresent()) {
        fence(c, term.getAsLong());
      }
      return new SqliteStore(c, requireNonNull(clock, "clock"));
    } catch (SQLException | RuntimeException e) {
      throw new StoreException("opening the store at " + url + ": " + e.getMessage(), e);
    }
  }

  /** Makes every write on c one for term: refused by the fence once a newer term leads (V15). */
  static void fence(Connection c, long term) throws SQLException {
    try (java.sql.PreparedStatement st =
        c.prepareStatement("SELECT set_config('pilothouse.term', ?, false)")) {
      st.setString(1, Long.toString(term));
      st.execute();
    }
  }

  /**
   * Creates and migrates the PostgreSQL schema as needed (Flyway serializes daemons doing it at
   * once), and fences every table but the lease's and Flyway's: a connection writing for a term
   * that no longer leads is refused by the trigger {@code pilothouse_fence} (V15).
   */
  static void migratePostgres(String url, String user, String password) throws SQLException {
    if (MIGRATED.contains(url)) {
      return; // once per process and database: a new leader opens its store sooner
    }
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      if (atSchemaVersion(c)) {
        MIGRATED.add(url);
        return;
      }
    }
    Flyway.configure()
        .dataSource(url, user, password)
        .locations("classpath:db/postgres")
        .loggers("slf4j")
        .javaMigrations(new V4__strategy_types())
        .load()
        .migrate();
    try (Connection c = DriverManager.getConnection(url, user, password);
        java.sql.Statement st = c.createStatement()) {
      st.execute(
          "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables"
              + " WHERE schemaname = current_schema()"
              + " AND tablename NOT IN ('leader', 'flyway_schema_history') LOOP"
              + " IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'pilothouse_fence'"
              + " AND tgrelid = format('%I', t)::regclass) THEN"
              + " EXECUTE format('CREATE OR REPLACE TRIGGER pilothouse_fence BEFORE INSERT OR"
              + " UPDATE OR DELETE OR TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION"
              + " pilothouse_fence()', t); END IF; END LOOP; END $$");
    }
    MIGRATED.add(url);
  }

  /**
   * The newest migration's version, in db/sqlite and db/postgres alike (a test holds it to the
   * files): a store already there opens without Flyway, which takes most of a second to start.
   */
  static final int SCHEMA_VERSION = 15;

  /** Whether every migration up to {@link #SCHEMA_VERSION} is applied, and none failed. */
  static boolean atSchemaVersion(Connection c) {
    try (java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs =
            st.executeQuery(
                "SELECT version, success FROM flyway_schema_history WHERE version IS NOT NULL")) {
      int newest = 0;
      while (rs.next()) {
        if (!rs.getBoolean(2)) {
          return false; // a failed migration: Flyway reports it
        }
        newest = Math.max(newest, Integer.parseInt(rs.getString(1)));
      }
      return newest == SCHEMA_VERSION;
    } catch (SQLException | NumberFormatException e) {
      return false; // a new database (no history yet), or one Flyway must look at
    }
  }

  private static final java.util.Set<String> MIGRATED =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  // ---- revisions

  @Override
  public synchronized Revision append(Spec spec, String source) {
    long number =
        h.createQuery("SELECT COALESCE(MAX(number), 0) FROM revisions").mapTo(Long.class).one() + 1;
    Instant at = clock.instant();
    h.createUpdate("INSERT INTO revisions(number, at, source, spec_json) VALUES (?, ?, ?, ?)")
        .bind(0, number)
        .bind(1, at.toString())
        .bind(2, source)
        .bind(3, write(spec))
        .execute();
    return new Revision(number, at, source, spec);
  }

  @Override
  public synchronized Optional<Revision> latest() {
    return h.createQuery("SELECT * FROM revisions ORDER BY number DESC LIMIT 1")
        .map((rs, ctx) -> revision(rs))
        .findOne();
  }

  @Override
  public synchronized List<Revision> list() {
    return h.createQuery("SELECT * FROM revisions ORDER BY number")
        .map((rs, ctx) -> revision(rs))
        .list();
  }

  private Revision revision(java.sql.ResultSet rs) throws SQLException {
    try {
      return new Revision(
          rs.getLong("number"),
          Instant.parse(rs.getString("at")),
          rs.getString("source"),
          json.readValue(rs.getString("spec_json"), Spec.class));
    } catch (JsonProcessingException e) {
      throw new StoreException(
          "reading revision " + rs.getLong("number") + ": " + e.getOriginalMessage(), e);
    }
  }

  // ---- rollouts

  @Override
  public synchronized void saveRollout(Rollout rollout) {
    putJson("rollouts", "service", rollout.service(), rollout);
  }

  @Override
  public synchronized List<Rollout> rollouts() {
    return allJson("rollouts", "service", Rollout.class, "a rollout");
  }

  // ---- flags

  @Override
  public synchronized List<dev.pilothouse.core.flags.Flag> flags() {
    return h.createQuery("SELECT json FROM flags ORDER BY key")
        .map((rs, ctx) -> flag(rs.getString("json"), "a flag"))
        .list();
  }

  @Override
  public synchronized Optional<dev.pilothouse.core.flags.Flag> flag(String key) {
    return h.createQuery("SELECT json FROM flags WHERE key = ?")
        .bind(0, key)
        .map((rs, ctx) -> flag(rs.getString("json"), "flag " + key))
        .findOne();
  }

  @Override
  public synchronized dev.pilothouse.core.flags.FlagChange saveFlag(
      dev.pilothouse.core.flags.Flag flag, String source, String specHash) {
    Optional<dev.pilothouse.core.flags.Flag> before = flag(flag.key());
    Instant at = clock.instant();
    String json = write(flag);
    return h.inTransaction(
        t -> {
          t.createUpdate(
                  "INSERT INTO flags(key, json, spec_hash) VALUES (?, ?, ?) ON CONFLICT(key) DO"
                      + " UPDATE SET json = excluded.json,"
                      + " spec_hash = COALESCE(excluded.spec_hash, flags.spec_hash)")
              .bind(0, flag.key())
              .bind(1, json)
              .bind(2, specHash)
              .execute();
          long seq =
              t.createUpdate(
                      "INSERT INTO flag_changes(at, key, source, before_json, after_json)"
                          + " VALUES (?, ?, ?, ?, ?)")
                  .bind(0, at.toString())
                  .bind(1, flag.key())
                  .bind(2, source)
                  .bind(3, before.map(this::write).orElse(null))
                  .bind(4, json)
                  .executeAndReturnGeneratedKeys("seq")
                  .mapTo(Long.class)
                  .one();
          return new dev.pilothouse.core.flags.FlagChange(
              seq, at, flag.key(), source, before.orElse(null), flag);
        });
  }

  @Override
  public synchronized Optional<dev.pilothouse.core.flags.FlagChange> deleteFlag(
      String key, String source) {
    Optional<dev.pilothouse.core.flags.Flag> before = flag(key);
    if (before.isEmpty()) {
      return Optional.empty();
    }
    Instant at = clock.instant();
    return Optional.of(
        h.inTransaction(
            t -> {
              t.createUpdate("DELETE FROM flags WHERE key = ?").bind(0, key).execute();
              long seq =
                  t.createUpdate(
                          "INSERT INTO flag_changes(at, key, source, before_json, after_json)"
                              + " VALUES (?, ?, ?, ?, NULL)")
                      .bind(0, at.toString())
                      .bind(1, key)
                      .bind(2, source)
                      .bind(3, write(before.get()))
                      .executeAndReturnGeneratedKeys("seq")
                      .mapTo(Long.class)
                      .one();
              return new dev.pilothouse.core.flags.FlagChange(
                  seq, at, key, source, before.get(), null);
            }));
  }

  @Override
  public synchronized Optional<String> specHash(String key) {
    return h.createQuery("SELECT spec_hash FROM flags WHERE key = ?")
        .bind(0, key)
        .mapTo(String.class)
        .findOne();
  }

  @Override
  public synchronized List<dev.pilothouse.core.flags.FlagChange> flagHistory(
      String key, int limit) {
    // (no untyped ':key IS NULL': PostgreSQL cannot tell a null parameter's type)
    var q =
        h.createQuery(
                "SELECT * FROM flag_changes"
                    + (key == null ? "" : " WHERE key = :key")
                    + " ORDER BY seq DESC LIMIT :limit")
            .bind("limit", Math.max(1, limit));
    if (key != null) {
      q.bind("key", key);
    }
    return q.map(
            (rs, ctx) ->
                new dev.pilothouse.core.flags.FlagChange(
                    rs.getLong("seq"),
                    Instant.parse(rs.getString("at")),
                    rs.getString("key"),
                    rs.getString("source"),
                    rs.getString("before_json") == null
                        ? null
                        : flag(rs.getString("before_json"), "a flag change"),
                    rs.getString("after_json") == null
                        ? null
                        : flag(rs.getString("after_json"), "a flag change")))
        .list();
  }

  @Override
  public synchronized void saveFlagRollout(dev.pilothouse.core.flags.FlagRollout rollout) {
    putJson("flag_rollouts", "key", rollout.key(), rollout);
  }

  @Override
  public synchronized List<dev.pilothouse.core.flags.FlagRollout> flagRollouts() {
    return allJson(
        "flag_rollouts", "key", dev.pilothouse.core.flags.FlagRollout.class, "a flag rollout");
  }

  // ---- experiments

  @Override
  public synchronized void saveExperiment(dev.pilothouse.core.experiment.ExperimentRecord r) {
    putJson("experiments", "name", r.name(), r);
  }

  @Override
  public synchronized List<dev.pilothouse.core.experiment.ExperimentRecord> experiments() {
    return allJson(
        "experiments",
        "name",
        dev.pilothouse.core.experiment.ExperimentRecord.class,
        "an experiment");
  }

  // ---- API tokens

  @Override
  public synchronized void saveToken(dev.pilothouse.core.security.ApiToken t) {
    putJson("api_tokens", "name", t.name(), t);
  }

  @Override
  public synchronized List<dev.pilothouse.core.security.ApiToken> tokens() {
    return allJson(
        "api_tokens", "name", dev.pilothouse.core.security.ApiToken.class, "an API token");
  }

  // ---- secrets (sealed)

  @Override
  public synchronized void saveSecret(dev.pilothouse.core.security.SecretRecord r) {
    putJson("secrets", "name", r.name(), r);
  }

  @Override
  public synchronized List<dev.pilothouse.core.security.SecretRecord> secrets() {
    return allJson("secrets", "name", dev.pilothouse.core.security.SecretRecord.class, "a secret");
  }

  @Override
  public synchronized void deleteSecret(String name) {
    h.createUpdate("DELETE FROM secrets WHERE name = ?").bind(0, name).execute();
  }

  // ---- alerts

  /** One rule group's alerts as a row. */
  private record AlertGroupRow(String key, List<dev.pilothouse.core.alerting.AlertState> alerts) {}

  @Override
  public synchronized Map<String, List<dev.pilothouse.core.alerting.AlertState>> load() {
    Map<String, List<dev.pilothouse.core.alerting.AlertState>> out =
        new java.util.LinkedHashMap<>();
    for (AlertGroupRow r : allJson("alert_groups", "group_key", AlertGroupRow.class, "alerts")) {
      out.put(r.key(), r.alerts());
    }
    return out;
  }

  @Override
  public synchronized void save(
      String groupKey, List<dev.pilothouse.core.alerting.AlertState> alerts) {
    if (alerts.isEmpty()) {
      h.createUpdate("DELETE FROM alert_groups WHERE group_key = ?").bind(0, groupKey).execute();
    } else {
      putJson("alert_groups", "group_key", groupKey, new AlertGroupRow(groupKey, alerts));
    }
  }

  // ---- incidents

  @Override
  public synchronized dev.pilothouse.core.incident.IncidentRepository.Snapshot incidentSnapshot() {
    List<dev.pilothouse.core.incident.Incident> open =
        h.createQuery("SELECT json FROM incidents WHERE open = 1 ORDER BY id")
            .map((rs, ctx) -> incident(rs.getString("json")))
            .list();
    long seq =
        h.createQuery("SELECT event_seq FROM incident_cursor WHERE id = 1").mapTo(Long.class).one();
    return new dev.pilothouse.core.incident.IncidentRepository.Snapshot(open, seq);
  }

  @Override
  public synchronized List<dev.pilothouse.core.incident.Incident> recent(int limit) {
    return h.createQuery("SELECT json FROM incidents ORDER BY id DESC LIMIT ?")
        .bind(0, limit)
        .map((rs, ctx) -> incident(rs.getString("json")))
        .list();
  }

  @Override
  public synchronized Optional<dev.pilothouse.core.incident.Incident> incident(long id) {
    return h.createQuery("SELECT json FROM incidents WHERE id = ?")
        .bind(0, id)
        .map((rs, ctx) -> incident(rs.getString("json")))
        .findOne();
  }

  @Override
  public synchronized void save(
      List<dev.pilothouse.core.incident.Incident> changed, long eventCursor) {
    h.useTransaction(
        t -> {
          for (var i : changed) {
            t.createUpdate(upsert("incidents", "id", "open", "json"))
                .bind(0, i.id())
                .bind(1, i.open() ? 1 : 0)
                .bind(2, write(i))
                .execute();
          }
          t.createUpdate("UPDATE incident_cursor SET event_seq = ? WHERE id = 1")
              .bind(0, eventCursor)
              .execute();
        });
  }

  @Override
  public synchronized long nextId() {
    return h.inTransaction(
        t -> {
          long id =
              t.createQuery("SELECT next_id FROM incident_cursor WHERE id = 1")
                  .mapTo(Long.class)
                  .one();
          t.createUpdate("UPDATE incident_cursor SET next_id = ? WHERE id = 1")
              .bind(0, id + 1)
              .execute();
          return id;
        });
  }

  private dev.pilothouse.core.incident.Incident incident(String text) {
    try {
      return json.readValue(text, dev.pilothouse.core.incident.Incident.class);
    } catch (JsonProcessingException e) {
      throw new StoreException("reading an incident: " + e.getOriginalMessage(), e);
    }
  }

  // ---- the autoscaler's decisions

  @Override
  public Map<String, dev.pilothouse.core.scaling.ScaleState> scales() {
    Map<String, dev.pilothouse.core.scaling.ScaleState> m = scales;
    if (m == null) {
      synchronized (this) {
        m =
            Map.copyOf(
                h.createQuery("SELECT service, replicas, at, reason FROM scales")
                    .map(
                        (rs, ctx) ->
                            new dev.pilothouse.core.scaling.ScaleState(
                                rs.getString("service"),
                                rs.getInt("replicas"),
                                Instant.parse(rs.getString("at")),
                                rs.getString("reason")))
                    .collectToMap(dev.pilothouse.core.scaling.ScaleState::service, x -> x));
        scales = m;
      }
    }
    return m;
  }

  @Override
  public void saveScale(dev.pilothouse.core.scaling.ScaleState state, NewEvent event) {
    Event stored;
    synchronized (this) {
      stored =
          h.inTransaction(
              t -> {
                t.createUpdate(upsert("scales", "service", "replicas", "at", "reason"))
                    .bind(0, state.service())
                    .bind(1, state.replicas())
                    .bind(2, state.at().toString())
                    .bind(3, state.reason())
                    .execute();
                return insert(t, event);
              });
      advance(stored);
      scales = null;
    }
    published(stored);
  }

  @Override
  public synchronized void deleteScale(String service) {
    h.createUpdate("DELETE FROM scales WHERE service = ?").bind(0, service).execute();
    scales = null;
  }

  // ---- chaos runs

  @Override
  public synchronized List<dev.pilothouse.core.chaos.ChaosRun> chaosRuns() {
    List<dev.pilothouse.core.chaos.ChaosRun> all =
        new ArrayList<>(
            allJson(
                "chaos_runs",
                "started_at",
                dev.pilothouse.core.chaos.ChaosRun.class,
                "a chaos run"));
    java.util.Collections.reverse(all);
    return all;
  }

  @Override
  public synchronized Optional<dev.pilothouse.core.chaos.ChaosRun> chaosRun(String id) {
    return h.createQuery("SELECT json FROM chaos_runs WHERE id = ?")
        .bind(0, id)
        .mapTo(String.class)
        .findOne()
        .map(
            text -> {
              try {
                return json.readValue(text, dev.pilothouse.core.chaos.ChaosRun.class);
              } catch (JsonProcessingException e) {
                throw new StoreException("reading a chaos run: " + e.getOriginalMessage(), e);
              }
            });
  }

  @Override
  public synchronized void saveChaosRun(dev.pilothouse.core.chaos.ChaosRun run) {
    h.createUpdate(upsert("chaos_runs", "id", "started_at", "done", "json"))
        .bind(0, run.id())
        .bind(1, run.startedAt().toString())
        .bind(2, run.state() == dev.pilothouse.core.chaos.ChaosRun.State.DONE ? 1 : 0)
        .bind(3, write(run))
        .execute();
  }

  @Override
  public synchronized Optional<dev.pilothouse.core.chaos.ChaosRepository.Halt> chaosHalt() {
    return h.createQuery("SELECT at, reason FROM chaos_halt WHERE id = 1")
        .map(
            (rs, ctx) ->
                new dev.pilothouse.core.chaos.ChaosRepository.Halt(
                    Instant.parse(rs.getString("at")), rs.getString("reason")))
        .findOne();
  }

  @Override
  public synchronized void saveChaosHalt(dev.pilothouse.core.chaos.ChaosRepository.Halt halt) {
    if (halt == null) {
      h.createUpdate("DELETE FROM chaos_halt").execute();
    } else {
      h.createUpdate(upsert("chaos_halt", "id", "at", "reason"))
          .bind(0, 1)
          .bind(1, halt.at().toString())
          .bind(2, halt.reason())
          .execute();
    }
  }

  @Override
  public synchronized void pruneChaosRuns(int keep) {
    h.createUpdate(
            "DELETE FROM chaos_runs WHERE done = 1 AND id NOT IN"
                + " (SELECT id FROM chaos_runs WHERE done = 1 ORDER BY started_at DESC LIMIT ?)")
        .bind(0, keep)
        .execute();
  }

  // ---- silences and the notification log

  @Override
  public synchronized List<dev.pilothouse.core.alerting.routing.Silence> silences() {
    return allJson(
        "silences", "id", dev.pilothouse.core.alerting.routing.Silence.class, "a silence");
  }

  @Override
  public synchronized void saveSilence(dev.pilothouse.core.alerting.routing.Silence s) {
    h.createUpdate(upsert("silences", "id", "ends_at", "json"))
        .bind(0, s.id())
        .bind(1, s.endsAt().toString())
        .bind(2, write(s))
        .execute();
  }

  @Override
  public synchronized void purgeSilences(Instant expiredBefore) {
    // ISO-8601 instants of one format compare as text; rows are read back to be exact.
    for (var s : silences()) {
      if (s.endsAt().isBefore(expiredBefore)) {
        h.createUpdate("DELETE FROM silences WHERE id = ?").bind(0, s.id()).execute();
      }
    }
  }

  @Override
  public synchronized Optional<Notified> notified(String key) {
    return h.createQuery("SELECT json FROM notification_log WHERE log_key = ?")
        .bind(0, key)
        .mapTo(String.class)
        .findOne()
        .map(
            text -> {
              try {
                return json.readValue(text, Notified.class);
              } catch (JsonProcessingException e) {
                throw new StoreException(
                    "reading the notification log: " + e.getOriginalMessage(), e);
              }
            });
  }

  @Override
  public synchronized void saveNotified(Notified n) {
    h.createUpdate(upsert("notification_log", "log_key", "expires_at", "json"))
        .bind(0, n.key())
        .bind(1, n.expiresAt().toString())
        .bind(2, write(n))
        .execute();
  }

  @Override
  public synchronized void purgeNotified(Instant now) {
    List<String> gone =
        h.createQuery("SELECT log_key, json FROM notification_log")
            .map(
                (rs, ctx) -> {
                  try {
                    Notified n = json.readValue(rs.getString("json"), Notified.class);
                    return n.expiresAt().isBefore(now) ? n.key() : null;
                  } catch (JsonProcessingException e) {
                    return rs.getString("log_key"); // unreadable: drop it
                  }
                })
            .list();
    for (String k : gone) {
      if (k != null) {
        h.createUpdate("DELETE FROM notification_log WHERE log_key = ?").bind(0, k).execute();
      }
    }
  }

  /** Replaces the row of key in a table of (key column, json) rows. */
  /**
   * An insert that replaces the row with the same key: {@code INSERT … ON CONFLICT (key) DO
   * UPDATE}, which SQLite (3.24+) and PostgreSQL both speak; parameters in the order key, then
   * columns.
   */
  static String upsert(String table, String key, String... columns) {
    StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append('(').append(key);
    for (String c : columns) {
      sql.append(", ").append(c);
    }
    sql.append(") VALUES (?").append(", ?".repeat(columns.length)).append(") ON CONFLICT (");
    sql.append(key).append(") DO UPDATE SET ");
    for (int i = 0; i < columns.length; i++) {
      sql.append(i == 0 ? "" : ", ").append(columns[i]).append(" = excluded.").append(columns[i]);
    }
    return sql.toString();
  }

  private void putJson(String table, String keyColumn, String key, Object value) {
    h.createUpdate(upsert(table, keyColumn, "json")).bind(0, key).bind(1, write(value)).execute();
  }

  /** Every row of a table of (key column, json) rows, by key. */
  private <T> List<T> allJson(String table, String keyColumn, Class<T> type, String what) {
    return h.createQuery("SELECT json FROM " + table + " ORDER BY " + keyColumn)
        .map(
            (rs, ctx) -> {
              try {
                return json.readValue(rs.getString("json"), type);
              } catch (JsonProcessingException e) {
                throw new StoreException("reading " + what + ": " + e.getOriginalMessage(), e);
              }
            })
        .list();
  }

  private dev.pilothouse.core.flags.Flag flag(String text, String what) {
    try {
      return json.readValue(text, dev.pilothouse.core.flags.Flag.class);
    } catch (JsonProcessingException e) {
      throw new StoreException("reading " + what + ": " + e.getOriginalMessage(), e);
    }
  }

  // ---- instances

  @Override
  public synchronized List<InstanceRecord> loadInstances() {
    return h.createQuery("SELECT * FROM instances ORDER BY service, slot, started_at")
        .map(
            (rs, ctx) ->
                new InstanceRecord(
                    rs.getString("id"),
                    rs.getString("service"),
                    rs.getInt("slot"),
                    rs.getString("template"),
                    rs.getLong("pid"),
                    rs.getLong("start_ticks"),
                    rs.getInt("port"),
                    rs.getString("state"),
                    rs.getInt("ready") != 0,
                    Instant.parse(rs.getString("started_at")),
                    rs.getInt("restarts"),
                    rs.getString("version")))
        .list();
  }

  @Override
  public synchronized void saveInstance(InstanceRecord r) {
    h.createUpdate(
            upsert(
                "instances",
                "id",
                "service",
                "slot",
                "template",
                "pid",
                "start_ticks",
                "port",
                "state",
                "ready",
                "started_at",
                "restarts",
                "version"))
        .bind(0, r.id())
        .bind(1, r.service())
        .bind(2, r.slot())
        .bind(3, r.template())
        .bind(4, r.pid())
        .bind(5, r.startTicks())
        .bind(6, r.port())
        .bind(7, r.state())
        .bind(8, r.ready() ? 1 : 0)
        .bind(9, r.startedAt().toString())
        .bind(10, r.restarts())
        .bind(11, r.version())
        .execute();
  }

  @Override
  public synchronized void deleteInstance(String id) {
    h.createUpdate("DELETE FROM instances WHERE id = ?").bind(0, id).execute();
  }

  @Override
  public synchronized Map<String, Integer> loadGenerations() {
    Map<String, Integer> out = new java.util.HashMap<>();
    h.createQuery("SELECT service, generation FROM generations")
        .mapToMap()
        .forEach(
            m -> out.put((String) m.get("service"), ((Number) m.get("generation")).intValue()));
    return out;
  }

  @Override
  public synchronized void saveGeneration(String service, int generation) {
    h.createUpdate(upsert("generations", "service", "generation"))
        .bind(0, service)
        .bind(1, generation)
        .execute();
  }

  // ---- events

  @Override
  public void emit(NewEvent e) {
    Event stored;
    synchronized (this) {
      stored = insert(h, e);
      advance(stored);
    }
    published(stored);
  }

  /** Writes an event row after the last one (within handle's transaction, if it has one). */
  private Event insert(Handle handle, NewEvent e) {
    long seq = lastSeq + 1;
    String at = e.at().toString();
    String hash =
        EventChain.hash(
            lastHash, seq, at, e.type(), e.service(), e.instance(), e.message(), e.fields());
    handle
        .createUpdate(
            "INSERT INTO events(seq, at, type, service, instance, message, fields, prev_hash, hash)"
                + " VALUES (?,?,?,?,?,?,?,?,?)")
        .bind(0, seq)
        .bind(1, at)
        .bind(2, e.type())
        .bind(3, e.service())
        .bind(4, e.instance())
        .bind(5, e.message())
        .bind(6, write(e.fields()))
        .bind(7, lastHash)
        .bind(8, hash)
        .execute();
    return new Event(
        seq, e.at(), e.type(), e.service(), e.instance(), e.message(), e.fields(), lastHash, hash);
  }

  /** The chain moves on once the event's row is committed. */
  private void advance(Event stored) {
    lastSeq = stored.seq();
    lastHash = stored.hash();
  }

  private void published(Event stored) {
    log.info(
        "event {} {} {} {}", stored.type(), stored.service(), stored.instance(), stored.message());
    for (Consumer<Event> l : listeners) {
      try {
        l.accept(stored);
      } catch (RuntimeException ex) {
        log.warn("event listener failed: {}", ex.toString());
      }
    }
  }

  @Override
  public synchronized List<Event> after(long after, int limit) {
    return h.createQuery("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
        .bind(0, after)
        .bind(1, limit)
        .map((rs, ctx) -> event(rs))
        .list();
  }

  @Override
  public synchronized List<Event> latest(int limit) {
    List<Event> out =
        new ArrayList<>(
            h.createQuery("SELECT * FROM events ORDER BY seq DESC LIMIT ?")
                .bind(0, limit)
                .map((rs, ctx) -> event(rs))
                .list());
    java.util.Collections.reverse(out);
    return out;
  }

  @Override
  public AutoCloseable subscribe(Consumer<Event> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public synchronized Verification verify() {
    String prev = EventChain.GENESIS;
    long after = 0;
    long checked = 0;
    while (true) {
      List<Event> batch = after(after, 1000);
      if (batch.isEmpty()) {
        return new Verification(checked, null);
      }
      Optional<EventChain.Break> broken = EventChain.check(prev, after, batch);
      if (broken.isPresent()) {
        return new Verification(checked + batch.size(), broken.get());
      }
      Event last = batch.get(batch.size() - 1);
      checked += batch.size();
      prev = last.hash();
      after = last.seq();
    }
  }

  private Event event(java.sql.ResultSet rs) throws SQLException {
    try {
      return new Event(
          rs.getLong("seq"),
          Instant.parse(rs.getString("at")),
          rs.getString("type"),
          rs.getString("service"),
          rs.getString("instance"),
          rs.getString("message"),
          json.readValue(rs.getString("fields"), FIELDS),
          rs.getString("prev_hash"),
          rs.getString("hash"));
    } catch (JsonProcessingException e) {
      throw new StoreException("reading event " + rs.getLong("seq"), e);
    }
  }

  /** Runs raw SQL; for tests that tamper with the log. */
  synchronized void execute(String sql) {
    h.execute(sql);
  }

  private String write(Object o) {
    try {
      return json.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new StoreException("serializing " + o.getClass().getSimpleName(), e);
    }
  }

  @Override
  public synchronized void close() {
    h.close();
    try {
      connection.close();
    } catch (SQLException e) {
      log.warn("closing the store: {}", e.toString());
    }
  }
}
