package dev.pilothouse.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FaultsTest {
  @TempDir Path tmp;

  private Path source(int files, int size) throws Exception {
    Path src = tmp.resolve("src");
    Files.createDirectories(src);
    Random r = new Random(3);
    for (int i = 0; i < files; i++) {
      byte[] b = new byte[size];
      r.nextBytes(b);
      Files.write(src.resolve("f" + i), b);
    }
    return src;
  }

  @Test
  void a_wrong_password_is_refused_clearly_and_the_right_one_opens() throws Exception {
    Backend b = new LocalBackend(tmp.resolve("repo"));
    TestRepos.init(b).close();
    assertThatThrownBy(() -> Repository.open(b, Keys.Secret.password("nope"), Clock.systemUTC()))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("wrong password")
        .hasMessageContaining(tmp.resolve("repo").toString());
    TestRepos.open(b).close();
  }

  @Test
  void no_repository_is_named_with_how_to_make_one() {
    Backend b = new LocalBackend(tmp.resolve("none"));
    assertThatThrownBy(() -> TestRepos.open(b))
        .isInstanceOf(BackupException.class)
        .hasMessageContaining("no repository at")
        .hasMessageContaining("backup init");
  }

  @Test
  void a_flipped_byte_in_a_pack_is_found_and_named_by_verify_read_data() throws Exception {
    Path src = source(6, 100_000);
    Path repoDir = tmp.resolve("repo");
    try (Repository r = TestRepos.init(new LocalBackend(repoDir))) {
      TestRepos.backup(r, src, null);
      assertThat(Checker.check(r, 1, new Random(1)).errors()).isEmpty();
    }
    // the largest pack holds file data (tree packs are small)
    Path victim =
        TestRepos.packs(repoDir).stream()
            .max(java.util.Comparator.comparingLong(p -> p.toFile().length()))
            .orElseThrow();
    try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
      f.seek(100);
      int x = f.read();
      f.seek(100);
      f.write(x ^ 0x01);
    }
    try (Repository r = TestRepos.open(new LocalBackend(repoDir))) {
      // without reading data the structure is intact
      assertThat(Checker.check(r, 0, new Random(1)).errors()).isEmpty();
      Checker.Report rep = Checker.check(r, 1, new Random(1));
      String name = victim.getFileName().toString();
      assertThat(rep.errors())
          .anySatisfy(e -> assertThat(e).contains(name).contains("SHA-256 does not match"))
          .anySatisfy(e -> assertThat(e).contains(name).contains("does not authenticate"));
    }
  }

  @Test
  void a_missing_or_truncated_pack_is_found_without_reading_data() throws Exception {
    Path src = source(6, 100_000);
    Path repoDir = tmp.resolve("repo");
    try (Repository r = TestRepos.init(new LocalBackend(repoDir))) {
      TestRepos.backup(r, src, null);
    }
    List<Path> packs = TestRepos.packs(repoDir);
    Files.delete(packs.get(0));
    try (RandomAccessFile f = new RandomAccessFile(packs.get(1).toFile(), "rw")) {
      f.setLength(10);
    }
    try (Repository r = TestRepos.open(new LocalBackend(repoDir))) {
      List<String> errors = Checker.check(r, 0, new Random(1)).errors();
      assertThat(errors)
          .anySatisfy(
              e ->
                  assertThat(e).contains(packs.get(0).getFileName().toString()).contains("missing"))
          .anySatisfy(
              e ->
                  assertThat(e)
                      .contains(packs.get(1).getFileName().toString())
                      .contains("truncated"));
    }
  }

  @Test
  void a_full_disk_fails_the_backup_cleanly_and_leaves_no_half_written_file() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
    Path mnt = tmp.resolve("small");
    Files.createDirectories(mnt);
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString())
            .inheritIO()
            .start();
    assumeTrue(p.waitFor() == 0, "tmpfs mount not available here");
    try {
      Path src = source(8, 300_000);
      Backend b = new LocalBackend(mnt.resolve("repo"));
      try (Repository r = TestRepos.init(b)) {
        assertThatThrownBy(() -> TestRepos.backup(r, src, null))
            .hasMessageContaining("No space left on device");
      }
      try (var s = Files.walk(mnt.resolve("repo/tmp"))) {
        assertThat(s.filter(Files::isRegularFile).toList()).isEmpty();
      }
      try (Repository r = TestRepos.open(b)) {
        assertThat(r.snapshots()).isEmpty();
        // every pack that is there is whole
        assertThat(Checker.check(r, 1, new Random(1)).errors()).isEmpty();
      }
    } finally {
      new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
    }
  }
}
