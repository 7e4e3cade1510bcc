package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.BackupSpec;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's side of backups, with the services it stops and starts recorded (the real instance
 * controller is exercised by e2e/BackupTest).
 */
class BackupServiceTest {
  @TempDir Path tmp;

  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final List<NewEvent> events = new CopyOnWriteArrayList<>();

  private BackupService service(Path data) throws Exception {
    return service(data, Clock.systemUTC(), null);
  }

  /** A clock the test moves. */
  static final class MovableClock extends Clock {
    volatile java.time.Instant now;

    MovableClock(java.time.Instant now) {
      this.now = now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }
  }

  private BackupService service(Path data, Clock clock, String drill) throws Exception {
    Files.createDirectories(tmp.resolve("state/tmp"));
    ServiceSpec shop =
        new ServiceSpec(
            "shop",
            "./shop",
            List.of(),
            Map.of(),
            tmp.toString(),
            "v1",
            1,
            null,
            null,
            RestartPolicy.defaults(),
            StopPolicy.defaults(),
            new Resources(0, 0),
            null);
    BackupSpec b =
        new BackupSpec(
            Map.of(
                "local",
                new BackupSpec.Repository(
                    "local", tmp.resolve("repo").toString(), null, null, "PW", null, List.of())),
            List.of(
                new BackupSpec.Plan(
                    "shop",
                    List.of(data.toString()),
                    null,
                    BackupSpec.Keep.ALL,
                    null,
                    null,
                    "local",
                    Duration.ofMinutes(15),
                    Duration.ofHours(1),
                    drill,
                    null)));
    Spec spec = new Spec(List.of(shop)).withBackup(b);
    return new BackupService(
        () -> spec,
        new BackupService.Services() {
          @Override
          public void stop(String s) {
            calls.add("stop " + s);
          }

          @Override
          public void start(String s) {
            calls.add("start " + s);
          }

          @Override
          public Path workdir(String s) {
            return tmp;
          }

          @Override
          public BackupService.Sandbox sandbox(String s, Map<String, String> paths) {
            // no process here: a sandbox that is alive and has no HTTP check (e2e starts one)
            calls.add("sandbox " + s + " " + paths.values());
            return new BackupService.Sandbox() {
              @Override
              public int port() {
                return 0;
              }

              @Override
              public boolean alive() {
                return true;
              }

              @Override
              public void close() {
                calls.add("sandbox closed");
              }
            };
          }
        },
        events::add,
        clock,
        tmp.resolve("state/tmp"),
        Map.of("PW", "correct horse"));
  }

