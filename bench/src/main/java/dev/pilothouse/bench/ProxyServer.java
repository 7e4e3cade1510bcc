package dev.pilothouse.bench;

import dev.pilothouse.proxy.Backend;
import dev.pilothouse.proxy.DataPlane;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RoutePolicy;
import dev.pilothouse.proxy.RouteTable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The data plane alone, in front of fixed backends, for side-by-side benchmarks: {@code ProxyServer
 * --port P --threads N --backend 127.0.0.1:8081 [--backend …]}.
 */
public final class ProxyServer {
  private ProxyServer() {}

  public static void main(String[] args) throws InterruptedException {
    int port = 8080;
    int threads = 1;
    List<Backend> backends = new ArrayList<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--threads" -> threads = Integer.parseInt(args[i + 1]);
        case "--backend" -> {
          String[] hp = args[i + 1].split(":");
          backends.add(
              new Backend("b" + backends.size(), "bench", "v1", hp[0], Integer.parseInt(hp[1]), 1));
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    DataPlane dp =
        DataPlane.start(
            new ProxyOptions(
                "127.0.0.1", port, threads, null, null, Duration.ofSeconds(60), null, 1.0));
    dp.update(RouteTable.of(List.of(Route.simple("bench", "/", backends, RoutePolicy.defaults()))));
    System.out.println("proxy listening on 127.0.0.1:" + dp.port());
    Thread.currentThread().join();
  }
}
