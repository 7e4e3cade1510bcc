package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PruneTest {
  @TempDir Path tmp;

  @Test
  void prune_removes_what_no_snapshot_uses_and_the_rest_still_restores() throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    Random rnd = new Random(5);
    byte[] keep = new byte[600_000];
    byte[] drop = new byte[900_000];
    rnd.nextBytes(keep);
    rnd.nextBytes(drop);
    Files.write(src.resolve("keep"), keep);
    Files.write(src.resolve("drop"), drop);
    Path repoDir = tmp.resolve("repo");
    Backend b = new LocalBackend(repoDir);
    try (Repository r = TestRepos.init(b)) {
      Snapshot first = TestRepos.backup(r, src, null);
      Files.delete(src.resolve("drop"));
      TestRepos.backup(r, src, first);
      r.forget(first);
    }
    long before = size(repoDir);
    try (Repository r = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
      Pruner.Report dry = Pruner.prune(r, 0.05, true, tmp);
      assertThat(dry.dryRun()).isTrue();
      assertThat(size(repoDir)).isEqualTo(before);
      Pruner.Report rep = Pruner.prune(r, 0.05, false, tmp);
      assertThat(rep.packsDeleted() + rep.packsRepacked()).isPositive();
    }
    long after = size(repoDir);
    assertThat(before - after).isGreaterThan(800_000);
    try (Repository r = TestRepos.open(b)) {
      assertThat(Checker.check(r, 1, new Random(1)).errors()).isEmpty();
      Path out = tmp.resolve("out");
      Restorer.restore(r, r.snapshot("latest", null), out, false, new Restorer.Counters());
      assertThat(Files.readAllBytes(out.resolve(src.toString().substring(1)).resolve("keep")))
          .isEqualTo(keep);
      // a second prune finds nothing to do
      try (Repository t = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
        Pruner.Report again = Pruner.prune(t, 0.05, false, tmp);
        assertThat(again.packsDeleted() + again.packsRepacked() + again.orphanPacks()).isZero();
      }
    }
  }

  @Test
  void the_on_disk_id_set_agrees_with_a_tree_set_across_many_spilled_runs() throws Exception {
    Random r = new Random(9);
    TreeSet<Id> expected = new TreeSet<>();
    try (SortedIds ids = new SortedIds(Files.createDirectories(tmp.resolve("ids")), 1000)) {
      for (int i = 0; i < 25_000; i++) {
        Id id = new Id(r.nextInt(5000), r.nextLong(), 0, r.nextInt(3));
        expected.add(id);
        ids.add(id);
      }
      ids.seal();
      assertThat(ids.size()).isEqualTo(expected.size());
      for (Id id : expected) {
        assertThat(ids.contains(id)).isTrue();
      }
      for (int i = 0; i < 2000; i++) {
        Id probe = new Id(r.nextInt(5000), r.nextLong(), 1, 0);
        assertThat(ids.contains(probe)).isEqualTo(expected.contains(probe));
      }
    }
  }

  private static long size(Path dir) throws Exception {
    try (var s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
