package dev.pilothouse.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pilothouse.proxy.control.ProxyHost;
import dev.pilothouse.proxy.control.RemoteProxy;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data plane in a cluster, as its pod runs it ({@code pilothouse proxy --control-port}): a real
 * proxy process with a TCP control channel, driven by a {@link RemoteProxy} as the daemon drives
 * it, real HTTP through it.
 */
class RemoteProxyTest {
  private static final String TOKEN = "0123456789abcdef0123456789abcdef";

  @TempDir Path dir;
  final List<AutoCloseable> closeables = new ArrayList<>();
  Process process;

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (process != null) {
      process.destroyForcibly().waitFor();
    }
  }

  /** Starts the proxy as the data plane's container does; returns its control port. */
  int startProxy(String token) throws Exception {
    Path tokenFile = Files.writeString(dir.resolve("token"), token + "\n");
    int port = ProxyProcessTest.freePort();
    List<String> cmd = new ArrayList<>(ProxyHost.javaCommand());
    cmd.addAll(
        List.of(
            "--control-host",
            "127.0.0.1",
            "--control-port",
            Integer.toString(port),
            "--control-token-file",
            tokenFile.toString()));
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("proxy.log").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
              } catch (java.io.IOException e) {
                return false;
              }
            });
    return port;
  }

  RemoteProxy remote(int port, String token) {
    RemoteProxy r = new RemoteProxy("127.0.0.1", port, token.getBytes(StandardCharsets.UTF_8));
    closeables.add(r);
    return r;
  }

  @Test
  void aPushedSnapshot_isServed_measuredOverTcp_andOutlivesTheDaemonsConnection() throws Exception {
    TestBackend one = new TestBackend("web-1");
    closeables.add(one);
    int control = startProxy(TOKEN);
    int listen = ProxyProcessTest.freePort();
    ProxyOptions options = ProxyOptions.plain("127.0.0.1", listen);

    RemoteProxy daemon = remote(control, TOKEN);
    assertThat(daemon.sync(options, ProxyProcessTest.table(one))).isTrue();
    RemoteProxy.Status s = daemon.status();
    assertThat(s.connected()).isTrue();
    assertThat(s.pid()).isEqualTo(process.pid());
    assertThat(s.version()).isEqualTo(1);

    ProxyProcessTest probe = new ProxyProcessTest();
    for (int i = 0; i < 4; i++) {
      assertThat(probe.get(listen)).isEqualTo(200);
    }
    assertThat(one.requests.get()).isEqualTo(4);
    var w = daemon.window(List.of("web-1"), Duration.ofMinutes(1).toNanos()).orElseThrow();
    assertThat(w.requests()).isEqualTo(4);
    assertThat(daemon.load(List.of("web-1")).orElseThrow().requestTotals())
        .containsEntry("web-1", 4L);

    // The same snapshot again is not pushed again.
    assertThat(daemon.sync(options, ProxyProcessTest.table(one))).isTrue();
    assertThat(daemon.status().version()).isEqualTo(1);

    // The daemon goes away: the proxy serves on, and the next daemon continues the versions.
    daemon.close();
    assertThat(probe.get(listen)).isEqualTo(200);
    TestBackend two = new TestBackend("web-2");
    closeables.add(two);
    RemoteProxy next = remote(control, TOKEN);
    assertThat(next.sync(options, ProxyProcessTest.table(two))).isTrue();
    assertThat(next.status().version()).isEqualTo(2);
    assertThat(next.status().pid()).isEqualTo(process.pid());
    assertThat(probe.get(listen)).isEqualTo(200);
    assertThat(two.requests.get()).isEqualTo(1);
  }

  @Test
  void aWrongToken_orNone_isRefused_andChangesNothing() throws Exception {
    TestBackend one = new TestBackend("web-1");
    closeables.add(one);
    int control = startProxy(TOKEN);
    int listen = ProxyProcessTest.freePort();

    RemoteProxy intruder = remote(control, "not-the-token-but-long-enough");
    assertThat(intruder.sync(ProxyOptions.plain("127.0.0.1", listen), ProxyProcessTest.table(one)))
        .isFalse();
    assertThat(intruder.status().connected()).isFalse();
    assertThat(intruder.status().error()).contains("wrong control token");

    // A peer that claims a huge first frame is cut off without the proxy allocating it.
    try (Socket s = new Socket("127.0.0.1", control)) {
      OutputStream out = s.getOutputStream();
      out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      out.flush();
      s.setSoTimeout(5000);
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(new ProxyProcessTest().get(listen)).as("nothing listens: no snapshot").isEqualTo(-1);
    assertThat(Files.readString(dir.resolve("proxy.log")))
        .contains("refused: wrong token")
        .doesNotContain(TOKEN);

    RemoteProxy daemon = remote(control, TOKEN);
    assertThat(daemon.sync(ProxyOptions.plain("127.0.0.1", listen), ProxyProcessTest.table(one)))
        .isTrue();
    assertThat(new ProxyProcessTest().get(listen)).isEqualTo(200);
  }

  @Test
  void aShortTokenFile_stopsTheProxyWithAClearMessage() throws Exception {
    Path tokenFile = Files.writeString(dir.resolve("token"), "short");
    List<String> cmd = new ArrayList<>(ProxyHost.javaCommand());
    cmd.addAll(List.of("--control-port", "0", "--control-token-file", tokenFile.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isEqualTo(1);
    assertThat(out).contains("must be 16 to 1024 bytes long, but is 5");

    List<String> noToken = new ArrayList<>(ProxyHost.javaCommand());
    noToken.addAll(List.of("--control-port", "0"));
    Process q = new ProcessBuilder(noToken).redirectErrorStream(true).start();
    String usage = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(q.waitFor()).isEqualTo(2);
    assertThat(usage).contains("--control-port needs --control-token-file");
  }
}
