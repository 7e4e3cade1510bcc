package dev.pilothouse.proxy.control;

import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.RouteTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A data plane this daemon does not run: a proxy process in a cluster (a pod of the data plane's
 * Deployment, which the cluster keeps running), reached over TCP at the pod's address with the
 * control token. Like {@link ProxyHost} it pushes complete, versioned snapshots and reads the
 * proxy's per-instance measurements; unlike it, it never starts or stops the process. A proxy that
 * does not answer is connected to again on the next {@link #sync}.
 */
public final class RemoteProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteProxy.class);
  private static final int CONNECT_TIMEOUT_MS = 2000;

  private final String host;
  private final int port;
  private final byte[] token;
  private final ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("remote-proxy-watchdog").unstarted(r));
  private SocketChannel conn;
  private long version;
  private long pid;
  private ProxyOptions servedOptions;
  private RouteTable servedTable;
  private String error = "";

  /** The proxy at host:port, whose control token is token. */
  public RemoteProxy(String host, int port, byte[] token) {
    this.host = host;
    this.port = port;
    this.token = token.clone();
  }

  /** What a remote proxy serves: its pid in its pod, its snapshot version, why it fails. */
  public record Status(String address, long pid, long version, boolean connected, String error) {}

  /** Makes the proxy serve these options and routes; true when it serves them now. */
  public synchronized boolean sync(ProxyOptions options, RouteTable table) {
    if (conn == null && !connect()) {
      return false;
    }
    if (options.equals(servedOptions) && table.equals(servedTable)) {
      return true;
    }
    Protocol.Reply r =
        call(
            new Protocol.Request(Protocol.Op.APPLY, version + 1, options, table.routes(), null, 0));
    if (r == null) {
      return false;
    }
    version = r.version();
    if (!r.ok()) {
      if (!r.error().equals(error)) {
        log.warn("data plane {}:{}: {}", host, port, r.error());
      }
      error = r.error();
      servedOptions = null;
      return false;
    }
    error = "";
    servedOptions = options;
    servedTable = table;
    return true;
  }

  private boolean connect() {
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open();
      ScheduledFuture<?> timeout = closeLater(ch, CONNECT_TIMEOUT_MS);
      try {
        ch.connect(new InetSocketAddress(host, port));
        Protocol.sendToken(ch, token);
      } finally {
        timeout.cancel(false);
      }
    } catch (IOException | RuntimeException e) {
      fail("cannot connect: " + e.getMessage(), ch);
      return false;
    }
    conn = ch;
    Protocol.Reply hello = call(Protocol.Request.of(Protocol.Op.HELLO));
    if (hello == null) {
      fail("no answer (a wrong control token, or not a Pilothouse data plane)", null);
      return false;
    }
    if (hello.protocol() != Protocol.VERSION) {
      fail(
          "speaks control protocol "
              + hello.protocol()
              + ", this daemon "
              + Protocol.VERSION
              + ": run the data plane's image of the daemon's version",
          null);
      disconnect();
      return false;
    }
    pid = hello.pid();
    version = Math.max(version, hello.version());
    servedOptions = null; // pushed again: cheap, and certainly current
    servedTable = null;
    error = "";
    return true;
  }

  private void fail(String why, SocketChannel ch) {
    if (!why.equals(error)) {
      log.warn("data plane {}:{}: {}", host, port, why);
    }
    error = why;
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  private ScheduledFuture<?> closeLater(SocketChannel ch, long ms) {
    return watchdog.schedule(
        () -> {
          try {
            ch.close();
          } catch (IOException ignored) {
            // closing anyway
          }
        },
        ms,
        TimeUnit.MILLISECONDS);
  }

  private Protocol.Reply call(Protocol.Request request) {
    if (conn == null) {
      return null;
    }
    Protocol.Reply r = ProxyHost.call(watchdog, conn, request);
    if (r == null) {
      disconnect();
    }
    return r;
  }

  private void disconnect() {
    if (conn != null) {
      try {
        conn.close();
      } catch (IOException ignored) {
        // gone anyway
      }
      conn = null;
    }
    servedOptions = null;
    servedTable = null;
  }

  /**
   * Requests of these instances that ended within the last agoNanos; empty if it does not answer.
   */
  public synchronized Optional<Protocol.Reply> window(Collection<String> instances, long agoNanos) {
    return Optional.ofNullable(
        call(
            new Protocol.Request(
                Protocol.Op.WINDOW, 0, null, null, List.copyOf(instances), agoNanos)));
  }

  /** Requests each of these instances has answered so far and has in flight now. */
  public synchronized Optional<Protocol.Reply> load(Collection<String> instances) {
    Protocol.Reply r =
        call(new Protocol.Request(Protocol.Op.LOAD, 0, null, null, List.copyOf(instances), 0));
    return r == null || r.requestTotals() == null ? Optional.empty() : Optional.of(r);
  }

  /** Requests in flight to each of these instances. */
  public synchronized Map<String, Integer> inFlight(Collection<String> instances) {
    Protocol.Reply r =
        call(new Protocol.Request(Protocol.Op.IN_FLIGHT, 0, null, null, List.copyOf(instances), 0));
    return r == null || r.inFlight() == null ? Map.of() : r.inFlight();
  }

  /** Its address, pid, snapshot version, and why it does not serve (or empty). */
  public synchronized Status status() {
    return new Status(host + ":" + port, pid, version, conn != null, error);
  }

  /** Lets go of the proxy (it keeps serving its last snapshot). */
  @Override
  public synchronized void close() {
    disconnect();
    watchdog.shutdownNow();
  }
}
