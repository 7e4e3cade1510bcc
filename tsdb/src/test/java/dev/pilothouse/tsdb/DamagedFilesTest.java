package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged block or WAL record never stops the store from opening; what was lost is reported. */
class DamagedFilesTest {
  @TempDir Path dir;
  static final long H = 3_600_000L;

  private static List<Path> blockDirs(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("blocks"))) {
      return s.sorted().toList();
    }
  }

  @Test
  void strayFileAndDamagedBlock_areMovedAside_andTheRestOpens() throws Exception {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      BlocksTest.ingest(db, 0, 7 * H, 60_000);
      db.compact();
      db.compact();
    }
    List<Path> blocks = blockDirs(dir);
    assertThat(blocks).hasSizeGreaterThanOrEqualTo(2);
    Path damaged = blocks.get(0);
    byte[] index = Files.readAllBytes(damaged.resolve("index"));
    index[index.length / 2] ^= 0x55;
    Files.write(damaged.resolve("index"), index);
    Files.writeString(dir.resolve("blocks").resolve("README"), "a stray file\n");
    Files.createDirectories(dir.resolve("blocks").resolve("not-a-block"));

    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.OpenReport r = db.openReport();
      assertThat(r.quarantined())
          .extracting(Tsdb.Quarantined::name)
          .containsExactlyInAnyOrder(damaged.getFileName().toString(), "README", "not-a-block");
      assertThat(r.quarantined())
          .filteredOn(q -> q.name().equals(damaged.getFileName().toString()))
          .first()
          .satisfies(q -> assertThat(q.reason()).contains("checksum"));
      assertThat(Files.exists(dir.resolve("corrupted").resolve(damaged.getFileName()))).isTrue();
      assertThat(db.blocks()).hasSize(blocks.size() - 1);
      assertThat(BlocksTest.all(db)).isNotEmpty(); // the other blocks and the head serve queries
    }
    // Moved aside once: the next start is clean.
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      assertThat(db.openReport().clean()).isTrue();
    }
  }

  @Test
  void damagedWalRecord_isSkipped_andTheRecordsAfterItAreReplayed() throws Exception {
    Labels a = Labels.of("__name__", "m", "s", "a");
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      for (int i = 0; i < 30; i++) {
        db.appender().add(a, i * 1000L, i).commit();
      }
    }
    Path seg;
    try (Stream<Path> s = Files.list(dir.resolve("wal"))) {
      seg = s.filter(p -> p.getFileName().toString().matches("\\d+")).sorted().findFirst().get();
    }
    byte[] b = Files.readAllBytes(seg);
    // Damage a byte in the middle of the segment: inside one sample record.
    b[b.length / 2] ^= (byte) 0xFF;
    Files.write(seg, b);
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      Tsdb.OpenReport r = db.openReport();
      assertThat(r.walDamagedRecords()).isEqualTo(1);
      assertThat(r.walSkippedBytes()).isPositive();
      assertThat(r.walDamagedSegments()).containsExactly(seg.getFileName().toString());
      Series s =
          db.select(0, Long.MAX_VALUE, List.of(Matcher.eq("s", "a")), QueryBudget.unlimited())
              .get(0);
      assertThat(s.size()).isEqualTo(29); // one sample lost, not the second half of the segment
      assertThat(s.t()[s.size() - 1]).isEqualTo(29_000);
    }
  }
}
