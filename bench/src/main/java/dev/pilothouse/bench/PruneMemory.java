package dev.pilothouse.bench;

import dev.pilothouse.backup.Id;
import dev.pilothouse.backup.Keys;
import dev.pilothouse.backup.LocalBackend;
import dev.pilothouse.backup.Node;
import dev.pilothouse.backup.Pruner;
import dev.pilothouse.backup.Repository;
import dev.pilothouse.backup.Snapshot;
import dev.pilothouse.backup.Tree;
import dev.pilothouse.backup.Writer;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Prune's memory against a repository's size (bench/prune-memory.sh). {@code generate DIR BLOBS
 * SIZE} writes a repository of BLOBS distinct data blobs of SIZE bytes (random, so neither
 * deduplicated nor compressed: the shape of many small files), in files of 100 blobs, directories
 * of 1000 files, and two snapshots of half the directories each. {@code prune DIR} forgets the
 * first snapshot and prunes, as the daemon does (the repository opened with its tree index only),
 * then prints the peak heap it used.
 */
public final class PruneMemory {
  private static final Keys.Secret PASSWORD = Keys.Secret.password("bench");
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  private PruneMemory() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[1]);
    if (args[0].equals("generate")) {
      generate(dir, Long.parseLong(args[2]), Integer.parseInt(args[3]));
    } else {
      prune(dir);
    }
  }

  static void generate(Path dir, long blobs, int size) throws Exception {
    Clock clock = Clock.systemUTC();
    try (Repository repo =
        Repository.init(new LocalBackend(dir.resolve("repo")), PASSWORD, Keys.Kdf.TEST, clock)) {
      Writer w = repo.writer(n -> {});
      List<Id> dirs = new ArrayList<>();
      List<Node> files = new ArrayList<>();
      List<String> content = new ArrayList<>();
      byte[] b = new byte[size];
      SplittableRandom random = new SplittableRandom(42);
      for (long i = 0; i < blobs; i++) {
        random.nextBytes(b);
        content.add(w.add(false, b, 0, size).hex());
        if (content.size() == 100 || i == blobs - 1) {
          files.add(
              new Node(
                  "f" + files.size(),
                  Node.FILE,
                  0644,
                  0,
                  0,
                  0,
                  0,
                  0,
                  0,
                  (long) content.size() * size,
                  List.copyOf(content),
                  null,
                  null));
          content.clear();
        }
        if (files.size() == 1000 || (i == blobs - 1 && !files.isEmpty())) {
          byte[] json = JSON.writeValueAsBytes(new Tree(List.copyOf(files)));
          dirs.add(w.add(true, json, 0, json.length));
          files.clear();
        }
      }
      int half = dirs.size() / 2;
      Id a = root(w, dirs.subList(0, half));
      Id c = root(w, dirs.subList(half, dirs.size()));
      w.flush();
      w.close();
      for (Id root : List.of(a, c)) {
        repo.saveSnapshot(
            new Snapshot(
                null,
                Instant.now(),
                "bench",
                "h",
                List.of("/data"),
                root.hex(),
                null,
                null,
                new Snapshot.Summary(0, 0, 0, 0, 0, 0, 0),
                null));
        Thread.sleep(5); // distinct times
      }
    }
    System.out.println("generated " + blobs + " blobs of " + size + " bytes");
  }

  private static Id root(Writer w, List<Id> dirs) throws Exception {
    List<Node> nodes = new ArrayList<>();
    for (Id d : dirs) {
      nodes.add(
          new Node("d" + nodes.size(), Node.DIR, 0755, 0, 0, 0, 0, 0, 0, 0, null, d.hex(), null));
    }
    byte[] json = JSON.writeValueAsBytes(new Tree(nodes));
    return w.add(true, json, 0, json.length);
  }

  static void prune(Path dir) throws Exception {
    System.gc();
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
    long t0 = System.nanoTime();
    Pruner.Report r;
    try (Repository repo =
        Repository.openTreesOnly(
            new LocalBackend(dir.resolve("repo")), PASSWORD, Clock.systemUTC())) {
      List<Snapshot> all = repo.snapshots();
      if (all.size() != 2) {
        throw new IllegalStateException("generate the repository again: it was pruned already");
      }
      repo.forget(all.stream().min(java.util.Comparator.comparing(Snapshot::time)).orElseThrow());
      r = Pruner.prune(repo, 0.05, false, Files.createDirectories(dir.resolve("tmp")));
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long peak = 0;
    long oldPeak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) {
        peak += p.getPeakUsage().getUsed();
        if (p.getName().contains("Old") || p.getName().contains("Tenured")) {
          oldPeak = p.getPeakUsage().getUsed();
        }
      }
    }
    System.out.printf(
        "pruned in %d ms: %d packs before, %d deleted, %d repacked, %d bytes freed; peak heap"
            + " %d MiB (old generation %d MiB), limit %d MiB%n",
        ms,
        r.packsBefore(),
        r.packsDeleted(),
        r.packsRepacked(),
        r.bytesFreed(),
        peak >> 20,
        oldPeak >> 20,
        Runtime.getRuntime().maxMemory() >> 20);
    System.out.println("peak_old_mib=" + (oldPeak >> 20));
  }
}
