package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Head compaction into blocks, WAL checkpoints, block merging and retention. */
class BlocksTest {
  @TempDir Path dir;
  static final long H = 3_600_000L;

  static void ingest(Tsdb db, long from, long to, long step) {
    for (long t = from; t < to; t += step) {
      Tsdb.Appender a = db.appender();
      for (int s = 0; s < 10; s++) {
        a.add(Labels.of("__name__", "m", "s", Integer.toString(s)), t, t / 1000.0 + s);
      }
      a.commit();
    }
  }

  static List<Series> all(Tsdb db) {
    return db.select(
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        List.of(Matcher.eq("__name__", "m")),
        QueryBudget.unlimited());
  }

  long walFiles() throws Exception {
    try (Stream<Path> s = Files.list(dir.resolve("wal"))) {
      return s.count();
    }
  }

  @Test
  void headIsPersistedInBlocks_queriesSeeTheSameData_beforeAndAfterAReopen() throws Exception {
    List<Series> before;
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      ingest(db, 0, 10 * H, 15_000);
      before = all(db);
      db.compact();
      assertThat(db.blocks()).isNotEmpty();
      assertThat(db.blocks().get(0).minT()).isZero();
      assertThat(all(db))
          .usingRecursiveFieldByFieldElementComparator()
          .containsExactlyInAnyOrderElementsOf(before);
      assertThat(db.stats().samples()).isEqualTo(10 * 10 * H / 15_000);
      Tsdb.CommitResult late =
          db.appender().add(Labels.of("__name__", "m", "s", "1"), H, 1).commit();
      assertThat(late.firstError()).contains("out of bounds");
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      assertThat(all(db))
          .usingRecursiveFieldByFieldElementComparator()
          .containsExactlyInAnyOrderElementsOf(before);
      assertThat(walFiles()).as("old segments replaced by one checkpoint").isLessThanOrEqualTo(3);
    }
  }

  @Test
  void smallBlocks_mergeIntoLargerOnes() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults())) {
      ingest(db, 0, 16 * H, 60_000);
      db.compact();
      assertThat(db.blocks()).anyMatch(b -> b.level() == 2 && b.maxT() - b.minT() + 1 == 6 * H);
      assertThat(all(db).get(0).size()).isEqualTo((int) (16 * H / 60_000));
    }
  }

  @Test
  void retention_dropsBlocksOlderThanTheRetentionTime_andOverTheSizeLimit() {
    try (Tsdb db = Tsdb.open(dir, new Tsdb.Options(1000, 1, 6 * H, 0))) {
      ingest(db, 0, 20 * H, 60_000);
      db.compact();
      assertThat(db.blocks()).allMatch(b -> 20 * H - b.maxT() <= 6 * H + H);
      long first = all(db).get(0).t()[0];
      assertThat(first).as("older data is gone").isGreaterThanOrEqualTo(12 * H);
    }
    try (Tsdb db = Tsdb.open(dir.resolve("sized"), new Tsdb.Options(1000, 1, 1000 * H, 20_000))) {
      ingest(db, 0, 20 * H, 60_000);
      db.compact();
      long total = db.blocks().stream().mapToLong(Tsdb.BlockInfo::bytes).sum();
      assertThat(total).isLessThanOrEqualTo(20_000);
    }
  }
}
