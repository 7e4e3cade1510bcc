package dev.pilothouse.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
      IncidentCapture.Bundle b =
          new IncidentCapture(sources, () -> Instant.parse("2026-11-30T10:00:00Z")).capture("shop");
      assertThat(b.instances()).isEqualTo(2);
      List<Path> files = unzip(b.zip(), dir.resolve("out"));
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
      // no environment: it holds secrets
      assertThat(b.files()).noneMatch(f -> f.contains("environ"));

    } finally {
      sleeper.destroy();
      sleeper.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void procNetAddresses_areDecodedAsTheKernelWritesThem() {
    assertThat(IncidentCapture.address("0100007F:1F90")).isEqualTo("127.0.0.1:8080");
    assertThat(IncidentCapture.address("00000000000000000000000001000000:0050"))
        .isEqualTo("[0:0:0:0:0:0:0:1]:80");
  }

  static List<Path> unzip(byte[] zip, Path to) throws Exception {
    List<Path> out = new java.util.ArrayList<>();
    try (java.util.zip.ZipInputStream in =
        new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(zip))) {
      java.util.zip.ZipEntry e;
      while ((e = in.getNextEntry()) != null) {
        Path f = to.resolve(e.getName());
        Files.createDirectories(f.getParent());
        Files.write(f, in.readAllBytes());
        out.add(f);
      }
    }
    return out;
  }
}
