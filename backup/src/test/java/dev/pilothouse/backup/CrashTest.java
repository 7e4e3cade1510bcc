package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kill -9} in the middle of a backup or a prune leaves a repository that verifies. */
class CrashTest {
  @TempDir Path tmp;

  private Process child(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CrashChild.class.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("child.log").toFile())
        .start();
  }

  private Path source(String name, int files, int size, long seed) throws Exception {
    Path src = tmp.resolve(name);
    Files.createDirectories(src);
    Random r = new Random(seed);
    for (int i = 0; i < files; i++) {
      byte[] b = new byte[size];
      r.nextBytes(b);
      Files.write(src.resolve("f" + i), b);
    }
    return src;
  }

  private static java.util.Set<String> files(Backend b) throws Exception {
    java.util.Set<String> out = new java.util.TreeSet<>();
    for (Backend.Kind k : List.of(Backend.Kind.DATA, Backend.Kind.INDEX)) {
      for (Backend.Entry e : b.list(k)) {
        out.add(k.dir + "/" + e.name());
      }
    }
    return out;
  }

  private static void assertConsistent(Backend b, boolean readData) throws Exception {
    try (Repository r = TestRepos.open(b)) {
      assertThat(Checker.check(r, readData ? 1 : 0, new Random(1)).errors()).isEmpty();
    }
  }

  @Test
  void a_backup_killed_midway_leaves_a_consistent_repository_and_the_next_run_completes()
      throws Exception {
    Path src = source("src", 60, 500_000, 1);
    Path repoDir = tmp.resolve("repo");
    Backend b = new LocalBackend(repoDir);
    TestRepos.init(b).close();
    Process p = child("backup", repoDir.toString(), src.toString());
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> TestRepos.packs(repoDir).size() >= 20 || !p.isAlive());
      assertThat(p.isAlive()).as("the backup was still running when killed").isTrue();
      p.destroyForcibly().waitFor();
    } finally {
      p.destroyForcibly();
    }
    assertConsistent(b, false);
    try (Repository r = TestRepos.open(b)) {
      assertThat(r.snapshots()).isEmpty();
      Snapshot s = TestRepos.backup(r, src, null);
      Path out = tmp.resolve("out");
      Restorer.restore(r, s, out, false, new Restorer.Counters());
      assertThat(TestRepos.describe(out.resolve(src.toString().substring(1))))
          .isEqualTo(TestRepos.describe(src));
    }
    assertConsistent(b, true);
    try (Repository r = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
      // the killed run's packs that no index names are removed
      Pruner.Report rep = Pruner.prune(r, 0.05, false, tmp);
      assertThat(rep.orphanPacks() + rep.packsDeleted()).isPositive();
    }
    assertConsistent(b, true);
  }

  @Test
  void a_prune_killed_at_any_point_leaves_every_snapshot_restorable() throws Exception {
    Path repoDir = tmp.resolve("repo");
    Backend b = new LocalBackend(repoDir);
    Path a = source("a", 150, 100_000, 2);
    Path c = source("c", 40, 200_000, 3);
    Map<String, String> expectC;
    try (Repository r = TestRepos.init(b)) {
      Snapshot sa = TestRepos.backup(r, a, null);
      TestRepos.backup(r, c, null);
      r.forget(sa);
      expectC = TestRepos.describe(c);
    }
    Random rnd = new Random(11);
    List<java.util.Set<String>> states = new ArrayList<>();
    states.add(files(b));
    for (int round = 0; round < 4; round++) {
      java.util.Set<String> start = files(b);
      int trigger = round;
      Process p = child("prune", repoDir.toString(), tmp.toString());
      try {
        // kill when the prune is seen writing its new index, deleting the old one, deleting packs
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(1))
            .until(
                () -> {
                  if (!p.isAlive()) {
                    return true;
                  }
                  java.util.Set<String> now = files(b);
                  return switch (trigger) {
                    case 0 ->
                        now.stream().anyMatch(f -> f.startsWith("index/") && !start.contains(f));
                    case 1 ->
                        start.stream().anyMatch(f -> f.startsWith("index/") && !now.contains(f));
                    case 2 ->
                        start.stream().anyMatch(f -> f.startsWith("data/") && !now.contains(f));
                    default -> !b.list(Backend.Kind.LOCK).isEmpty();
                  };
                });
        if (trigger > 2) {
          Thread.sleep(rnd.nextInt(100));
        }
        p.destroyForcibly().waitFor();
      } finally {
        p.destroyForcibly();
      }
      assertConsistent(b, false);
      states.add(files(b));
      try (Repository r = TestRepos.open(b)) {
        Path out = tmp.resolve("out" + round);
        Restorer.restore(r, r.snapshot("latest", null), out, false, new Restorer.Counters());
        assertThat(TestRepos.describe(out.resolve(c.toString().substring(1)))).isEqualTo(expectC);
      }
    }
    // the next prune completes what the killed ones began
    try (Repository r = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
      Pruner.prune(r, 0.0, false, tmp);
    }
    assertConsistent(b, true);
    java.util.Set<String> end = files(b);
    // at least one kill landed between the start and the end of a prune
    assertThat(states.subList(1, states.size()))
        .anySatisfy(x -> assertThat(x).isNotEqualTo(states.getFirst()).isNotEqualTo(end));
    try (Repository r = Repository.openTreesOnly(b, TestRepos.PASSWORD, Clock.systemUTC())) {
      Pruner.Report again = Pruner.prune(r, 0.0, true, tmp);
      assertThat(again.packsDeleted() + again.packsRepacked() + again.orphanPacks()).isZero();
    }
  }
}
