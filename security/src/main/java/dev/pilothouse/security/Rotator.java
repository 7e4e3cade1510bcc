package dev.pilothouse.security;

import dev.pilothouse.core.security.Role;
import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.core.security.SecretRecord.Stage;
import dev.pilothouse.core.security.SecretRecord.Step;
import dev.pilothouse.core.spec.SecretsSpec;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rotates secrets as AWS Secrets Manager's rotation functions do, in four recorded steps: create (a
 * new value stored as the pending version), set (the PostgreSQL role's password changed, or the API
 * token made), test (a login with the new value), promote (the new value becomes current; the
 * services that use it get a rolling restart). Each step is saved before the next begins, so a
 * daemon killed at any point resumes at the step after the last one saved; a failed set or test
 * puts the old value back where it is used, keeps it current, and records the failure (an event and
 * the {@code pilothouse_secret_rotation_failed} gauge that a built-in alert watches).
 */
public final class Rotator {
  private static final Logger log = LoggerFactory.getLogger(Rotator.class);

  /** The services that read a secret, and how they are restarted (wired by the server). */
  public interface Consumers {
    List<String> servicesUsing(String secret);

    void restart(String service);
  }

  /** A rotation that finished: the new version and the services restarted to pick it up. */
  public record Outcome(String name, int version, String kind, List<String> restarted) {}

  /** How long after a failed rotation a scheduled one is tried again. */
  static final Duration RETRY_AFTER_FAILURE = Duration.ofHours(1);

  /** Bound on connecting to PostgreSQL and on each statement, in seconds. */
  static final int PG_TIMEOUT_SECONDS = 10;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Secrets secrets;
  private final Tokens tokens;
  private final Supplier<SecretsSpec> policies;
  private final Consumers consumers;
  private final InstantSource clock;
  private Consumer<Step> afterStep = s -> {};

  public Rotator(
      Secrets secrets,
      Tokens tokens,
      Supplier<SecretsSpec> policies,
      Consumers consumers,
      InstantSource clock) {
    this.secrets = secrets;
    this.tokens = tokens;
    this.policies = policies;
    this.consumers = consumers;
    this.clock = clock;
  }

  /** Tests: runs after each step is saved (throwing there is a daemon killed between steps). */
  void afterStep(Consumer<Step> hook) {
    this.afterStep = hook;
  }

  /**
   * Rotates a secret now (or finishes the rotation under way).
   *
   * @throws Secrets.SecretException when it declares no rotation, or the rotation failed (the old
   *     value is kept)
   */
  public synchronized Outcome rotate(String name) {
    Secrets.checkName(name);
    SecretsSpec.Policy p = policies.get().policy(name).orElse(null);
    if (p == null && secrets.record(name).isEmpty()) {
      throw Secrets.notFound(name);
    }
    if (p == null) {
      throw new Secrets.SecretException(
          "secret '"
              + name
              + "' declares no rotation: add 'secrets: {"
              + name
              + ": {rotate: {every: 30d}}}' to the spec (with postgres or apiToken"
              + " when it is a role's password or a token), or set a new value with"
              + " 'pilothouse secrets set'",
          false);
    }
    return run(name, p);
  }

  /**
   * Rotates a secret under a policy that is not applied yet: a spec being applied names a secret
   * that does not exist and declares how it is rotated, so its first value is made that way.
   */
  public synchronized Outcome rotate(SecretsSpec.Policy p) {
    Secrets.checkName(p.name());
    return run(p.name(), p);
  }

