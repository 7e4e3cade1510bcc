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

  /** Serve traffic on this address whatever the snapshots say (null: as they say). */
  private final String listenHost;

  private ProxyProcess(String listenHost) {
    this.listenHost = listenHost;
  }

  public static void main(String[] args) {
    Path control = null;
    String tcpHost = "0.0.0.0";
    int tcpPort = -1;
    Path tokenFile = null;
    String listenHost = null;
    try {
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        switch (args[i]) {
          case "--control" -> control = Path.of(require(args[i], value));
          case "--control-host" -> tcpHost = require(args[i], value);
          case "--control-port" -> tcpPort = port(require(args[i], value));
          case "--control-token-file" -> tokenFile = Path.of(require(args[i], value));
          case "--listen-host" -> listenHost = require(args[i], value);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
        i++;
      }
      if (control == null && tcpPort < 0) {
        throw new IllegalArgumentException("--control or --control-port is required");
      }
      if (tcpPort >= 0 && tokenFile == null) {
        throw new IllegalArgumentException("--control-port needs --control-token-file");
      }
    } catch (IllegalArgumentException e) {
      System.err.println(
          "pilothouse proxy: "
              + e.getMessage()
              + "\nusage: pilothouse proxy --control SOCKET\n"
              + "       pilothouse proxy --control-port PORT --control-token-file FILE"
              + " [--control-host HOST] [--listen-host HOST]\n"
              + "  runs the load balancer, configured by the daemon over the Unix socket SOCKET"
              + " (the daemon starts it itself), or over TCP with the token in FILE (a data plane"
              + " in a cluster, started as a Deployment); --listen-host serves traffic on HOST"
              + " whatever address the snapshots name");
      System.exit(2);
      return;
    }
    // Class loading and reflection take most of a cold start: done while the daemon connects, so
    // a replaced proxy serves again sooner.
    Thread.ofPlatform().daemon().name("warm-up").start(ProxyProcess::warmUp);
    ProxyProcess p = new ProxyProcess(listenHost);
    Runtime.getRuntime().addShutdownHook(new Thread(p::closePlane, "proxy-shutdown"));
    try {
      if (tcpPort >= 0) {
        p.listenTcp(tcpHost, tcpPort, token(tokenFile));
      }
      if (control != null) {
        p.serve(control);
      } else {
        Thread.currentThread().join(); // the accept threads do the work
      }
    } catch (IOException e) {
      log.error("proxy control channel: {}", e.toString());
      System.exit(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String require(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }

  private static int port(String value) {
    try {
      int p = Integer.parseInt(value);
      if (p < 0 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--control-port must be 0..65535, but was " + value);
    }
  }

  /** The control token: the file's content without surrounding whitespace, at least 16 bytes. */
  static byte[] token(Path file) throws IOException {
    byte[] token = Files.readString(file).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (token.length < 16 || token.length > Protocol.MAX_TOKEN) {
      throw new IOException(
          "the control token in "
              + file
              + " must be 16 to "
              + Protocol.MAX_TOKEN
              + " bytes long, but is "
              + token.length);
    }
    return token;
  }

  /** At most this many TCP control connections at once; more are closed at once. */
  private static final int MAX_TCP_CONTROLS = 8;

  /** An unauthenticated TCP control connection is closed after this long. */
  private static final long TOKEN_TIMEOUT_MS = 5000;

  private final java.util.concurrent.Semaphore tcpControls =
      new java.util.concurrent.Semaphore(MAX_TCP_CONTROLS);
  private final java.util.concurrent.ScheduledExecutorService tokenTimer =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("control-token-timeout").unstarted(r));

  /**
   * Serves the control channel over TCP (a data plane in a cluster, which its daemon reaches at the
   * pod's address): each connection's first frame must be the token, or it is closed.
   */
  void listenTcp(String host, int port, byte[] token) throws IOException {
    ServerSocketChannel tcp = ServerSocketChannel.open();
    tcp.bind(new java.net.InetSocketAddress(host, port));
    log.info("proxy started: pid {}, control port {}", pid, tcp.getLocalAddress());
    Thread.ofPlatform()
        .daemon()
        .name("control-accept-tcp")
        .start(
            () -> {
              try {
                while (true) {
                  SocketChannel ch = tcp.accept();
                  if (!tcpControls.tryAcquire()) {
                    log.warn("control connection from {} refused: too many", ch.getRemoteAddress());
                    ch.close();
                    continue;
                  }
                  Thread.ofVirtual()
                      .name("control-tcp")
                      .start(
                          () -> {
                            try {
                              if (authenticated(ch, token)) {
                                converse(ch);
                              }
                            } finally {
                              tcpControls.release();
                            }
                          });
                }
              } catch (IOException e) {
                log.error("control port: {}", e.toString());
              }
            });
  }

  private boolean authenticated(SocketChannel ch, byte[] token) {
    var timeout =
        tokenTimer.schedule(
            () -> {
              try {
                ch.close();
              } catch (IOException ignored) {
                // closing anyway
              }
            },
            TOKEN_TIMEOUT_MS,
            java.util.concurrent.TimeUnit.MILLISECONDS);
    String peer = "?";
    try {
      peer = String.valueOf(ch.getRemoteAddress());
      if (Protocol.checkToken(ch, token)) {
        return true;
      }
      log.warn("control connection from {} refused: wrong token", peer);
    } catch (IOException e) {
      log.warn("control connection from {} refused: no token ({})", peer, e.toString());
    } finally {
      timeout.cancel(false);
    }
    try {
      ch.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    return false;
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
    ProxyOptions wanted = listenHost == null ? r.options() : r.options().withHost(listenHost);
    if (plane == null || !wanted.equals(options)) {
      closePlane();
      options = wanted;
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
