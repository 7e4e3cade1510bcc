package dev.pilothouse.backup;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Replicates a repository to a second backend ("another region") file by file, as stored: nothing
 * is decrypted or re-encrypted, and the copy opens with the same passwords. Incremental (a file the
 * target has is not sent again) and resumable (an interrupted copy is finished by the next one).
 * Packs go first, then the index, then snapshots, so the target is consistent at every instant.
 */
public final class Copier {

  /** What a copy sent. */
  public record Report(int files, long bytes, int snapshots) {}

  private Copier() {}

  public static Report copy(Backend from, Backend to) throws IOException {
    if (!from.exists(Backend.Kind.CONFIG, "config")) {
      throw new BackupException("no repository at " + from.location() + " to copy");
    }
    byte[] cfg = from.get(Backend.Kind.CONFIG, "config");
    if (to.exists(Backend.Kind.CONFIG, "config")) {
      byte[] other = to.get(Backend.Kind.CONFIG, "config");
      if (!java.util.Arrays.equals(cfg, other)) {
        throw new BackupException(
            to.location()
                + " holds another repository; a replica must be empty or a copy of "
                + from.location());
      }
    }
    int files = 0;
    long bytes = 0;
    int snapshots = 0;
    for (Backend.Kind kind :
        List.of(
            Backend.Kind.KEY,
            Backend.Kind.DATA,
            Backend.Kind.WAL,
            Backend.Kind.INDEX,
            Backend.Kind.SNAPSHOT)) {
      Set<String> there = new HashSet<>();
      for (Backend.Entry e : to.list(kind)) {
        there.add(e.name());
      }
      for (Backend.Entry e : from.list(kind)) {
        if (there.contains(e.name())) {
          continue;
        }
        byte[] b = from.get(kind, e.name());
        if (kind != Backend.Kind.KEY
            && kind != Backend.Kind.WAL
            && !Crypto.sha256(b).hex().equals(e.name())) {
          throw new BackupException(
              kind.dir
                  + "/"
                  + e.name()
                  + " in "
                  + from.location()
                  + " is damaged (SHA-256 does not match); run 'backup verify' there");
        }
        to.put(kind, e.name(), b);
        files++;
        bytes += b.length;
        if (kind == Backend.Kind.SNAPSHOT) {
          snapshots++;
        }
      }
      if (kind == Backend.Kind.KEY && !to.exists(Backend.Kind.CONFIG, "config")) {
        to.put(Backend.Kind.CONFIG, "config", cfg);
      }
    }
    return new Report(files, bytes, snapshots);
  }
}