  /**
   * Gives each secret that spec's services name but that is not set its first value, when the spec
   * declares how it is rotated; returns the ones still missing, as "NAME (services.SERVICE)".
   *
   * @throws Secrets.SecretException when such a first rotation fails
   */
  public List<String> firstValues(dev.pilothouse.core.spec.Spec spec) {
    java.util.Set<String> have = new java.util.HashSet<>(secrets.records().keySet());
    java.util.Set<String> missing = new java.util.TreeSet<>();
    for (dev.pilothouse.core.spec.ServiceSpec s : spec.services()) {
      for (var ref : s.secretEnv().values()) {
        if (have.contains(ref.secret())) {
          continue;
        }
        Optional<SecretsSpec.Policy> policy = spec.secrets().policy(ref.secret());
        if (policy.isPresent()) {
          try {
            rotate(policy.get());
          } catch (Secrets.SecretException e) {
            throw new Secrets.SecretException(
                "secret '"
                    + ref.secret()
                    + "' is not set and its first rotation failed: "
                    + e.getMessage(),
                false);
          }
          have.add(ref.secret());
        } else {
          missing.add(ref.secret() + " (services." + s.name() + ")");
        }
      }
    }
    return List.copyOf(missing);
  }

  /** Resumes rotations under way and starts the ones due; failures are recorded, not thrown. */
  public synchronized void tick() {
    Instant now = clock.instant();
    Map<String, SecretRecord> stored = secrets.records();
    for (SecretsSpec.Policy p : policies.get().policies()) {
      Optional<SecretRecord> r = Optional.ofNullable(stored.get(p.name()));
      boolean underWay = r.isPresent() && r.get().rotation() != null;
      if (underWay || due(p, r.orElse(null), now)) {
        try {
          run(p.name(), p);
        } catch (Secrets.SecretException e) {
          log.warn("rotation of secret {} failed: {}", p.name(), e.getMessage());
        } catch (RuntimeException e) {
          log.warn("rotation of secret {} failed", p.name(), e);
        }
      }
    }
  }

  /** Whether a scheduled rotation is due: every has passed since the value was last set. */
  static boolean due(SecretsSpec.Policy p, SecretRecord r, Instant now) {
    if (p.every() == null) {
      return false;
    }
    if (r == null) {
      return true;
    }
    if (r.failedAt() != null && now.isBefore(r.failedAt().plus(RETRY_AFTER_FAILURE))) {
      return false;
    }
    Instant since =
        r.stage(Stage.CURRENT).map(SecretRecord.Version::createdAt).orElse(r.createdAt());
    return !now.isBefore(since.plus(p.every()));
  }