  @Test
  void callersThatFirstOpenARepositoryAtOnce_createItOnce_andAllReadWhatEachWrote()
      throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    try (BackupService s = service(data)) {
      int n = 8;
      var start = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<Repository>> opened = new java.util.ArrayList<>();
      try (var pool = java.util.concurrent.Executors.newFixedThreadPool(n)) {
        for (int i = 0; i < n; i++) {
          opened.add(
              pool.submit(
                  () -> {
                    start.await();
                    return s.repository("local");
                  }));
        }
        start.countDown();
        java.util.Set<Repository> distinct =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (var f : opened) {
          distinct.add(f.get());
        }
        assertThat(distinct).hasSize(1);
      }
      try (var keys = Files.list(tmp.resolve("repo/keys"))) {
        assertThat(keys.count()).isOne(); // one master key: the repository was created once
      }
      Files.writeString(data.resolve("db"), "v1");
      s.run("shop", List.of(), new Archiver.Counters());
      assertThat(s.repository("local").snapshots()).hasSize(1);
    }
  }

  @Test
  void a_restore_a_killed_daemon_began_is_finished_by_the_next_before_the_service_starts()
      throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("db"), "good");
    String snapshot;
    try (BackupService first = service(data)) {
      snapshot = first.run("shop", List.of(), new Archiver.Counters()).id();
    }
    // the previous daemon marked the restore, stopped the service and died halfway through
    Files.writeString(data.resolve("db"), "half-restored");
    Files.writeString(data.resolve("stray"), "x");
    Path markers = Files.createDirectories(tmp.resolve("state/restoring"));
    Files.writeString(
        markers.resolve("shop.json"),
        "{\"snapshot\":\"" + snapshot + "\",\"safety\":\"" + snapshot + "\"}");
    try (BackupService next = service(data)) {
      assertThat(next.interruptedRestores()).containsExactly("shop");
      next.finishInterrupted();
      assertThat(Files.readString(data.resolve("db"))).isEqualTo("good");
      assertThat(data.resolve("stray")).doesNotExist();
      assertThat(calls).containsExactly("start shop");
      assertThat(next.interruptedRestores()).isEmpty();
      assertThat(events).anySatisfy(e -> assertThat(e.message()).contains("finished restoring"));
    }
  }

  @Test
  void a_restore_in_place_takes_a_safety_snapshot_stops_and_starts_the_service() throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("db"), "v1");
    try (BackupService b = service(data)) {
      Snapshot s = b.run("shop", List.of(), new Archiver.Counters());
      Files.writeString(data.resolve("db"), "v2");
      BackupService.Restored r = b.restore("shop", s.shortId(), null, new Restorer.Counters());
      assertThat(Files.readString(data.resolve("db"))).isEqualTo("v1");
      assertThat(calls).containsExactly("stop shop", "start shop");
      assertThat(r.safetySnapshot()).isNotNull();
      // what was there is in the safety snapshot
      Path out = tmp.resolve("out");
      b.restore("shop", r.safetySnapshot(), out, new Restorer.Counters());
      assertThat(Files.readString(out.resolve(data.toString().substring(1)).resolve("db")))
          .isEqualTo("v2");
      assertThat(b.interruptedRestores()).isEmpty();
    }
  }

  @Test
  void the_data_before_a_deploy_is_the_snapshot_taken_before_the_first_deploy_after_it()
      throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    try (BackupService b = service(data)) {
      Files.writeString(data.resolve("db"), "under revision 4");
      Snapshot r5 = b.preDeploy("shop", 5);
      Files.writeString(data.resolve("db"), "under revision 7");
      Snapshot r8 = b.preDeploy("shop", 8);
      b.run("shop", List.of("manual"), new Archiver.Counters());
      assertThat(r5.tags()).containsExactly("pre-deploy", "revision=5");
      assertThat(b.dataBefore("shop", 4)).contains(r5);
      assertThat(b.dataBefore("shop", 5)).contains(r8);
      assertThat(b.dataBefore("shop", 7)).contains(r8);
      assertThat(b.dataBefore("shop", 0)).contains(r8);
      assertThat(b.dataBefore("shop", 8)).isEmpty();
    }
  }

  @Test
  void a_drill_runs_at_its_cron_time_restores_into_a_sandbox_and_reports_rto_and_rpo()
      throws Exception {
    Path data = tmp.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("db"), "rows");
    MovableClock clock = new MovableClock(java.time.Instant.parse("2026-03-02T03:58:30Z"));
    try (BackupService b = service(data, clock, "* * * * *")) {
      b.run("shop", List.of(), new Archiver.Counters());
      b.tick(); // first sight: the next minute is the first drill
      assertThat(calls).isEmpty();
      clock.now = clock.now.plusSeconds(45);
      b.tick();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(20))
          .until(() -> events.stream().anyMatch(e -> e.type().equals("DrillCompleted")));
      NewEvent d =
          events.stream().filter(e -> e.type().equals("DrillCompleted")).findFirst().orElseThrow();
      assertThat(d.fields().get("rpoSeconds")).isEqualTo("45");
      assertThat(Long.parseLong(d.fields().get("rtoMs"))).isPositive();
      assertThat(d.fields().get("rtoMet")).isEqualTo("true");
      assertThat(calls.get(0)).startsWith("sandbox shop [").contains("drill-shop-");
      assertThat(calls).contains("sandbox closed");
      // the sandbox is removed
      try (var s = Files.list(tmp.resolve("state/tmp"))) {
        assertThat(s.filter(p -> p.getFileName().toString().startsWith("drill-"))).isEmpty();
      }
      // not again within the same minute
      b.tick();
      Thread.sleep(200);
      assertThat(events.stream().filter(e -> e.type().startsWith("Drill")).count()).isEqualTo(1);
      // the gauges the built-in alert rules read: objectives, the restorable point, the drill
      String m = b.metricsText();
      assertThat(m)
          .contains("pilothouse_backup_rpo_objective_seconds{service=\"shop\"} 3600.0")
          .contains("pilothouse_backup_rto_objective_seconds{service=\"shop\"} 900.0")
          .contains("pilothouse_drill_success{service=\"shop\"} 1.0")
          .contains("pilothouse_drill_rto_seconds{service=\"shop\"} ")
          .doesNotContain("pilothouse_wal_archive_lag_seconds{");
      String restorable =
          m.lines()
              .filter(l -> l.startsWith("pilothouse_backup_restorable_timestamp_seconds{"))
              .findFirst()
              .orElseThrow();
      assertThat(Double.parseDouble(restorable.substring(restorable.lastIndexOf(' ') + 1)))
          .isEqualTo(java.time.Instant.parse("2026-03-02T03:58:30Z").getEpochSecond());
    }
  }
}
