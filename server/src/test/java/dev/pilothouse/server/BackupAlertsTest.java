package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.alerting.Rules;
import dev.pilothouse.core.alerting.AlertState;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.tsdb.Labels;
import dev.pilothouse.tsdb.Tsdb;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in backup alerts, evaluated as the daemon evaluates them (its rule engine in virtual
 * time, the real metrics store and PromQL engine) over the gauges the backup module exports, as the
 * daemon's self-scrape writes them every 15 s.
 */
class BackupAlertsTest {
  @TempDir Path dir;
  Tsdb db;
  TsdbRuleStore store;
  final List<NewEvent> events = new ArrayList<>();
  Instant now = Instant.now().minus(Duration.ofHours(2)).truncatedTo(ChronoUnit.MINUTES);

  /** The gauges by name, as BackupService.metricsText gives them for service "db". */
  final Map<String, Double> gauges = new LinkedHashMap<>();

  /** The labels of every gauge beside job and instance. */
  Map<String, String> labels = Map.of("service", "db");

  /** Whether backups keep succeeding (the restorable point follows the clock). */
  boolean backingUp;

  @BeforeEach
  void open() {
    db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground());
    store = SloRulesTest.store(db);
  }

  @AfterEach
  void close() {
    db.close();
  }

  Rules rules() {
    InstantSource clock = () -> now;
    return new Rules(
        () -> RuleGroups.BUILTIN,
        store,
        new SloRulesTest.Memory(),
        events::add,
        clock,
        Rules.Options.defaults());
  }

  void run(Rules r, Duration d) {
    Instant end = now.plus(d);
    while (now.isBefore(end)) {
      now = now.plusSeconds(1);
      if (now.getEpochSecond() % 15 == 0) {
        if (backingUp) {
          gauges.put(
              "pilothouse_backup_restorable_timestamp_seconds", (double) now.getEpochSecond());
        }
        Tsdb.Appender a = db.appender(gauges.size());
        for (var g : gauges.entrySet()) {
          Map<String, String> m = new LinkedHashMap<>();
          m.put("__name__", g.getKey());
          m.put("job", "pilothouse");
          m.put("instance", "pilothouse");
          m.putAll(labels);
          a.add(Labels.of(m), now.toEpochMilli(), g.getValue());
        }
        a.commit();
      }
      r.tick();
    }
  }

  List<String> firing(Rules r) {
    return r.alerts().stream()
        .filter(a -> a.state() == AlertState.State.FIRING)
        .map(a -> a.labels().get("alertname"))
        .sorted()
        .toList();
  }

  @Test
  void objectives_missed_fire_their_alerts_and_resolve_when_met_again() {
    gauges.put("pilothouse_backup_rpo_objective_seconds", 300.0);
    gauges.put("pilothouse_backup_rto_objective_seconds", 900.0);
    gauges.put("pilothouse_wal_archive_lag_limit_seconds", 300.0);
    gauges.put("pilothouse_backup_restorable_timestamp_seconds", (double) now.getEpochSecond());
    gauges.put("pilothouse_drill_success", 1.0);
    gauges.put("pilothouse_drill_rto_seconds", 120.0);
    gauges.put("pilothouse_wal_archive_lag_seconds", 0.0);
    Rules r = rules();
    run(r, Duration.ofMinutes(3));
    assertThat(firing(r)).isEmpty();

    // nothing restorable newer than 5 minutes: the RPO alert, naming the service and the age
    run(r, Duration.ofMinutes(4));
    assertThat(firing(r)).containsExactly("PilothouseBackupRPOMissed");
    AlertState rpo = r.alerts().get(0);
    assertThat(rpo.labels()).containsEntry("service", "db").containsEntry("severity", "critical");
    assertThat(rpo.annotations().get("summary")).contains("db").contains("recovery point");
    assertThat(rpo.annotations()).containsEntry("runbook_url", "docs/runbooks/backup-failed.md");

    // a backup: restorable again, resolved; a slow drill, a failed one, WAL piling up
    gauges.put("pilothouse_backup_restorable_timestamp_seconds", (double) now.getEpochSecond());
    gauges.put("pilothouse_drill_rto_seconds", 1200.0);
    gauges.put("pilothouse_wal_archive_lag_seconds", 400.0);
    run(r, Duration.ofMinutes(1));
    assertThat(firing(r))
        .containsExactly("PilothouseDrillRTOMissed", "PilothouseWALArchiveLagging");
    gauges.put("pilothouse_drill_success", 0.0);
    gauges.remove("pilothouse_drill_rto_seconds"); // a failed drill measures no RTO
    gauges.put("pilothouse_wal_archive_lag_seconds", 0.0);
    backingUp = true;
    run(r, Duration.ofMinutes(6));
    assertThat(firing(r)).containsExactly("PilothouseDrillFailed");
    assertThat(events.stream().map(NewEvent::type)).contains("AlertFiring", "AlertResolved");
  }

  @Test
  void aFailedSecretRotation_firesItsAlert_untilARotationSucceeds() {
    labels = Map.of("secret", "db-password");
    gauges.put("pilothouse_secret_rotation_failed", 0.0);
    Rules r = rules();
    run(r, Duration.ofMinutes(2));
    assertThat(firing(r)).isEmpty();
    gauges.put("pilothouse_secret_rotation_failed", 1.0);
    run(r, Duration.ofMinutes(1));
    assertThat(firing(r)).containsExactly("PilothouseSecretRotationFailed");
    AlertState a = r.alerts().get(0);
    assertThat(a.labels())
        .containsEntry("secret", "db-password")
        .containsEntry("severity", "critical");
    assertThat(a.annotations().get("summary")).contains("db-password").contains("old value");
    assertThat(a.annotations())
        .containsEntry("runbook_url", "docs/runbooks/secret-rotation-failed.md");
    gauges.put("pilothouse_secret_rotation_failed", 0.0);
    run(r, Duration.ofMinutes(2));
    assertThat(firing(r)).isEmpty();
  }
}
