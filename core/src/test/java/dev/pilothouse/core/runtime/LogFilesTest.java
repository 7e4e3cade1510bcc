package dev.pilothouse.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogFilesTest {
  @TempDir Path dir;
  Instant now = Instant.parse("2026-01-01T00:00:00Z");
  final InstantSource clock = () -> now;

  void append(Path f, String s) throws IOException {
    Files.createDirectories(f.getParent());
    Files.writeString(
        f, s, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Test
  void offsetSince_pointsAtOutputWrittenAfterThatTime() throws IOException {
    LogFiles logs = new LogFiles(dir, 1 << 20, 10, clock);
    Path f = logs.fileFor("svc", "svc-1");
    logs.track("svc", "svc-1");
    append(f, "early\n");
    now = now.plusSeconds(1);
    logs.maintain();
    now = now.plusSeconds(60);
    append(f, "late\n");
    logs.maintain();
    assertThat(LogFiles.offsetSince(f, now.minusSeconds(30))).isEqualTo("early\n".length());
    assertThat(LogFiles.offsetSince(f, now.minus(Duration.ofHours(1)))).isZero();
  }

  @Test
  void rotatesBySize_keepingThePreviousFile() throws IOException {
    LogFiles logs = new LogFiles(dir, 1024, 10, clock);
    Path f = logs.fileFor("svc", "svc-1");
    append(f, "x".repeat(2000) + "\n");
    logs.maintain();
    assertThat(Files.size(f)).isZero();
    assertThat(Files.size(LogFiles.rotated(f))).isEqualTo(2001);
  }

  @Test
  void prunesLogsOfOldInstances() throws IOException {
    LogFiles logs = new LogFiles(dir, 1024, 2, clock);
    for (int i = 0; i < 4; i++) {
      Path f = logs.fileFor("svc", "svc-" + i);
      append(f, "line\n");
      Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.from(now.plusSeconds(i)));
    }
    logs.maintain();
    assertThat(logs.files("svc", Optional.empty()))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("svc-2.log", "svc-3.log");
  }
}
