package dev.pilothouse.spec;

import static dev.pilothouse.spec.SpecParserTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.BackupSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code repositories:} and {@code services.NAME.backup / recovery}. */
class BackupReaderTest {
  private static final String REPOS =
      """
      repositories:
        local: {path: /var/backups/ph, passwordFile: /etc/ph/backup.pass, replicas: [offsite]}
        offsite:
          s3: {endpoint: 'http://127.0.0.1:9000', bucket: backups, prefix: shop}
          passwordEnv: BACKUP_PASSWORD
      """;

  private static String shop(String backup) {
    return REPOS + "services:\n  shop:\n    command: ./server\n    workdir: /srv/shop\n" + backup;
  }

  @Test
  void repositories_and_a_plan_are_read_with_paths_under_the_workdir() {
    var spec =
        parse(
                shop(
                    """
                        backup:
                          paths: [data/, /etc/shop.conf]
                          schedule: '0 3 * * *'
                          keep: {last: 3, daily: 7, weekly: 4, monthly: 6}
                          hooks: {before: ./dump.sh, after: ./thaw.sh}
                          repository: local
                        recovery: {rto: 15m, rpo: 1h, drill: '0 4 * * 0'}
                    """))
            .spec()
            .orElseThrow();
    BackupSpec b = spec.backup();
    assertThat(b.repositories()).containsOnlyKeys("local", "offsite");
    assertThat(b.repositories().get("local").replicas()).containsExactly("offsite");
    assertThat(b.repositories().get("offsite").s3())
        .isEqualTo(
            new BackupSpec.S3(
                "http://127.0.0.1:9000",
                "us-east-1",
                "backups",
                "shop",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                true));
    assertThat(b.plan("shop").orElseThrow())
        .isEqualTo(
            new BackupSpec.Plan(
                "shop",
                java.util.List.of("/srv/shop/data", "/etc/shop.conf"),
                "0 3 * * *",
                new BackupSpec.Keep(3, 7, 4, 6),
                "./dump.sh",
                "./thaw.sh",
                "local",
                Duration.ofMinutes(15),
                Duration.ofHours(1),
                "0 4 * * 0",
                null));
    // backups are not part of the service's revision: changing them never redeploys
    var without = parse(shop("")).spec().orElseThrow();
    assertThat(without.services()).isEqualTo(spec.services());
    assertThat(dev.pilothouse.core.spec.SpecDiff.between(without, spec)).isNotEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          backup: {schedule: daily}                             | services.shop.backup         | list the files and directories
          backup: {paths: [data], schedule: '61 * * * *'}       | services.shop.backup.schedule | write five fields
          backup: {paths: [data], repository: nas}              | services.shop.backup.repository | name one of local, offsite
          backup: {paths: [data]}                               | services.shop.backup         | add 'repository:'
          backup: {paths: [data], keep: {last: -1}, repository: local} | services.shop.backup.keep.last | -1
          backup: {paths: [data], repository: local, kep: {}}   | services.shop.backup.kep     | keep
          recovery: {rto: 15m}                                  | services.shop.recovery       | add 'backup:
          backup: {postgres: {port: 5432}, repository: local}   | services.shop.backup.postgres | give the cluster's data directory
          backup: {postgres: {dataDir: pg}, paths: [x], repository: local} | services.shop.backup.paths | remove 'paths'
          backup: {postgres: {dataDir: pg, port: 70000}, repository: local} | services.shop.backup.postgres.port | 65535
          backup: {postgres: {dataDir: pg, passwordEnv: 'a b'}, repository: local} | services.shop.backup.postgres.passwordEnv | environment variable
          backup: {postgres: {dataDir: pg, maxArchiveLag: 5}, repository: local} | services.shop.backup.postgres.maxArchiveLag | unit
          backup: {postgres: {dataDir: pg, datadir2: x}, repository: local} | services.shop.backup.postgres.datadir2 | dataDir
          """)
  void bad_plans_are_refused_with_where_and_how(String yaml, String path, String hint) {
    var errors = parse(shop("    " + yaml + "\n")).errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString())
        .contains("shop.yaml:")
        .contains(path)
        .contains(hint.strip());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          x: {passwordFile: /p}                               | repositories.x | give a directory
          x: {path: /b, s3: {bucket: bk}, passwordFile: /p}   | repositories.x | give a directory
          x: {path: /b}                                       | repositories.x | give exactly one of passwordFile
          x: {path: /b, passwordEnv: 'not a var'}             | repositories.x.passwordEnv | environment variable
          x: {s3: {bucket: B_}, passwordEnv: P}               | repositories.x.s3.bucket | lowercase
          x: {path: /b, passwordEnv: P, replicas: [y]}        | repositories.x.replicas[0] | name another repository
          X: {path: /b, passwordEnv: P}                       | repositories.X | lowercase
          """)
  void bad_repositories_are_refused_with_where_and_how(String yaml, String path, String hint) {
    var errors =
        parse("repositories:\n  " + yaml + "\nservices:\n  shop:\n    command: ./s\n").errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString()).contains(path).contains(hint.strip());
  }

  @Test
  void a_postgres_source_backs_up_its_data_directory_with_defaults() {
    var spec =
        parse(
                shop(
                    "    backup: {postgres: {dataDir: pg/data, passwordEnv: PGPASS},"
                        + " repository: local}\n"))
            .spec()
            .orElseThrow();
    var plan = spec.backup().plan("shop").orElseThrow();
    assertThat(plan.postgres())
        .isEqualTo(
            new BackupSpec.Postgres(
                plan.paths().get(0),
                "127.0.0.1",
                5432,
                "postgres",
                "postgres",
                "PGPASS",
                Duration.ofMinutes(5)));
    assertThat(plan.paths()).hasSize(1);
    assertThat(plan.paths().get(0)).endsWith("/pg/data").startsWith("/");
  }

  @Test
  void a_drill_schedule_must_be_cron() {
    var errors =
        parse(
                shop(
                    "    backup: {paths: [data], repository: local}\n    recovery: {drill: weekly}\n"))
            .errors();
    assertThat(errors.get(0).toString())
        .contains("services.shop.recovery.drill")
        .contains("write five fields");
  }

  @Test
  void one_repository_is_the_default() {
    var spec =
        parse(
                "repositories:\n  only: {path: /b, passwordEnv: P}\n"
                    + "services:\n  shop:\n    command: ./s\n    backup: {paths: [/d]}\n")
            .spec()
            .orElseThrow();
    assertThat(spec.backup().plan("shop").orElseThrow().repository()).isEqualTo("only");
  }
}
