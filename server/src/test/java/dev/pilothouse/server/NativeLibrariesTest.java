package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
  @TempDir Path tmp;

  /** The drivers' properties are the JVM's: other tests of this JVM must not unpack into tmp. */
  @org.junit.jupiter.api.AfterEach
  void restoreProperties() {
    System.clearProperty("org.sqlite.tmpdir");
    System.clearProperty("org.xerial.snappy.tempdir");
  }

  @Test
  void deletesTheCopiesOfDeadDaemons_keepsFreshOnesAndEverythingElse() throws Exception {
    Path dir = tmp.resolve("state/tmp/native");
    Files.createDirectories(dir);
    Instant now = Instant.parse("2026-12-02T03:00:00Z");
    Path oldSqlite = dir.resolve("sqlite-3.50.3.0-0a7a2e2d-libsqlitejdbc.so");
    Path oldLock = dir.resolve("sqlite-3.50.3.0-0a7a2e2d-libsqlitejdbc.so.lck");
    Path oldSnappy = dir.resolve("snappy-1.1.10-0393-libsnappyjava.so");
    Path fresh = dir.resolve("sqlite-3.50.3.0-ffff-libsqlitejdbc.so");
    Path other = dir.resolve("restore-1234.tmp");
    for (Path f : new Path[] {oldSqlite, oldLock, oldSnappy, fresh, other}) {
      Files.writeString(f, "x");
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
      Files.setLastModifiedTime(f, FileTime.from(now.minusSeconds(3600)));
    }
    Files.setLastModifiedTime(fresh, FileTime.from(now.minusSeconds(10)));

    assertThat(NativeLibraries.confine(dir, now)).isEqualTo(3);

    assertThat(oldSqlite).doesNotExist();
    assertThat(oldLock).doesNotExist();
    assertThat(oldSnappy).doesNotExist();
    assertThat(fresh).exists(); // may be a process unpacking it right now
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)))
        .isEqualTo("rw-------");
    assertThat(other).exists();
    assertThat(System.getProperty("org.sqlite.tmpdir")).isEqualTo(dir.toString());
    assertThat(System.getProperty("org.xerial.snappy.tempdir")).isEqualTo(dir.toString());
  }

  @Test
  void createsTheDirectoryForTheOwnerOnly() throws Exception {
    Path dir = tmp.resolve("fresh-state/tmp/native");
    NativeLibraries.confine(dir, Instant.now());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.getParent())))
        .isEqualTo("rwx------");
  }
}
