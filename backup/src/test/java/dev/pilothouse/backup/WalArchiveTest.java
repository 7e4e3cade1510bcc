package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The WAL archive: names, idempotent archiving, gaps along a timeline's history, expiry. */
class WalArchiveTest {
  private static final long SEG = 16L << 20;
  @TempDir Path tmp;

  @Test
  void segment_names_and_numbers_follow_postgresql() {
    assertThat(WalArchive.number("000000010000000000000003", SEG)).isEqualTo(3);
    // 256 segments of 16 MiB per "log id"
    assertThat(WalArchive.number("0000000100000001000000FF", SEG)).isEqualTo(511);
    assertThat(WalArchive.segment(2, 256, SEG)).isEqualTo("000000020000000100000000");
    assertThat(WalArchive.segmentOf(1, "0/3001F58", SEG)).isEqualTo("000000010000000000000003");
    assertThat(WalArchive.lsn("16/B374D848")).isEqualTo((0x16L << 32) | 0xB374D848L);
    assertThat(WalArchive.valid("000000010000000000000002.00000028.backup")).isTrue();
    assertThat(WalArchive.valid("00000002.history")).isTrue();
    assertThat(WalArchive.valid("000000020000000000000003.partial")).isTrue();
    assertThat(WalArchive.valid("../etc/passwd")).isFalse();
    assertThatThrownBy(() -> WalArchive.lsn("3000060"))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("0/3000060");
  }

  @Test
  void archiving_is_idempotent_refuses_other_content_and_fetches_what_it_stored() throws Exception {
    try (Repository repo = TestRepos.init(new LocalBackend(tmp.resolve("repo")))) {
      Path wal = tmp.resolve("000000010000000000000001");
      byte[] content = new byte[1 << 20];
      for (int i = 0; i < 4096; i++) {
        content[i] = (byte) i;
      }
      Files.write(wal, content);
      assertThat(WalArchive.push(repo, "db", wal, wal.getFileName().toString())).isTrue();
      assertThat(WalArchive.push(repo, "db", wal, wal.getFileName().toString()))
          .as("the same file again (an archive_command retried after a crash) succeeds")
          .isFalse();
      // mostly zeros: stored compressed, and encrypted (no plain run of its bytes)
      Path stored = tmp.resolve("repo/wal/db.000000010000000000000001");
      assertThat(Files.size(stored)).isLessThan(64 << 10);
      Files.write(wal, "other".getBytes(StandardCharsets.UTF_8));
      assertThatThrownBy(() -> WalArchive.push(repo, "db", wal, "000000010000000000000001"))
          .isInstanceOf(BackupException.class)
          .hasMessageContaining("other content");
      assertThatThrownBy(() -> WalArchive.push(repo, "db", wal, "postmaster.pid"))
          .hasMessageContaining("not a WAL file name");

      Path dest = tmp.resolve("RECOVERYXLOG");
      assertThat(WalArchive.fetch(repo, "db", "000000010000000000000001", dest)).isTrue();
      assertThat(Files.readAllBytes(dest)).isEqualTo(content);
      assertThat(WalArchive.fetch(repo, "db", "000000010000000000000002", dest)).isFalse();
      assertThat(WalArchive.fetch(repo, "other", "000000010000000000000001", dest))
          .as("another service's WAL is apart")
          .isFalse();

      assertThat(Checker.check(repo, 1, new java.util.Random(1)).walRead()).isEqualTo(1);
      // a flipped byte is detected, not replayed, and verify names the file
      byte[] b = Files.readAllBytes(stored);
      b[b.length / 2] ^= 1;
      Files.write(stored, b);
      assertThatThrownBy(() -> WalArchive.fetch(repo, "db", "000000010000000000000001", dest))
          .isInstanceOf(BackupException.class)
          .hasMessageContaining("damaged");
      assertThat(Checker.check(repo, 1, new java.util.Random(1)).errors())
          .singleElement()
          .asString()
          .contains("wal/db.000000010000000000000001 is damaged");
    }
  }

  @Test
  void gaps_are_found_along_the_timeline_history_not_by_segment_numbers_alone() throws Exception {
    try (Repository repo = TestRepos.init(new LocalBackend(tmp.resolve("repo")))) {
      // timeline 1: segments 1..6; timeline 2 branched at 0/3001F58 (in segment 3): 3..5
      for (int k = 1; k <= 6; k++) {
        put(repo, WalArchive.segment(1, k, SEG), new byte[] {1});
      }
      for (int k = 3; k <= 5; k++) {
        put(repo, WalArchive.segment(2, k, SEG), new byte[] {2});
      }
      put(
          repo,
          "00000002.history",
          "1\t0/3001F58\tbefore 2026-11-30 06:36:40.072585+00\n".getBytes(StandardCharsets.UTF_8));
      List<String> names = WalArchive.names(repo.backend(), "db");
      assertThat(WalArchive.newestTimeline(names)).isEqualTo(2);
      List<WalArchive.Span> two = WalArchive.lineage(repo, "db", 2, SEG);
      assertThat(two)
          .containsExactly(new WalArchive.Span(1, 0, 3), new WalArchive.Span(2, 3, Long.MAX_VALUE));
      assertThat(WalArchive.firstGap(names, two, 1, -1, SEG)).isEmpty();

      // timeline 1's segment 4 gone: timeline 2 does not need it (it has its own 4)...
      repo.backend().delete(Backend.Kind.WAL, "db.000000010000000000000004");
      names = WalArchive.names(repo.backend(), "db");
      assertThat(WalArchive.firstGap(names, two, 1, -1, SEG)).isEmpty();
      // ...but a recovery along timeline 1 does, though timeline 2 has a segment numbered 4
      List<WalArchive.Span> one = WalArchive.lineage(repo, "db", 1, SEG);
      assertThat(WalArchive.firstGap(names, one, 1, -1, SEG)).contains("000000010000000000000004");
      // to an LSN in segment 3, nothing is missing
      assertThat(WalArchive.firstGap(names, one, 1, 3, SEG)).isEmpty();
      // timeline 2's own segment 4 gone: found on timeline 2
      repo.backend().delete(Backend.Kind.WAL, "db.000000020000000000000004");
      assertThat(WalArchive.firstGap(WalArchive.names(repo.backend(), "db"), two, 1, -1, SEG))
          .contains("000000020000000000000004");
      assertThatThrownBy(() -> WalArchive.lineage(repo, "db", 3, SEG))
          .hasMessageContaining("00000003.history");
    }
  }

