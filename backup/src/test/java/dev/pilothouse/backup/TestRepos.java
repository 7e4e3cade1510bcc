package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Small repositories for tests: 4–64 KiB chunks and 256 KiB packs, so that little data makes many.
 */
final class TestRepos {
  static final Keys.Secret PASSWORD = Keys.Secret.password("correct horse battery staple");

  private TestRepos() {}

  static Repository.Config small() {
    return new Repository.Config(
        1,
        java.util.UUID.randomUUID().toString(),
        4 * 1024,
        16 * 1024,
        64 * 1024,
        256 * 1024,
        3,
        Instant.parse("2026-01-01T00:00:00Z"));
  }

  static Repository init(Backend b) throws IOException {
    return Repository.init(b, PASSWORD, Keys.Kdf.TEST, small(), Clock.systemUTC());
  }

  static Repository open(Backend b) throws IOException {
    return Repository.open(b, PASSWORD, Clock.systemUTC());
  }

  static Snapshot backup(Repository r, Path src, Snapshot parent) throws IOException {
    return Archiver.backup(r, "shop", List.of(src), List.of(), parent, new Archiver.Counters())
        .snapshot();
  }

  /** Everything that restore must bring back, per relative path: type, mode, mtime, content. */
  static Map<String, String> describe(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.put(rel, "link->" + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p)) {
          out.put(rel, "dir " + perms(p) + " " + Files.getLastModifiedTime(p).toMillis());
        } else {
          out.put(
              rel,
              "file "
                  + perms(p)
                  + " "
                  + Files.getLastModifiedTime(p).toMillis()
                  + " "
                  + Crypto.sha256(Files.readAllBytes(p)).hex());
        }
      }
    }
    return out;
  }

  private static String perms(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /** The packs in a local repository. */
  static List<Path> packs(Path repo) throws IOException {
    List<Path> out = new ArrayList<>();
    Path data = repo.resolve("data");
    if (!Files.isDirectory(data)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(data)) {
      s.filter(Files::isRegularFile).forEach(out::add);
    }
    return out;
  }
}
