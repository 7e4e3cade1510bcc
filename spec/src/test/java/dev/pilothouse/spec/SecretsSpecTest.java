package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.SecretsSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.SpecDiff;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Secret references in env, the secrets: section, and the plain-text warning. */
class SecretsSpecTest {
  static ParsedSpec parse(String yaml) {
    return SpecParserTest.parse(yaml);
  }

  @Test
  void envEntries_nameSecrets_asValuesOrFiles_andTheSpecHoldsOnlyTheirNames() {
    ParsedSpec p =
        parse(
            SpecParserTest.svc(
                "    env:\n"
                    + "      LOG_LEVEL: info\n"
                    + "      DB_PASSWORD: {secret: db-password}\n"
                    + "      TLS_KEY_FILE: {secret: tls.key, file: true}\n"));
    assertThat(p.errors()).isEmpty();
    ServiceSpec s = p.spec().orElseThrow().services().get(0);
    assertThat(s.env()).containsExactly(java.util.Map.entry("LOG_LEVEL", "info"));
    assertThat(s.secretEnv())
        .containsEntry("DB_PASSWORD", new SecretRef("db-password", false))
        .containsEntry("TLS_KEY_FILE", new SecretRef("tls.key", true));
    assertThat(p.warnings()).isEmpty();
  }

  @Test
  void changingWhichSecretAVariableNames_changesTheLaunchTemplate_andTheDiffNamesTheVariable() {
    Spec a =
        parse(SpecParserTest.svc("    env: {DB_PASSWORD: {secret: one}}\n")).spec().orElseThrow();
    Spec b =
        parse(SpecParserTest.svc("    env: {DB_PASSWORD: {secret: two}}\n")).spec().orElseThrow();
    Spec none = parse(SpecParserTest.svc("")).spec().orElseThrow();
    assertThat(a.services().get(0).template()).isNotEqualTo(b.services().get(0).template());
    // a service without secrets keeps the template it had before secrets existed
    assertThat(none.services().get(0).template())
        .isEqualTo(
            parse(SpecParserTest.svc("    env: {}\n"))
                .spec()
                .orElseThrow()
                .services()
                .get(0)
                .template());
    assertThat(SpecDiff.between(a, b))
        .containsExactly("~ services.shop.env.DB_PASSWORD: (value changed)");
  }

  @Test
  void badSecretReferences_areReportedWhereTheyAre() {
    assertThat(
            parse(SpecParserTest.svc("    env: {A: {secret: ../x}}\n")).errors().get(0).toString())
        .isEqualTo(
            "shop.yaml:4:23: services.shop.env.A.secret: '../x' is not a secret name"
                + " (use 1 to 63 lowercase letters, digits, '.', '_' and '-')");
    assertThat(
            parse(SpecParserTest.svc("    env: {A: {secret: x, flie: true}}\n"))
                .errors()
                .get(0)
                .toString())
        .contains("services.shop.env.A.flie: unknown field 'flie'")
        .contains("did you mean 'file'?");
    assertThat(parse(SpecParserTest.svc("    env: {A: {b: 1}}\n")).errors().get(0).toString())
        .contains("must be a single value or {secret: NAME}");
  }

  @Test
  void plainValuesUnderSecretLikeNames_areWarnedAbout_butAccepted() {
    ParsedSpec p =
        parse(
            SpecParserTest.svc(
                "    env:\n"
                    + "      DB_PASSWORD: hunter2\n"
                    + "      STRIPE_API_KEY: sk_live_123\n"
                    + "      GITHUB_TOKEN: ${HOME_DIR}\n"
                    + "      LOG_LEVEL: debug\n"
                    + "      EMPTY_SECRET: ''\n"));
    assertThat(p.valid()).isTrue();
    assertThat(p.warnings())
        .extracting(SpecError::path)
        .containsExactly(
            "services.shop.env.DB_PASSWORD",
            "services.shop.env.STRIPE_API_KEY",
            "services.shop.env.GITHUB_TOKEN");
    assertThat(p.warnings().get(0).toString())
        .startsWith("shop.yaml:5:20: services.shop.env.DB_PASSWORD: looks like a secret")
        .contains("pilothouse secrets set NAME")
        .contains("DB_PASSWORD: {secret: NAME}");
  }

  @Test
  void theSecretsSection_declaresRotation_ofGeneratedValues_postgresRoles_andApiTokens() {
    ParsedSpec p =
        parse(
            SpecParserTest.svc("")
                + "secrets:\n"
                + "  session-key: {rotate: {every: 7d, length: 64}}\n"
                + "  db-password:\n"
                + "    rotate:\n"
                + "      every: 30d\n"
                + "      postgres: {port: 5433, role: app, adminSecret: pg-admin}\n"
                + "  metrics-token: {rotate: {apiToken: {role: viewer, services: [shop]}}}\n");
    assertThat(p.errors()).isEmpty();
    SecretsSpec s = p.spec().orElseThrow().secrets();
    assertThat(s.policy("session-key").orElseThrow())
        .isEqualTo(new SecretsSpec.Policy("session-key", Duration.ofDays(7), 64, null, null));
    SecretsSpec.Policy db = s.policy("db-password").orElseThrow();
    assertThat(db.kind()).isEqualTo("postgres");
    assertThat(db.postgres())
        .isEqualTo(
            new SecretsSpec.Postgres("127.0.0.1", 5433, "postgres", "app", "postgres", "pg-admin"));
    SecretsSpec.Policy token = s.policy("metrics-token").orElseThrow();
    assertThat(token.every()).isNull();
    assertThat(token.apiToken())
        .isEqualTo(new SecretsSpec.ApiTokenTarget("viewer", List.of("shop")));
  }

  @Test
  void badRotations_areReportedWithTheField() {
    String base = SpecParserTest.svc("") + "secrets:\n";
    assertThat(parse(base + "  k: {rotate: {every: 5m}}\n").errors().get(0).toString())
        .contains("secrets.k.rotate.every: must be at least 1h");
    assertThat(parse(base + "  k: {rotate: {postgres: {role: app}}}\n").errors().get(0).toString())
        .contains("secrets.k.rotate.postgres.adminSecret: required field 'adminSecret' is missing");
    assertThat(
            parse(base + "  k: {rotate: {postgres: {role: app, adminSecret: k}}}\n")
                .errors()
                .get(0)
                .toString())
        .contains("a secret cannot rotate itself with itself");
    assertThat(parse(base + "  k: {rotate: {apiToken: {role: root}}}\n").errors().get(0).toString())
        .contains("secrets.k.rotate.apiToken.role: unknown role 'root'");
    assertThat(parse(base + "  K!: {rotate: {}}\n").errors().get(0).toString())
        .contains("invalid secret name 'K!'");
    assertThat(parse(base + "  k: {}\n").errors().get(0).toString())
        .contains("secrets.k.rotate: required field 'rotate' is missing");
  }
}
