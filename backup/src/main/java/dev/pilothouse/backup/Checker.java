package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Verifies a repository: every snapshot's trees read and every blob they name is indexed in a pack
 * that exists with its indexed size; with {@code readData}, every pack (or a random share of them)
 * is read whole, its SHA-256 checked against its name, its header against the index, and each blob
 * decrypted, decompressed and its keyed hash checked. Each problem is named (pack, blob, snapshot).
 */
public final class Checker {

  /** What a check found. */
  public record Report(
      int snapshots,
      int packs,
      int packsRead,
      long bytesRead,
      int blobs,
      int walRead,
      List<String> errors) {
    public boolean ok() {
      return errors.isEmpty();
    }
  }

  private Checker() {}

  /**
   * @param readShare 0 for none, 1 for every pack, or the share of packs to read (at least one)
   */
  public static Report check(Repository repo, double readShare, Random random) throws IOException {
    List<String> errors = new ArrayList<>();
    Map<String, Long> sizes = new HashMap<>();
    for (Backend.Entry e : repo.backend().list(Backend.Kind.DATA)) {
      sizes.put(e.name(), e.size());
    }
    // index: each pack must exist, with room for every blob it lists
    Map<Id, Long> packEnds = new HashMap<>();
    for (Backend.Entry f : repo.backend().list(Backend.Kind.INDEX)) {
      try {
        for (Blobs.PackEntries p : repo.readIndex(f.name(), e -> true)) {
          long end = 0;
          for (Blobs.Entry e : p.entries()) {
            end = Math.max(end, (long) e.offset() + e.length());
          }
          packEnds.merge(p.pack(), end, Math::max);
        }
      } catch (BackupException e) {
        errors.add(e.getMessage());
      }
    }
    for (Map.Entry<Id, Long> p : packEnds.entrySet()) {
      Long size = sizes.get(p.getKey().hex());
      if (size == null) {
        errors.add("pack data/" + p.getKey().hex() + " is missing (the index lists it)");
      } else if (size < p.getValue()) {
        errors.add(
            "pack data/"
                + p.getKey().hex()
                + " is truncated: "
                + size
                + " bytes, the index needs "
                + p.getValue());
      }
    }
    // snapshots: every tree readable, every blob indexed
    List<Snapshot> snaps = new ArrayList<>();
    for (Backend.Entry e : repo.backend().list(Backend.Kind.SNAPSHOT)) {
      try {
        snaps.add(repo.readSnapshot(e.name()));
      } catch (BackupException ex) {
        errors.add(ex.getMessage());
      }
    }
    Set<Id> seenTrees = new HashSet<>();
    for (Snapshot s : snaps) {
      walk(repo, Id.parse(s.tree()), "snapshot " + s.shortId(), seenTrees, errors);
    }
    // data
    int read = 0;
    long bytes = 0;
    if (readShare > 0) {
      List<String> names = new ArrayList<>(sizes.keySet());
      Collections.sort(names);
      if (readShare < 1) {
        Collections.shuffle(names, random);
        names = names.subList(0, Math.max(1, (int) Math.ceil(names.size() * readShare)));
      }
      for (String name : names) {
        bytes += readPack(repo, name, errors);
        read++;
      }
    }
    // PostgreSQL's archived WAL: the same share of its files decrypted and decompressed
    int walRead = 0;
    if (readShare > 0) {
      List<String> wal = new ArrayList<>();
      for (Backend.Entry e : repo.backend().list(Backend.Kind.WAL)) {
        wal.add(e.name());
      }
      Collections.sort(wal);
      if (readShare < 1 && !wal.isEmpty()) {
        Collections.shuffle(wal, random);
        wal = wal.subList(0, Math.max(1, (int) Math.ceil(wal.size() * readShare)));
      }
      for (String name : wal) {
        try {
          bytes += WalArchive.open(repo, name).data().length;
        } catch (BackupException e) {
          errors.add(e.getMessage());
        }
        walRead++;
      }
    }
    return new Report(snaps.size(), sizes.size(), read, bytes, repo.blobCount(), walRead, errors);
  }

  private static void walk(
      Repository repo, Id tree, String where, Set<Id> seen, List<String> errors)
      throws IOException {
    if (!seen.add(tree)) {
      return;
    }
    Tree t;
    try {
      t = repo.readTree(tree);
    } catch (BackupException | IOException e) {
      errors.add(where + ": tree " + tree.shortHex() + ": " + e.getMessage());
      return;
    }
    for (Node n : t.nodes()) {
      if (n.content() != null) {
        for (String c : n.content()) {
          if (!repo.has(Id.parse(c))) {
            errors.add(
                where + ": " + n.name() + ": blob " + c.substring(0, 8) + " is not in the index");
          }
        }
      }
      if (n.subtree() != null) {
        walk(repo, Id.parse(n.subtree()), where, seen, errors);
      }
    }
  }

  /** Reads a whole pack and checks everything in it; returns its size. */
  static long readPack(Repository repo, String name, List<String> errors) throws IOException {
    byte[] pack;
    try {
      pack = repo.backend().get(Backend.Kind.DATA, name);
    } catch (NoSuchFileException e) {
      errors.add("pack data/" + name + " vanished while checking");
      return 0;
    }
    if (!Crypto.sha256(pack).hex().equals(name)) {
      errors.add("pack data/" + name + " is damaged: its SHA-256 does not match its name");
    }
    List<Blobs.Entry> entries;
    try {
      entries = Blobs.packEntries(repo.crypto(), pack, name);
    } catch (BackupException e) {
      errors.add(e.getMessage());
      return pack.length;
    }
    for (Blobs.Entry e : entries) {
      try {
        if (e.offset() < 0 || (long) e.offset() + e.length() > pack.length) {
          throw new BackupException(
              "blob " + e.id().shortHex() + " lies outside pack data/" + name);
        }
        byte[] plain = repo.decode(e, pack, e.offset(), e.length(), name);
        if (!repo.crypto().id(plain, 0, plain.length).equals(e.id())) {
          errors.add(
              "blob " + e.id().shortHex() + " in pack data/" + name + " has the wrong content");
        }
      } catch (BackupException ex) {
        errors.add(ex.getMessage());
      }
    }
    return pack.length;
  }
}