  private Outcome run(String name, SecretsSpec.Policy p) {
    SecretRecord r = secrets.record(name).orElse(null);
    if (r == null || r.rotation() == null) {
      r = create(name, p, r);
    }
    int version = r.rotation().version();
    SecretRecord.Version pending =
        r.versions().stream()
            .filter(v -> v.number() == version)
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("rotation without its version"));
    String value = secrets.open(r, pending);
    if (r.rotation().step() == Step.CREATED || r.rotation().step() == Step.SET) {
      try {
        if (r.rotation().step() == Step.CREATED) {
          set(p, version, value);
          r = step(r, Step.SET);
        }
        test(p, value);
        r = step(r, Step.TESTED);
      } catch (Secrets.SecretException | Tokens.TokenException | SQLException e) {
        String why = e.getMessage();
        String undo = undo(p, r, version);
        List<SecretRecord.Version> kept =
            r.versions().stream().filter(v -> v.number() != version).toList();
        secrets.save(r.failed(kept, why, clock.instant()));
        secrets.emit(
            "SecretRotationFailed",
            name,
            "rotation of secret '" + name + "' failed: " + why + "; " + undo,
            version);
        throw new Secrets.SecretException(
            "rotation of secret '"
                + name
                + "' failed: "
                + why
                + "; "
                + undo
                + " (docs/runbooks/secret-rotation-failed.md)",
            false);
      }
    }
    if (r.rotation().step() == Step.TESTED) {
      List<SecretRecord.Version> before = r.versions();
      Optional<SecretRecord.Version> dropped = r.stage(Stage.PREVIOUS);
      SecretRecord.Version next = pending;
      List<SecretRecord.Version> after =
          Secrets.promote(before.stream().filter(v -> v.number() != version).toList(), next);
      r =
          r.rotated(
              after,
              new SecretRecord.Rotation(version, Step.PROMOTED, r.rotation().startedAt()),
              clock.instant());
      secrets.save(r);
      secrets.emit(
          "SecretRotated",
          name,
          "secret '" + name + "' rotated to version " + version + " (" + p.kind() + ")",
          version);
      afterStep.accept(Step.PROMOTED);
      if (p.apiToken() != null && dropped.isPresent()) {
        revokeQuietly(tokenName(name, dropped.get().number())); // current and previous stay valid
      }
    }
    List<String> restarted = new ArrayList<>();
    for (String s : consumers.servicesUsing(name)) {
      try {
        consumers.restart(s);
        restarted.add(s);
      } catch (RuntimeException e) {
        log.warn("could not restart {} after rotating {}: {}", s, name, e.getMessage());
      }
    }
    secrets.save(r.with(r.versions(), null));
    return new Outcome(name, version, p.kind(), restarted);
  }

  private SecretRecord create(String name, SecretsSpec.Policy p, SecretRecord r) {
    Instant now = clock.instant();
    if (r == null) {
      r = SecretRecord.empty(name, now);
    }
    int version = r.latest() + 1;
    String value = p.apiToken() != null ? Tokens.newSecret() : random(p.length());
    List<SecretRecord.Version> versions = new ArrayList<>();
    versions.add(
        new SecretRecord.Version(version, Stage.PENDING, secrets.seal(name, version, value), now));
    r.versions().stream().filter(v -> v.stage() != Stage.PENDING).forEach(versions::add);
    r = r.with(versions, new SecretRecord.Rotation(version, Step.CREATED, now));
    secrets.save(r);
    secrets.emit(
        "SecretRotationStarted",
        name,
        "rotation of secret '" + name + "' to version " + version + " started (" + p.kind() + ")",
        version);
    afterStep.accept(Step.CREATED);
    return r;
  }

  private SecretRecord step(SecretRecord r, Step s) {
    SecretRecord next =
        r.with(
            r.versions(),
            new SecretRecord.Rotation(r.rotation().version(), s, r.rotation().startedAt()));
    secrets.save(next);
    afterStep.accept(s);
    return next;
  }

  /** Puts the new value where it is used (idempotent: a resumed rotation repeats it). */
  private void set(SecretsSpec.Policy p, int version, String value) throws SQLException {
    if (p.postgres() != null) {
      SecretsSpec.Postgres pg = p.postgres();
      try (Connection c = connect(pg, pg.adminUser(), adminPassword(pg))) {
        c.unwrap(org.postgresql.PGConnection.class)
            .alterUserPassword(pg.role(), value.toCharArray(), "scram-sha-256");
      }
    } else if (p.apiToken() != null) {
      tokens.create(
          tokenName(p.name(), version),
          Role.of(p.apiToken().role()),
          p.apiToken().services(),
          List.of(),
          null,
          value);
    }
  }

  /** Logs in with the new value. */
  private void test(SecretsSpec.Policy p, String value) throws SQLException {
    if (p.postgres() != null) {
      SecretsSpec.Postgres pg = p.postgres();
      try (Connection c = connect(pg, pg.role(), value);
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT current_user")) {
        if (!rs.next() || !pg.role().equals(rs.getString(1))) {
          throw new SQLException("logged in, but not as " + pg.role());
        }
      }
    } else if (p.apiToken() != null) {
      if (tokens.authenticate(value).isEmpty()) {
        throw new Secrets.SecretException("the new API token does not authenticate", false);
      }
    }
  }

  /** After a failed set or test: the current value back where it is used; says what was done. */
  private String undo(SecretsSpec.Policy p, SecretRecord r, int version) {
    Optional<SecretRecord.Version> current = r.stage(Stage.CURRENT);
    if (p.postgres() != null) {
      if (current.isEmpty()) {
        return "there is no earlier value to put back";
      }
      SecretsSpec.Postgres pg = p.postgres();
      try (Connection c = connect(pg, pg.adminUser(), adminPassword(pg))) {
        c.unwrap(org.postgresql.PGConnection.class)
            .alterUserPassword(
                pg.role(), secrets.open(r, current.get()).toCharArray(), "scram-sha-256");
        return "the role's password is the current version " + current.get().number() + " again";
      } catch (SQLException | RuntimeException e) {
        return "the role's password could not be put back ("
            + e.getMessage()
            + "): log in as "
            + pg.adminUser()
            + " and set it to 'pilothouse secrets get "
            + p.name()
            + "'";
      }
    }
    if (p.apiToken() != null) {
      revokeQuietly(tokenName(p.name(), version));
    }
    return current.isPresent()
        ? "version " + current.get().number() + " stays current"
        : "the secret has no current value";
  }

  private void revokeQuietly(String token) {
    try {
      tokens.revoke(token);
    } catch (Tokens.TokenException e) {
      // never made
    }
  }

  private String adminPassword(SecretsSpec.Postgres pg) {
    return secrets
        .value(pg.adminSecret())
        .orElseThrow(
            () ->
                new Secrets.SecretException(
                    "the admin secret '"
                        + pg.adminSecret()
                        + "' is not set: 'pilothouse secrets set "
                        + pg.adminSecret()
                        + "' with the password of "
                        + pg.adminUser(),
                    false));
  }

  private static Connection connect(SecretsSpec.Postgres pg, String user, String password)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    props.setProperty("password", password);
    props.setProperty("connectTimeout", Integer.toString(PG_TIMEOUT_SECONDS));
    props.setProperty("loginTimeout", Integer.toString(PG_TIMEOUT_SECONDS));
    props.setProperty("socketTimeout", Integer.toString(3 * PG_TIMEOUT_SECONDS));
    props.setProperty("ApplicationName", "pilothouse-rotation");
    String url = "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/" + pg.database();
    try {
      return DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      throw new SQLException(
          "PostgreSQL at "
              + pg.host()
              + ":"
              + pg.port()
              + " refused "
              + user
              + ": "
              + firstLine(e.getMessage()),
          e.getSQLState(),
          e);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  /** The API token a version of a secret is: s-NAME-vN (a valid token name). */
  static String tokenName(String secret, int version) {
    String base = secret.replaceAll("[^a-z0-9-]", "-").toLowerCase(Locale.ROOT);
    if (base.length() > 50) {
      base = base.substring(0, 50);
    }
    return "s-" + base + "-v" + version;
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** The daemon's metrics about rotation, in the Prometheus text format. */
  public String metricsText() {
    StringBuilder b = new StringBuilder();
    b.append(
            "# HELP pilothouse_secret_rotation_failed Whether the last rotation of a secret failed")
        .append(" (1; its old value is kept) or not (0).\n")
        .append("# TYPE pilothouse_secret_rotation_failed gauge\n");
    StringBuilder age = new StringBuilder();
    age.append("# HELP pilothouse_secret_age_seconds How long ago the current value was set.\n")
        .append("# TYPE pilothouse_secret_age_seconds gauge\n");
    Instant now = clock.instant();
    Map<String, SecretRecord> stored = secrets.records();
    for (SecretsSpec.Policy p : policies.get().policies()) {
      Optional<SecretRecord> r = Optional.ofNullable(stored.get(p.name()));
      String label = "{secret=\"" + p.name() + "\"}";
      b.append("pilothouse_secret_rotation_failed")
          .append(label)
          .append(' ')
          .append(r.isPresent() && r.get().lastFailure() != null ? 1 : 0)
          .append('\n');
      r.flatMap(x -> x.stage(Stage.CURRENT))
          .ifPresent(
              v ->
                  age.append("pilothouse_secret_age_seconds")
                      .append(label)
                      .append(' ')
                      .append(Duration.between(v.createdAt(), now).toSeconds())
                      .append('\n'));
    }
    return b.append(age).toString();
  }
}
