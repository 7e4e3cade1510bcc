package dev.pilothouse.core.health;

import dev.pilothouse.core.instance.PortAllocator;
import dev.pilothouse.core.instance.Prober;
import dev.pilothouse.core.spec.Probe;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** Real health checks over loopback sockets and processes, and a free-port finder. */
public final class Probers {
  private Probers() {}

  /** A prober running each check on a virtual thread; close the executor to release it. */
  public static Prober real(ExecutorService executor) {
    HttpClient http =
        HttpClient.newBuilder()
            .executor(executor)
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    return (probe, target) ->
        CompletableFuture.supplyAsync(() -> run(http, probe, target), executor);
  }

  /** An executor of virtual threads for probes. */
  public static ExecutorService virtualThreads() {
    return Executors.newVirtualThreadPerTaskExecutor();
  }

  private static boolean run(HttpClient http, Probe probe, Prober.Target t) {
    try {
      return switch (probe.kind()) {
        case HTTP -> http(http, probe, t);
        case TCP -> tcp(probe, t);
        case EXEC -> exec(probe, t);
      };
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean http(HttpClient http, Probe probe, Prober.Target t)
      throws IOException, InterruptedException {
    HttpRequest req =
        HttpRequest.newBuilder(URI.create("http://" + t.host() + ":" + t.port() + probe.path()))
            .timeout(probe.timeout())
            .header("User-Agent", "pilothouse-probe")
            .GET()
            .build();
    try {
      HttpResponse<Void> r = http.send(req, HttpResponse.BodyHandlers.discarding());
      return r.statusCode() >= 200 && r.statusCode() < 400;
    } catch (java.net.http.HttpTimeoutException e) {
      return false;
    }
  }

  private static boolean tcp(Probe probe, Prober.Target t) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(t.host(), t.port()), (int) probe.timeout().toMillis());
      return true;
    }
  }

  private static boolean exec(Probe probe, Prober.Target t)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(probe.command())
            .directory(t.workdir().toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(t.env());
    Process p = pb.start();
    if (!p.waitFor(probe.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      return false;
    }
    return p.exitValue() == 0;
  }

  /** Finds free ports by binding port 0 on loopback. */
  public static PortAllocator freePorts() {
    return inUse -> {
      for (int attempt = 0; attempt < 50; attempt++) {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          int port = s.getLocalPort();
          if (!inUse.contains(port)) {
            return port;
          }
        } catch (IOException e) {
          throw new IllegalStateException("no free port on loopback: " + e.getMessage(), e);
        }
      }
      throw new IllegalStateException("no free port on loopback after 50 attempts");
    };
  }
}
