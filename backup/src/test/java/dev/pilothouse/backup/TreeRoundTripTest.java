package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeTry;

/**
 * Any tree survives backup and restore: contents, empty files, symlinks, modes and times of files
 * and directories (also directories their owner may not write), holes.
 */
class TreeRoundTripTest {
  private Path tmp;

  @BeforeTry
  void dir() throws IOException {
    tmp = Files.createTempDirectory("roundtrip");
  }

  @AfterTry
  void clean() throws IOException {
    try (var s = Files.walk(tmp)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** One entry to create: kind 0 file, 1 dir, 2 symlink, 3 sparse file. */
  record Entry(int kind, String path, int size, long seed, String perms, long mtime) {}

  @Provide
  Arbitrary<List<Entry>> trees() {
    Arbitrary<String> name =
        Arbitraries.strings().withCharRange('a', 'e').ofMinLength(1).ofMaxLength(3);
    Arbitrary<String> path = name.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join("/", l));
    Arbitrary<Integer> size =
        Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(1, 300_000));
    Arbitrary<String> perms =
        Arbitraries.of("rw-r--r--", "rwx------", "r--------", "rwxr-x---", "r-x------");
    Arbitrary<Long> mtime = Arbitraries.longs().between(0, 2_000_000_000_000L);
    return Combinators.combine(
            Arbitraries.integers().between(0, 3), path, size, Arbitraries.longs(), perms, mtime)
        .as(Entry::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(25);
  }

  @Property(tries = 25)
  void any_tree_restores_as_it_was(@ForAll("trees") List<Entry> entries) throws IOException {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    for (Entry e : entries) {
      create(src, e);
    }
    // directories get their modes and times once everything in them is there
    for (Entry e : entries.reversed()) {
      Path d = src.resolve(e.path());
      if (e.kind() == 1 && Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(e.perms()));
        Files.setLastModifiedTime(d, FileTime.from(e.mtime(), TimeUnit.MILLISECONDS));
      }
    }
    Path out = tmp.resolve("out");
    Backend b = new LocalBackend(tmp.resolve("repo"));
    try (Repository r = TestRepos.init(b)) {
      Snapshot s = TestRepos.backup(r, src, null);
      Restorer.restore(r, s, out, false, new Restorer.Counters());
      Path restored = out.resolve(src.toString().substring(1));
      assertThat(TestRepos.describe(restored)).isEqualTo(TestRepos.describe(src));
    }
  }

  private static void create(Path root, Entry e) throws IOException {
    Path p = root.resolve(e.path());
    if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    for (Path a = p.getParent(); !a.equals(root); a = a.getParent()) {
      if (Files.exists(a, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          && !Files.isDirectory(a, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        return;
      }
    }
    Files.createDirectories(p.getParent());
    switch (e.kind()) {
      case 0 -> {
        byte[] data = new byte[e.size()];
        new Random(e.seed()).nextBytes(data);
        Files.write(p, data);
      }
      case 1 -> Files.createDirectories(p);
      case 2 -> Files.createSymbolicLink(p, Path.of("../" + e.path().replace('/', '_')));
      default -> {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
          f.setLength(e.size() + 200_000L);
          f.seek(e.size());
          f.write(new byte[] {1, 2, 3});
        }
      }
    }
    if (e.kind() != 2 && e.kind() != 1) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(e.perms()));
      Files.setLastModifiedTime(p, FileTime.from(e.mtime(), TimeUnit.MILLISECONDS));
    }
  }
}
