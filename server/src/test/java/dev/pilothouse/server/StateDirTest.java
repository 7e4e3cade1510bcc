package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state directory is its owner's only, however it came to exist. */
class StateDirTest {
  @TempDir Path tmp;

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void secure_takesGroupAndOtherPermissionsOffEverything_keepingTheOwnersExecuteBit()
      throws Exception {
    Path dir = tmp.resolve("state");
    Files.createDirectories(dir.resolve("backups/shop"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(dir.resolve("pilothouse.db"), "x");
    Files.setPosixFilePermissions(
        dir.resolve("pilothouse.db"), PosixFilePermissions.fromString("rw-r--r--"));
    Path artifact = dir.resolve("backups/shop/app");
    Files.writeString(artifact, "#!/bin/sh\n");
    Files.setPosixFilePermissions(artifact, PosixFilePermissions.fromString("rwxr-xr-x"));
    StateDir s = new StateDir(dir);
    List<Path> repaired = s.secure();
    assertThat(repaired).contains(dir, dir.resolve("pilothouse.db"), artifact);
    assertThat(mode(dir)).isEqualTo("rwx------");
    assertThat(mode(dir.resolve("pilothouse.db"))).isEqualTo("rw-------");
    assertThat(mode(artifact)).isEqualTo("rwx------");
    assertThat(s.secure()).isEmpty(); // nothing left to repair
    StateDir.createPrivate(dir.resolve("new.db"));
    assertThat(mode(dir.resolve("new.db"))).isEqualTo("rw-------");
  }
}
