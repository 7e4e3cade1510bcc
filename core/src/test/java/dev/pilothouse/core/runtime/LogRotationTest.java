package dev.pilothouse.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** daemon.log's rotation: a file another process appends to stays bounded. */
class LogRotationTest {
  @TempDir Path dir;

  @Test
  void copyTruncate_keepsAtMostKeepFiles_andTheWriterGoesOnAtTheStart() throws Exception {
    Path f = dir.resolve("daemon.log");
    // An O_APPEND writer that stays open across rotations, as the daemon's stdout does.
    try (FileOutputStream out = new FileOutputStream(f.toFile(), true)) {
      for (int round = 0; round < 6; round++) {
        out.write(("round " + round + " ").repeat(200).getBytes(StandardCharsets.UTF_8));
        out.flush();
        assertThat(LogFiles.copyTruncate(f, 1000, 3)).isTrue();
        assertThat(Files.size(f)).isZero();
      }
      assertThat(LogFiles.copyTruncate(f, 1000, 3)).isFalse(); // small: left alone
      out.write("after\n".getBytes(StandardCharsets.UTF_8));
    }
    assertThat(Files.readString(f)).isEqualTo("after\n"); // no hole of zeros before it
    assertThat(Files.readString(dir.resolve("daemon.log.1"))).startsWith("round 5");
    assertThat(Files.readString(dir.resolve("daemon.log.3"))).startsWith("round 3");
    assertThat(Files.exists(dir.resolve("daemon.log.4"))).isFalse();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("daemon.log.1"))))
        .isEqualTo("rw-------");
  }
}
