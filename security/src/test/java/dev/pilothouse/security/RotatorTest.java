package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.core.spec.SecretsSpec;
import dev.pilothouse.store.SqliteStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rotation against a real PostgreSQL server, with the secrets in a real SQLite store. */
class RotatorTest {
  static RealPostgres pg;

  @BeforeAll
  static void startPostgres() throws Exception {
    pg = RealPostgres.start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pg != null) {
      pg.close();
    }
  }

  @TempDir Path dir;
  Instant now = Instant.parse("2026-11-30T10:00:00Z");
  final InstantSource clock = () -> now;
  final List<NewEvent> events = new ArrayList<>();
  final List<String> restarted = new ArrayList<>();
  SqliteStore store;
  SecretBox box;
  String role;

  final Rotator.Consumers consumers =
      new Rotator.Consumers() {
        @Override
        public List<String> servicesUsing(String secret) {
          return secret.equals("db-password") ? List.of("api", "worker") : List.of();
        }

        @Override
        public void restart(String service) {
          restarted.add(service);
        }
      };

  @BeforeEach
  void setUp() throws Exception {
    store = SqliteStore.open(dir.resolve("pilothouse.db"), clock);
    box = SecretBox.open(dir.resolve("secrets"), null);
    role = "app_" + Long.toHexString(System.nanoTime());
    pg.sql("CREATE ROLE " + role + " LOGIN PASSWORD 'old-password'");
    Secrets s = secrets();
    s.set("pg-admin", RealPostgres.ADMIN_PASSWORD);
    s.set("db-password", "old-password");
    events.clear();
  }

  @AfterEach
  void tearDown() {
    store.close();
  }

  Secrets secrets() {
    return new Secrets(store, box, events::add, clock);
  }

  SecretsSpec spec() {
    return new SecretsSpec(
        List.of(
            new SecretsSpec.Policy(
                "db-password",
                Duration.ofDays(30),
                32,
                new SecretsSpec.Postgres(
                    "127.0.0.1", pg.port, "postgres", role, "postgres", "pg-admin"),
                null)));
  }

  /** A fresh rotator over the same store and key: what a restarted daemon builds. */
  Rotator rotator(Secrets s) {
    TokensTest.Memory tokenRows = new TokensTest.Memory();
    return new Rotator(s, new Tokens(tokenRows, events::add, clock), this::spec, consumers, clock);
  }

  @Test
  void aPostgresPassword_isRotatedTested_andPromoted_thenItsServicesRestart() {
    Secrets s = secrets();
    Rotator.Outcome o = rotator(s).rotate("db-password");

    String fresh = s.value("db-password").orElseThrow();
    assertThat(o.version()).isEqualTo(2);
    assertThat(o.kind()).isEqualTo("postgres");
    assertThat(fresh).isNotEqualTo("old-password").hasSize(43); // 32 random bytes, base64url
    assertThat(pg.canLogin(role, fresh)).isTrue();
    assertThat(pg.canLogin(role, "old-password")).isFalse();
    assertThat(restarted).containsExactly("api", "worker");
    assertThat(o.restarted()).containsExactly("api", "worker");
    SecretRecord r = s.record("db-password").orElseThrow();
    assertThat(r.rotation()).isNull();
    assertThat(r.rotatedAt()).isEqualTo(now);
    assertThat(r.versions())
        .extracting(SecretRecord.Version::number, SecretRecord.Version::stage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(2, SecretRecord.Stage.CURRENT),
            org.assertj.core.groups.Tuple.tuple(1, SecretRecord.Stage.PREVIOUS));
    assertThat(events)
        .extracting(NewEvent::type)
        .containsExactly("SecretRotationStarted", "SecretRotated");
    assertThat(events.toString()).doesNotContain(fresh).doesNotContain("old-password");
  }

  @Test
  void aDaemonKilledAfterAnyStep_resumesAtTheNextOne_andFinishesTheRotation() {
    for (SecretRecord.Step crashAfter :
        List.of(
            SecretRecord.Step.CREATED,
            SecretRecord.Step.SET,
            SecretRecord.Step.TESTED,
            SecretRecord.Step.PROMOTED)) {
      restarted.clear();
      Rotator first = rotator(secrets());
      first.afterStep(
          step -> {
            if (step == crashAfter) {
              throw new Killed();
            }
          });
      int before = secrets().reveal("db-password").orElseThrow().version();
      assertThatThrownBy(() -> first.rotate("db-password")).isInstanceOf(Killed.class);
      SecretRecord left = secrets().record("db-password").orElseThrow();
      assertThat(left.rotation().step()).as("after %s", crashAfter).isEqualTo(crashAfter);
      // the value in use is still the old one until the new one is promoted
      if (crashAfter != SecretRecord.Step.PROMOTED) {
        assertThat(secrets().reveal("db-password").orElseThrow().version()).isEqualTo(before);
      }

      // the next daemon's scheduler finds the rotation under way and finishes it
      Secrets s = secrets();
      rotator(s).tick();
      SecretRecord done = s.record("db-password").orElseThrow();
      assertThat(done.rotation()).as("after %s", crashAfter).isNull();
      assertThat(s.reveal("db-password").orElseThrow().version()).isEqualTo(before + 1);
      assertThat(pg.canLogin(role, s.value("db-password").orElseThrow()))
          .as("after %s", crashAfter)
          .isTrue();
      assertThat(restarted).containsExactly("api", "worker");
    }
  }

  @Test
  void aFailedTest_putsTheOldPasswordBack_keepsItCurrent_andRaisesTheFailure() throws Exception {
    pg.sql("ALTER ROLE " + role + " CONNECTION LIMIT 0"); // the role cannot log in: test fails
    Secrets s = secrets();
    Rotator r = rotator(s);
    assertThatThrownBy(() -> r.rotate("db-password"))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageContaining("rotation of secret 'db-password' failed")
        .hasMessageContaining("too many connections")
        .hasMessageContaining("current version 1 again");
    assertThat(s.reveal("db-password").orElseThrow())
        .isEqualTo(new Secrets.Revealed("db-password", 1, "old-password"));
    SecretRecord rec = s.record("db-password").orElseThrow();
    assertThat(rec.rotation()).isNull();
    assertThat(rec.versions()).extracting(SecretRecord.Version::number).containsExactly(1);
    assertThat(rec.lastFailure()).contains("too many connections");
    assertThat(restarted).isEmpty();
    assertThat(events).extracting(NewEvent::type).contains("SecretRotationFailed");
    assertThat(r.metricsText())
        .contains("pilothouse_secret_rotation_failed{secret=\"db-password\"} 1");

    pg.sql("ALTER ROLE " + role + " CONNECTION LIMIT -1");
    assertThat(pg.canLogin(role, "old-password")).as("the old password works again").isTrue();
    // not retried by the scheduler before the back-off has passed, then retried and recovered
    r.tick();
    assertThat(s.reveal("db-password").orElseThrow().version()).isEqualTo(1);
    now = now.plus(Rotator.RETRY_AFTER_FAILURE).plus(Duration.ofDays(30));
    r.tick();
    assertThat(s.reveal("db-password").orElseThrow().version()).isEqualTo(3);
    assertThat(r.metricsText())
        .contains("pilothouse_secret_rotation_failed{secret=\"db-password\"} 0");
  }

  @Test
  void aMissingAdminSecret_failsTheRotation_namingIt_andChangesNothing() {
    Secrets s = secrets();
    s.delete("pg-admin");
    assertThatThrownBy(() -> rotator(s).rotate("db-password"))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageContaining("the admin secret 'pg-admin' is not set");
    assertThat(s.value("db-password")).contains("old-password");
    assertThat(pg.canLogin(role, "old-password")).isTrue();
  }

  @Test
  void aSecretWithoutRotation_isRefusedWithHowToDeclareIt() {
    assertThatThrownBy(() -> rotator(secrets()).rotate("pg-admin"))
        .isInstanceOf(Secrets.SecretException.class)
        .hasMessageContaining("declares no rotation")
        .hasMessageContaining("pg-admin: {rotate: {every: 30d}}");
  }

  @Test
  void aSecretThatDoesNotExist_isNotFound_notToldItLacksARotation() {
    assertThatThrownBy(() -> rotator(secrets()).rotate("no-such-secret"))
        .isInstanceOfSatisfying(Secrets.SecretException.class, e -> assertThat(e.notFound).isTrue())
        .hasMessage("no secret named 'no-such-secret'");
  }

  @Test
  void anApiToken_isRotated_keepingThePreviousValid_andRevokingTheOneBefore() {
    TokensTest.Memory rows = new TokensTest.Memory();
    Tokens tokens = new Tokens(rows, events::add, clock);
    Secrets s = secrets();
    SecretsSpec spec =
        new SecretsSpec(
            List.of(
                new SecretsSpec.Policy(
                    "metrics-token",
                    Duration.ofDays(90),
                    32,
                    null,
                    new SecretsSpec.ApiTokenTarget("viewer", List.of()))));
    Rotator r = new Rotator(s, tokens, () -> spec, consumers, clock);
    r.rotate("metrics-token");
    String v1 = s.value("metrics-token").orElseThrow();
    assertThat(tokens.authenticate(v1).orElseThrow().role().id()).isEqualTo("viewer");
    r.rotate("metrics-token");
    String v2 = s.value("metrics-token").orElseThrow();
    assertThat(tokens.authenticate(v2)).isPresent();
    assertThat(tokens.authenticate(v1)).as("the previous stays valid").isPresent();
    r.rotate("metrics-token");
    assertThat(tokens.authenticate(v1)).as("the one before the previous is revoked").isEmpty();
    assertThat(tokens.authenticate(v2)).isPresent();
    assertThat(tokens.authenticate(s.value("metrics-token").orElseThrow())).isPresent();
  }

  @Test
  void aScheduledRotation_isDueWhenTheCurrentValueIsOlderThanItsPeriod() {
    SecretsSpec.Policy p = new SecretsSpec.Policy("k", Duration.ofDays(30), 32, null, null);
    SecretRecord r =
        new SecretRecord(
            "k",
            List.of(new SecretRecord.Version(1, SecretRecord.Stage.CURRENT, "v1:x:y", now)),
            null,
            now,
            null,
            null,
            null,
            1);
    assertThat(Rotator.due(p, r, now.plus(Duration.ofDays(29)))).isFalse();
    assertThat(Rotator.due(p, r, now.plus(Duration.ofDays(30)))).isTrue();
    assertThat(Rotator.due(p, null, now)).as("never set: made now").isTrue();
    assertThat(
            Rotator.due(
                new SecretsSpec.Policy("k", null, 32, null, null),
                r,
                now.plus(Duration.ofDays(999))))
        .as("no period: only by hand")
        .isFalse();

    // a generated secret: a new random value of the declared length
    Secrets s = secrets();
    Rotator gen =
        new Rotator(
            s,
            new Tokens(new TokensTest.Memory(), events::add, clock),
            () ->
                new SecretsSpec(
                    List.of(new SecretsSpec.Policy("session-key", null, 64, null, null))),
            consumers,
            clock);
    gen.rotate("session-key");
    assertThat(s.value("session-key").orElseThrow()).hasSize(86);
  }

  /** Stands for a kill -9 between two steps: nothing after the throw runs. */
  static final class Killed extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }
}
