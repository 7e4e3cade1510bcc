package dev.pilothouse.tsdb;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Head compaction into blocks, WAL checkpoints, block merging and retention. */
class BlocksTest {
  /** Series compared by their labels' value and their samples (not the labels' caches). */
  private static final RecursiveComparisonConfiguration BY_VALUE =
      RecursiveComparisonConfiguration.builder()
          .withEqualsForType(Labels::equals, Labels.class)
          .build();

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

  /** Writes a block in the first on-disk format (fixed-width index, XOR chunks) by hand. */
  static void writeFormat1Block(Path blocks, long minT, long maxT, double[][] values, long step)
      throws Exception {
    Path b = blocks.resolve(String.format("%016x-%016x-%d", minT, maxT, 1));
    Files.createDirectories(b);
    java.io.ByteArrayOutputStream chunks = new java.io.ByteArrayOutputStream();
    java.io.ByteArrayOutputStream index = new java.io.ByteArrayOutputStream();
    try (java.io.DataOutputStream d = new java.io.DataOutputStream(index)) {
      d.writeInt(0x50485442);
      List<String> symbols = List.of("__name__", "m", "s", "0", "1");
      d.writeInt(symbols.size());
      for (String sym : symbols) {
        d.writeInt(sym.length());
        d.write(sym.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      d.writeInt(values.length);
      for (int s = 0; s < values.length; s++) {
        d.writeShort(2);
        d.writeInt(0);
        d.writeInt(1);
        d.writeInt(2);
        d.writeInt(3 + s);
        dev.pilothouse.tsdb.chunk.XorChunk c = new dev.pilothouse.tsdb.chunk.XorChunk();
        for (int i = 0; i < values[s].length; i++) {
          c.append(minT + i * step, values[s][i]);
        }
        d.writeInt(1);
        d.writeLong(chunks.size());
        d.writeInt(c.bitLength());
        d.writeInt(c.count());
        d.writeLong(c.minTime());
        d.writeLong(c.maxTime());
        chunks.write(c.bytes());
      }
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(index.toByteArray());
    index.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    Files.write(b.resolve("index"), index.toByteArray());
    Files.write(b.resolve("chunks"), chunks.toByteArray());
    Files.writeString(b.resolve("meta.json"), "{}");
  }

  @Test
  void blocksOfTheFirstFormat_areStillRead_andMergedIntoTheCurrentOne() throws Exception {
    double[][] values = new double[2][];
    for (int s = 0; s < 2; s++) {
      values[s] = new double[100];
      for (int i = 0; i < 100; i++) {
        values[s][i] = s == 0 ? i * 1.5 : Math.sin(i);
      }
    }
    writeFormat1Block(dir.resolve("blocks"), 0, 2 * H - 1, values, 60_000);
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      List<Series> got = all(db);
      assertThat(got).hasSize(2);
      for (Series s : got) {
        int k = Integer.parseInt(s.labels().get("s"));
        assertThat(s.t()).hasSize(100).startsWith(0L, 60_000L);
        assertThat(s.v()).containsExactly(values[k]);
      }
      // Two more 2 h blocks from the head, then the three merge into a 6 h block.
      ingest(db, 2 * H, 9 * H, 60_000);
      db.compact();
      assertThat(db.blocks()).first().satisfies(b -> assertThat(b.maxT()).isEqualTo(6 * H - 1));
      Series first =
          all(db).stream().filter(s -> s.labels().get("s").equals("0")).findFirst().orElseThrow();
      assertThat(java.util.Arrays.copyOf(first.v(), 100)).containsExactly(values[0]);
    }
  }

  @Test
  void seriesThatStopped_leaveTheHeadOnceInBlocks_andComeBackWhenWrittenAgain() throws Exception {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      Labels gone = Labels.of("__name__", "m", "s", "gone");
      for (long t = 0; t < 3 * H; t += 15_000) {
        db.appender().add(gone, t, t / 1000.0).commit();
      }
      ingest(db, 0, 6 * H, 15_000); // ten series that keep going
      int before = db.stats().series();
      Tsdb.Appender early = db.appender().add(gone, 6 * H, 1); // found before compaction
      db.compact();
      assertThat(db.stats().series()).isEqualTo(before - 1);
      assertThat(db.droppedSeries()).isEqualTo(1);
      assertThat(db.labelValues("s")).contains("gone"); // still in the blocks
      List<Series> old =
          db.select(0, 6 * H, List.of(Matcher.eq("s", "gone")), QueryBudget.unlimited());
      assertThat(old).hasSize(1);
      assertThat(old.get(0).size()).isEqualTo((int) (3 * H / 15_000));
      // An appender that found the series before it was dropped still stores its sample.
      assertThat(early.commit().appended()).isEqualTo(1);
      db.appender().add(gone, 6 * H + 15_000, 2).commit();
      Series back =
          db.select(0, 7 * H, List.of(Matcher.eq("s", "gone")), QueryBudget.unlimited()).get(0);
      assertThat(back.size()).isEqualTo((int) (3 * H / 15_000) + 2);
      assertThat(back.v()[back.size() - 1]).isEqualTo(2.0);
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      Series back =
          db.select(0, 7 * H, List.of(Matcher.eq("s", "gone")), QueryBudget.unlimited()).get(0);
      assertThat(back.size()).as("after a restart too").isEqualTo((int) (3 * H / 15_000) + 2);
    }
  }

  @Test
  void seriesAndLabels_answerForTheRangeAsked_inBlocksAndInTheHead() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      Labels early = Labels.of("__name__", "m", "s", "early", "zone", "a");
      for (long t = 0; t < 2 * H; t += 15_000) {
        db.appender().add(early, t, 1).commit();
      }
      ingest(db, 0, 6 * H, 15_000); // ten series that keep going
      db.compact(); // the early hours are in blocks now
      Labels late = Labels.of("__name__", "m", "s", "late", "zone", "b");
      db.appender().add(late, 6 * H, 1).commit(); // only in the head
      List<Matcher> m = List.of(Matcher.eq("__name__", "m"));

      assertThat(db.series(m)).hasSize(12);
      assertThat(db.series(m, 0, H)).contains(early).doesNotContain(late).hasSize(11);
      assertThat(db.series(m, 5 * H, 7 * H)).contains(late).doesNotContain(early).hasSize(11);
      assertThat(db.series(m, 6 * H, 7 * H)).containsExactly(late); // the ten ended before 6 h
      assertThat(db.series(m, 100 * H, 101 * H)).isEmpty();

      assertThat(db.labelValues("zone")).containsExactly("a", "b");
      assertThat(db.labelValues("zone", 0, H)).containsExactly("a");
      assertThat(db.labelValues("zone", 6 * H, 7 * H)).containsExactly("b");
      assertThat(db.labelNames(0, H)).contains("zone", "s");
      assertThat(db.labelNames(-10 * H, -9 * H)).isEmpty();
    }
    // A store with no block yet: the head alone, judged by its samples' times.
    try (Tsdb db = Tsdb.open(dir.resolve("fresh"), Tsdb.Options.defaults().withoutBackground())) {
      db.appender().add(Labels.of("__name__", "m", "zone", "c"), 6 * H, 1).commit();
      assertThat(db.labelValues("zone", 0, H)).isEmpty();
      assertThat(db.labelNames(0, H)).isEmpty();
      assertThat(db.labelValues("zone", 6 * H, 6 * H)).containsExactly("c");
    }
  }

  @Test
  void headIsPersistedInBlocks_queriesSeeTheSameData_beforeAndAfterAReopen() throws Exception {
    List<Series> before;
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      ingest(db, 0, 10 * H, 15_000);
      before = all(db);
      db.compact();
      assertThat(db.blocks()).isNotEmpty();
      assertThat(db.blocks().get(0).minT()).isZero();
      assertThat(all(db))
          .usingRecursiveFieldByFieldElementComparator(BY_VALUE)
          .containsExactlyInAnyOrderElementsOf(before);
      assertThat(db.stats().samples()).isEqualTo(10 * 10 * H / 15_000);
      Tsdb.CommitResult late =
          db.appender().add(Labels.of("__name__", "m", "s", "1"), H, 1).commit();
      assertThat(late.firstError()).contains("out of bounds");
    }
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      assertThat(all(db))
          .usingRecursiveFieldByFieldElementComparator(BY_VALUE)
          .containsExactlyInAnyOrderElementsOf(before);
      assertThat(walFiles()).as("old segments replaced by one checkpoint").isLessThanOrEqualTo(3);
    }
  }

  @Test
  void smallBlocks_mergeIntoLargerOnes() {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      ingest(db, 0, 16 * H, 60_000);
      db.compact();
      assertThat(db.blocks()).anyMatch(b -> b.level() == 2 && b.maxT() - b.minT() + 1 == 6 * H);
      assertThat(all(db).get(0).size()).isEqualTo((int) (16 * H / 60_000));
    }
  }

  @Test
  void retention_dropsBlocksOlderThanTheRetentionTime_andOverTheSizeLimit() {
    try (Tsdb db = Tsdb.open(dir, new Tsdb.Options(1000, 1, 6 * H, 0).withoutBackground())) {
      ingest(db, 0, 20 * H, 60_000);
      db.compact();
      assertThat(db.blocks()).allMatch(b -> 20 * H - b.maxT() <= 6 * H + H);
      long first = all(db).get(0).t()[0];
      assertThat(first).as("older data is gone").isGreaterThanOrEqualTo(12 * H);
    }
    try (Tsdb db =
        Tsdb.open(
            dir.resolve("sized"),
            new Tsdb.Options(1000, 1, 1000 * H, 20_000).withoutBackground())) {
      ingest(db, 0, 20 * H, 60_000);
      db.compact();
      long total = db.blocks().stream().mapToLong(Tsdb.BlockInfo::bytes).sum();
      assertThat(total).isLessThanOrEqualTo(20_000);
    }
  }

  @Test
  void queriesDuringCompaction_seeEverySample_neverAGap() throws Exception {
    try (Tsdb db = Tsdb.open(dir, Tsdb.Options.defaults().withoutBackground())) {
      // 2,000 series over 7 h: compaction persists two blocks, which takes a while.
      for (long t = 0; t < 7 * H; t += 60_000) {
        Tsdb.Appender a = db.appender();
        for (int s = 0; s < 2000; s++) {
          a.add(Labels.of("__name__", "m", "s", Integer.toString(s)), t, s);
        }
        a.commit();
      }
      long expected = 2000L * (7 * H / 60_000);
      java.util.concurrent.atomic.AtomicBoolean done =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    while (!done.get()) {
                      seen.add(all(db).stream().mapToLong(Series::size).sum());
                    }
                  });
      db.compact();
      done.set(true);
      reader.join();
      assertThat(db.blocks()).hasSizeGreaterThanOrEqualTo(2);
      assertThat(seen).isNotEmpty().allMatch(n -> n == expected);
      assertThat(all(db).stream().mapToLong(Series::size).sum()).isEqualTo(expected);
    }
  }
}
