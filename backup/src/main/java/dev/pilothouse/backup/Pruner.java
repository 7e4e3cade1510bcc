package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes what no snapshot uses, with memory bounded whatever the repository's size (restic#3844):
 * the blobs in use are gathered into an on-disk sorted set (a fixed buffer on the heap), the index
 * is streamed one file at a time against it, and only per-pack counters stay in memory. Packs with
 * nothing in use are deleted; packs with more than {@code maxUnused} of their bytes unused are
 * repacked (their used blobs copied as they are, still sealed). Order makes every step safe to
 * interrupt: new packs, then the new index, then the old index, then the old packs.
 */
public final class Pruner {
  private static final int BUFFER_IDS = 1 << 20;
  private static final int TREE_CACHE = 100_000;

  /** What prune did (or would do, in a dry run). */
  public record Report(
      long blobsUsed,
      int packsBefore,
      int packsDeleted,
      int packsRepacked,
      int orphanPacks,
      long bytesBefore,
      long bytesFreed,
      boolean dryRun) {}

  private Pruner() {}

  /**
   * @param repo opened with {@link Repository#openTreesOnly}
   * @param maxUnused repack a pack when more than this share of its bytes is unused (0..1)
   */
  public static Report prune(Repository repo, double maxUnused, boolean dryRun, Path tmp)
      throws IOException {
    try (Lease lease = Lease.take(repo, true, "prune");
        SortedIds used = new SortedIds(Files.createTempDirectory(tmp, "prune-"), BUFFER_IDS)) {
      mark(repo, used);
      used.seal();
      List<Backend.Entry> indexFiles = repo.backend().list(Backend.Kind.INDEX);
      Map<String, Long> packSizes = new HashMap<>();
      for (Backend.Entry e : repo.backend().list(Backend.Kind.DATA)) {
        packSizes.put(e.name(), e.size());
      }
      // per pack: [total sealed bytes, used sealed bytes]
      Map<Id, long[]> stats = new LinkedHashMap<>();
      for (Backend.Entry f : indexFiles) {
        for (Blobs.PackEntries p : repo.readIndex(f.name(), e -> true)) {
          long[] s = stats.computeIfAbsent(p.pack(), k -> new long[2]);
          for (Blobs.Entry e : p.entries()) {
            s[0] += e.length();
            if (used.contains(e.id())) {
              s[1] += e.length();
            }
          }
        }
      }
      Set<Id> delete = new HashSet<>();
      Set<Id> repack = new HashSet<>();
      long bytesFreed = 0;
      for (Map.Entry<Id, long[]> e : stats.entrySet()) {
        long[] s = e.getValue();
        long size = packSizes.getOrDefault(e.getKey().hex(), 0L);
        if (s[1] == 0) {
          delete.add(e.getKey());
          bytesFreed += size;
        } else if (s[0] - s[1] > maxUnused * s[0]) {
          repack.add(e.getKey());
          bytesFreed += s[0] - s[1];
        }
      }
      List<String> orphans = new ArrayList<>();
      long bytesBefore = 0;
      for (Map.Entry<String, Long> p : packSizes.entrySet()) {
        bytesBefore += p.getValue();
        if (!stats.containsKey(Id.parse(p.getKey()))) {
          orphans.add(p.getKey());
          bytesFreed += p.getValue();
        }
      }
      Report report =
          new Report(
              used.size(),
              packSizes.size(),
              delete.size(),
              repack.size(),
              orphans.size(),
              bytesBefore,
              bytesFreed,
              dryRun);
      if (dryRun || (delete.isEmpty() && repack.isEmpty() && orphans.isEmpty())) {
        return report;
      }
      // 1. repack: used blobs into new packs (indexed by the writer)
      try (Writer w = repo.writer(n -> {})) {
        for (Id p : repack) {
          byte[] pack = repo.backend().get(Backend.Kind.DATA, p.hex());
          for (Blobs.Entry e : Blobs.packEntries(repo.crypto(), pack, p.hex())) {
            if (used.contains(e.id())) {
              w.addSealed(e, pack);
            }
          }
        }
        w.flush();
      }
      // 2. the new index: every kept pack, streamed
      List<Blobs.PackEntries> batch = new ArrayList<>();
      int batchEntries = 0;
      Set<Id> written = new HashSet<>();
      for (Backend.Entry f : indexFiles) {
        for (Blobs.PackEntries p : repo.readIndex(f.name(), e -> true)) {
          if (!delete.contains(p.pack()) && !repack.contains(p.pack()) && written.add(p.pack())) {
            batch.add(p);
            batchEntries += p.entries().size();
            if (batch.size() >= Writer.INDEX_EVERY || batchEntries >= Writer.INDEX_ENTRIES) {
              repo.writeIndex(batch);
              batch.clear();
              batchEntries = 0;
            }
          }
        }
      }
      if (!batch.isEmpty()) {
        repo.writeIndex(batch);
      }
      // 3. the old index, 4. the old packs
      for (Backend.Entry f : indexFiles) {
        repo.backend().delete(Backend.Kind.INDEX, f.name());
      }
      for (Id p : delete) {
        repo.backend().delete(Backend.Kind.DATA, p.hex());
      }
      for (Id p : repack) {
        repo.backend().delete(Backend.Kind.DATA, p.hex());
      }
      for (String p : orphans) {
        repo.backend().delete(Backend.Kind.DATA, p);
      }
      return report;
    }
  }

  private static void mark(Repository repo, SortedIds used) throws IOException {
    Map<Id, Boolean> seen =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<Id, Boolean> eldest) {
            return size() > TREE_CACHE;
          }
        };
    for (Backend.Entry e : repo.backend().list(Backend.Kind.SNAPSHOT)) {
      Snapshot s = repo.readSnapshot(e.name());
      markTree(repo, Id.parse(s.tree()), used, seen);
    }
  }

  private static void markTree(Repository repo, Id tree, SortedIds used, Map<Id, Boolean> seen)
      throws IOException {
    if (seen.put(tree, Boolean.TRUE) != null) {
      return;
    }
    used.add(tree);
    for (Node n : repo.readTree(tree).nodes()) {
      if (n.content() != null) {
        for (String c : n.content()) {
          used.add(Id.parse(c));
        }
      }
      if (n.subtree() != null) {
        markTree(repo, Id.parse(n.subtree()), used, seen);
      }
    }
  }
}