  @Test
  void expiry_deletes_segments_before_the_oldest_base_backup_and_keeps_histories()
      throws Exception {
    try (Repository repo = TestRepos.init(new LocalBackend(tmp.resolve("repo")))) {
      for (int k = 1; k <= 5; k++) {
        put(repo, WalArchive.segment(1, k, SEG), new byte[] {1});
      }
      put(repo, "000000010000000000000002.00000028.backup", new byte[] {3});
      put(repo, "00000002.history", new byte[] {4});
      put(repo, WalArchive.segment(2, 2, SEG), new byte[] {1});
      put(repo, WalArchive.segment(2, 4, SEG), new byte[] {1});
      assertThat(WalArchive.expire(repo.backend(), "db", "000000010000000000000003", SEG))
          .isEqualTo(4);
      assertThat(WalArchive.names(repo.backend(), "db"))
          .containsExactly(
              "000000010000000000000003",
              "000000010000000000000004",
              "000000010000000000000005",
              "00000002.history",
              "000000020000000000000004");
    }
  }

  @Test
  void archive_lag_is_the_age_of_the_oldest_file_waiting() throws Exception {
    Path status = Files.createDirectories(tmp.resolve("data/pg_wal/archive_status"));
    Instant now = Instant.parse("2026-11-30T07:00:00Z");
    assertThat(PgBackups.archiveLag(tmp.resolve("data"), now)).isZero();
    Path done = Files.createFile(status.resolve("000000010000000000000001.done"));
    Files.setLastModifiedTime(done, java.nio.file.attribute.FileTime.from(now.minusSeconds(900)));
    Path ready = Files.createFile(status.resolve("000000010000000000000002.ready"));
    Files.setLastModifiedTime(ready, java.nio.file.attribute.FileTime.from(now.minusSeconds(400)));
    Path newer = Files.createFile(status.resolve("000000010000000000000003.ready"));
    Files.setLastModifiedTime(newer, java.nio.file.attribute.FileTime.from(now.minusSeconds(10)));
    assertThat(PgBackups.archiveLag(tmp.resolve("data"), now)).isEqualTo(Duration.ofSeconds(400));
  }

  @Test
  void a_base_backup_leaves_out_what_belongs_to_the_running_server() {
    Path data = Path.of("/srv/pg/data");
    var skip = PgBackups.skip(data);
    List<String> out = new ArrayList<>();
    for (String p :
        List.of(
            "postmaster.pid",
            "postmaster.opts",
            "pilothouse-wal.json",
            "pg_wal/000000010000000000000001",
            "pg_wal/archive_status",
            "pg_stat_tmp/global.stat",
            "base/1/pgsql_tmp123",
            "base/1/pg_internal.init",
            "pg_wal",
            "base/1/1259",
            "global/pg_control",
            "postgresql.auto.conf",
            "sub/postmaster.pid")) {
      if (skip.test(data.resolve(p))) {
        out.add(p);
      }
    }
    assertThat(out)
        .containsExactly(
            "postmaster.pid",
            "postmaster.opts",
            "pilothouse-wal.json",
            "pg_wal/000000010000000000000001",
            "pg_wal/archive_status",
            "pg_stat_tmp/global.stat",
            "base/1/pgsql_tmp123",
            "base/1/pg_internal.init");
  }

  @Test
  void restore_targets_are_checked_as_users_give_them() {
    assertThatThrownBy(() -> new PgBackups.Target("2026-11-30 07:10", null, null, null, null))
        .hasMessageContaining("2026-11-30T07:10:00Z");
    assertThatThrownBy(() -> new PgBackups.Target("2026-11-30T07:10:00Z", "0/1", null, null, null))
        .hasMessageContaining("one of --time, --lsn and --name");
    assertThatThrownBy(() -> new PgBackups.Target(null, "nope", null, null, null))
        .hasMessageContaining("not an LSN");
    assertThat(new PgBackups.Target(null, null, "before-migration", null, null).describe())
        .isEqualTo("restore point 'before-migration'");
    assertThat(new PgBackups.Target(null, null, null, null, null).latest()).isTrue();
  }

  private static void put(Repository repo, String name, byte[] data) throws Exception {
    Path f = Files.createTempFile("wal", "");
    Files.write(f, data);
    WalArchive.push(repo, "db", f, name);
    Files.delete(f);
  }
}
