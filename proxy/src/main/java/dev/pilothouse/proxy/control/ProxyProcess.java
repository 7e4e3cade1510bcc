package dev.pilothouse.proxy.control;

import dev.pilothouse.proxy.DataPlane;
import dev.pilothouse.proxy.ProxyMetrics;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.RouteTable;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane as its own process ({@code pilothouse proxy --control SOCKET}): it serves the last
 * route snapshot the daemon pushed over the control socket, whether or not a daemon is connected,
 * so a daemon crash, restart or upgrade does not interrupt traffic. It exits when told to (STOP),
 * on SIGTERM, or when its control socket is removed (its state directory is gone).
 */
public final class ProxyProcess {
  private static final Logger log = LoggerFactory.getLogger(ProxyProcess.class);
  private static final long SOCKET_CHECK_MS = 2000;

  private final long pid = ProcessHandle.current().pid();
  private DataPlane plane;
  private ProxyOptions options;
  private long version;
  private String error = "";

  private ProxyProcess() {}

  public static void main(String[] args) {
    Path control = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--control") && i + 1 < args.length) {
        control = Path.of(args[++i]);
      }
    }
    if (control == null) {
      System.err.println(
          "usage: pilothouse proxy --control SOCKET\n"
              + "  runs the load balancer, configured by the daemon over the Unix socket SOCKET;"
              + " the daemon starts it itself, so this is rarely run by hand");
      System.exit(2);
    }
    // Class loading and reflection take most of a cold start: done while the daemon connects, so
    // a replaced proxy serves again sooner.
    Thread.ofPlatform().daemon().name("warm-up").start(ProxyProcess::warmUp);
    ProxyProcess p = new ProxyProcess();
    Runtime.getRuntime().addShutdownHook(new Thread(p::closePlane, "proxy-shutdown"));
    try {
      p.serve(control);
    } catch (IOException e) {
      log.error("proxy control socket {}: {}", control, e.toString());
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Loads what the first snapshot needs: the codec's view of a route table, and the data plane. */
  private static void warmUp() {
    try {
      Protocol.Request r =
          new Protocol.Request(
              Protocol.Op.APPLY,
              0,
              ProxyOptions.plain("127.0.0.1", 0),
              List.of(
                  dev.pilothouse.proxy.Route.simple(
                      "warm-up",
                      "/",
                      List.of(dev.pilothouse.proxy.Backend.of("warm-up", "warm-up", "", 1)),
                      dev.pilothouse.proxy.RoutePolicy.defaults())),
              List.of(),
              0);
      Codec.request(Codec.encode(r));
      DataPlane.prepare();
    } catch (IOException | RuntimeException | LinkageError e) {
      log.debug("warm-up: {}", e.toString());
    }
  }

  /** The control socket served now, its inode, and its listening channel (MOVE replaces them). */
  private volatile Path control;

  private volatile Object controlKey;
  private ServerSocketChannel server;

  private void serve(Path path) throws IOException, InterruptedException {
    bind(path);
    log.info("proxy started: pid {}, control socket {}", pid, path);
    Thread.ofPlatform().daemon().name("control-socket-watch").start(this::exitWhenRemoved);
    Thread.currentThread().join(); // the accept threads do the work
  }

  /** Listens on a new control socket (owner-only), and stops listening on the old one. */
  private synchronized void bind(Path path) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel next = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    next.bind(UnixDomainSocketAddress.of(path));
    // The directory is the daemon's private state directory; the socket is owner-only as well.
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    ServerSocketChannel old = server;
    Path oldPath = control;
    server = next;
    controlKey = Files.readAttributes(path, "unix:ino").get("ino");
    control = path;
    Thread.ofPlatform().daemon().name("control-accept").start(() -> accept(next));
    if (old != null) {
      old.close();
      Files.deleteIfExists(oldPath);
    }
  }

  private void accept(ServerSocketChannel listening) {
    try {
      while (true) {
        SocketChannel ch = listening.accept();
        Thread.ofVirtual().name("control").start(() -> converse(ch));
      }
    } catch (IOException e) {
      // closed by a MOVE, or the process is ending
    }
  }

  private void exitWhenRemoved() {
    while (true) {
      try {
        Thread.sleep(SOCKET_CHECK_MS);
        Path path = control;
        Object key = controlKey;
        Object now = Files.exists(path) ? Files.readAttributes(path, "unix:ino").get("ino") : null;
        if (!Objects.equals(key, now) && path == control) {
          log.warn("control socket {} was removed or replaced: exiting", path);
          System.exit(0);
        }
      } catch (InterruptedException e) {
        return;
      } catch (IOException e) {
        log.warn("checking the control socket: {}", e.toString());
      }
    }
  }

  private void converse(SocketChannel ch) {
    try (ch) {
      while (true) {
        Protocol.Request r = Protocol.readRequest(ch);
        Protocol.write(ch, handle(r));
        if (r.op() == Protocol.Op.STOP) {
          log.info("stopping: asked by the daemon");
          System.exit(0);
        }
      }
    } catch (EOFException e) {
      // the daemon went away; keep serving the last snapshot
    } catch (IOException | RuntimeException e) {
      log.warn("control connection: {}", e.toString());
    }
  }

  private synchronized Protocol.Reply handle(Protocol.Request r) {
    return switch (r.op()) {
      case HELLO, STOP -> state();
      case MOVE -> {
        try {
          bind(Path.of(r.path()));
          log.info("now controlled over {}", r.path());
          yield state();
        } catch (IOException e) {
          yield Protocol.state(
              pid, version, 0, "", options, "cannot move the control socket: " + e);
        }
      }
      case APPLY -> apply(r);
      case WINDOW -> {
        if (plane == null) {
          yield Protocol.window(pid, version, 0, 0, new double[0]);
        }
        ProxyMetrics.Window w =
            plane
                .metrics()
                .window(new HashSet<>(r.instances()), plane.ticker().nanoTime() - r.agoNanos());
        yield Protocol.window(pid, version, w.requests(), w.failures(), w.latenciesMs());
      }
      case METRICS ->
          Protocol.metrics(pid, version, plane == null ? "" : plane.metrics().prometheus());
      case LOAD -> {
        Map<String, Long> totals = new HashMap<>();
        Map<String, Integer> m = new HashMap<>();
        for (String id : r.instances()) {
          if (plane != null && id.startsWith("route:")) {
            totals.put(id, plane.coldRequests(id.substring("route:".length())));
          } else if (plane != null) {
            ProxyMetrics.Totals t = plane.metrics().instanceTotals(id);
            totals.put(id, t.requests());
            m.put(id, t.inFlight());
          }
        }
        yield Protocol.load(pid, version, totals, m);
      }
      case IN_FLIGHT -> {
        Map<String, Integer> m = new HashMap<>();
        for (String id : r.instances()) {
          m.put(id, plane == null ? 0 : plane.inFlight(id));
        }
        yield Protocol.inFlight(pid, version, m);
      }
    };
  }

  private Protocol.Reply apply(Protocol.Request r) {
    if (plane == null || !r.options().equals(options)) {
      closePlane();
      options = r.options();
      try {
        plane = DataPlane.start(options);
        options = options.withPort(plane.port()); // "any port" became this one
        error = "";
      } catch (RuntimeException e) {
        error = String.valueOf(e.getMessage());
        log.warn("cannot serve snapshot {}: {}", r.version(), error);
      }
    }
    if (plane != null) {
      plane.update(RouteTable.of(r.routes() == null ? List.of() : r.routes()));
    }
    version = r.version();
    return state();
  }

  private Protocol.Reply state() {
    return Protocol.state(
        pid,
        version,
        plane == null ? 0 : plane.port(),
        plane == null ? "" : plane.transport(),
        options,
        error);
  }

  private synchronized void closePlane() {
    if (plane != null) {
      plane.close();
      plane = null;
    }
  }
}
