package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.security.IncidentBundle;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Captures of real processes (this JVM and a sleep), sealed and opened again. */
class IncidentCaptureTest {
  @TempDir Path dir;

  @Test
  void aCapture_holdsEachInstancesProcState_connections_threads_andLogs_sealedUnderTheKey()
      throws Exception {
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    try (ServerSocket server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket accepted = server.accept()) {
      long self = ProcessHandle.current().pid();
      IncidentCapture.Sources sources =
          new IncidentCapture.Sources() {
            @Override
            public List<IncidentCapture.Target> instances(String service) {
              return List.of(
                  new IncidentCapture.Target("shop-jvm", self, server.getLocalPort(), "running"),
                  new IncidentCapture.Target("shop-sleep", sleeper.pid(), 0, "running"));
            }

            @Override
            public String logTail(String service, String instanceId, int maxBytes) {
              return "last lines of " + instanceId + "\n";
            }

            @Override
            public List<String> events(String service, int max) {
              return List.of("{\"seq\":1,\"type\":\"InstanceStarted\"}");
            }

            @Override
            public String metrics(String service) {
              return "# sum(rate(...))\n";
            }
          };
      String key = IncidentBundle.newKey();
      IncidentCapture.Bundle b =
          new IncidentCapture(sources, () -> Instant.parse("2026-11-30T10:00:00Z"))
              .capture("shop", key);
      assertThat(b.instances()).isEqualTo(2);
      assertThat(new String(b.sealed(), StandardCharsets.ISO_8859_1))
          .startsWith("PHIB1")
          .doesNotContain("last lines of");

      List<Path> files = IncidentBundle.open(b.sealed(), key, dir.resolve("out"));
      assertThat(files).hasSize(b.files().size());
      Path jvm = dir.resolve("out/instances/shop-jvm");
      assertThat(Files.readString(jvm.resolve("status.txt"))).contains("Pid:\t" + self);
      assertThat(Files.readString(jvm.resolve("connections.txt")))
          .containsPattern("127\\.0\\.0\\.1:" + server.getLocalPort() + " \\S+ LISTEN")
          .contains("ESTABLISHED");
      assertThat(Files.readString(jvm.resolve("threads.txt")))
          .as("a JVM's thread dump through jcmd")
          .contains("\"main\"");
      assertThat(Files.readString(jvm.resolve("open-files.txt"))).contains("socket:[");
      Path sleep = dir.resolve("out/instances/shop-sleep");
      assertThat(Files.readString(sleep.resolve("cmdline.txt")).strip()).isEqualTo("sleep 60");
      assertThat(Files.readString(sleep.resolve("threads.txt"))).contains(" sleep S ");
      assertThat(Files.readString(sleep.resolve("log-tail.txt")))
          .isEqualTo("last lines of shop-sleep\n");
      assertThat(Files.readString(dir.resolve("out/events.jsonl"))).contains("InstanceStarted");
      assertThat(Files.readString(dir.resolve("out/summary.txt"))).contains("instances: 2");
      assertThat(files)
          .allSatisfy(
              f ->
                  assertThat(
                          java.nio.file.attribute.PosixFilePermissions.toString(
                              Files.getPosixFilePermissions(f)))
                      .isEqualTo("rw-------"));
      // no environment: it holds secrets
      assertThat(b.files()).noneMatch(f -> f.contains("environ"));

      // a wrong key, a changed byte, something else entirely: refused, nothing written
      assertThatThrownBy(
              () -> IncidentBundle.open(b.sealed(), IncidentBundle.newKey(), dir.resolve("x")))
          .hasMessageContaining("does not open with this key");
      byte[] changed = b.sealed().clone();
      changed[changed.length / 2] ^= 1;
      assertThatThrownBy(() -> IncidentBundle.open(changed, key, dir.resolve("y")))
          .hasMessageContaining("does not open with this key");
      assertThatThrownBy(() -> IncidentBundle.open("hello".getBytes(), key, dir.resolve("z")))
          .hasMessageContaining("not an incident bundle");
      assertThat(dir.resolve("x")).doesNotExist();
      assertThatThrownBy(() -> IncidentBundle.key("short")).hasMessageContaining("43 characters");
    } finally {
      sleeper.destroy();
      sleeper.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBundleNamingAFileOutsideItsDirectory_isRefused() throws Exception {
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(z)) {
      zip.putNextEntry(new ZipEntry("../escaped.txt"));
      zip.write("x".getBytes());
      zip.closeEntry();
    }
    String key = IncidentBundle.newKey();
    byte[] sealed = IncidentBundle.seal(IncidentBundle.key(key), z.toByteArray());
    assertThatThrownBy(() -> IncidentBundle.open(sealed, key, dir.resolve("in")))
        .hasMessageContaining("names a file outside it");
    assertThat(dir.resolve("escaped.txt")).doesNotExist();
  }

  @Test
  void procNetAddresses_areDecodedAsTheKernelWritesThem() {
    assertThat(IncidentCapture.address("0100007F:1F90")).isEqualTo("127.0.0.1:8080");
    assertThat(IncidentCapture.address("00000000000000000000000001000000:0050"))
        .isEqualTo("[0:0:0:0:0:0:0:1]:80");
  }
}
