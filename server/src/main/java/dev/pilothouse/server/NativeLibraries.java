package dev.pilothouse.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

/**
 * Where the daemon's JDBC and compression libraries unpack their native code. SQLite's and Snappy's
 * drivers copy a shared library to a temporary directory on every start and delete it on a clean
 * exit; a daemon killed with SIGKILL leaves its copy behind (about 1.3 MB each in /tmp, never
 * removed). Confined to STATE/tmp/native, the copies of dead daemons are deleted by the next one.
 */
final class NativeLibraries {
  /** Copies younger than this may belong to a process still starting: left alone. */
  static final Duration STALE_AFTER = Duration.ofMinutes(1);

  private NativeLibraries() {}

  /**
   * Points the drivers at dir (unless the user set their properties) and deletes the copies left
   * there by processes that are gone.
   *
   * @return how many stale files were deleted
   */
  static int confine(Path dir, Instant now) {
    try {
      Files.createDirectories(
          dir,
          java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
              java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      return 0; // the drivers fall back to java.io.tmpdir
    }
    if (System.getProperty("org.sqlite.tmpdir") == null) {
      System.setProperty("org.sqlite.tmpdir", dir.toString());
    }
    if (System.getProperty("org.xerial.snappy.tempdir") == null) {
      System.setProperty("org.xerial.snappy.tempdir", dir.toString());
    }
    int deleted = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (!(name.startsWith("sqlite-") || name.startsWith("snappy-"))) {
          continue;
        }
        try {
          // A copy that is mapped stays usable after its file is deleted; only one being
          // unpacked right now could be hurt, and that one is younger than a minute.
          if (Files.getLastModifiedTime(f).toInstant().isBefore(now.minus(STALE_AFTER))) {
            deleted += Files.deleteIfExists(f) ? 1 : 0;
          } else {
            // The drivers make their copies readable by all: kept, it is the owner's only, as
            // the rest of the state directory (which the daemon would otherwise warn about).
            StateDir.ownerOnly(f, new java.util.ArrayList<>());
          }
        } catch (IOException e) {
          // gone already, or not ours to change
        }
      }
    } catch (IOException e) {
      // the directory could not be listed: nothing deleted
    }
    return deleted;
  }
}
