package dev.pilothouse.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback in front of a server, which a test can cut: from then on nothing passes
 * either way and nothing is reset — what a network partition looks like to both ends (lost
 * packets), not a refused connection. New connections are accepted and get nothing, too.
 */
final class CutRelay implements AutoCloseable {
  private final ServerSocket server;
  private final int target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean cut;

  private CutRelay(ServerSocket server, int target) {
    this.server = server;
    this.target = target;
  }

  static CutRelay start(int targetPort) throws IOException {
    CutRelay r =
        new CutRelay(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), targetPort);
    Thread.ofPlatform().daemon().name("relay-accept").start(r::accept);
    return r;
  }

  int port() {
    return server.getLocalPort();
  }

  /** From now on nothing passes; the sockets stay open. */
  void cut() {
    cut = true;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket in = server.accept();
        sockets.add(in);
        if (cut) {
          Thread.ofPlatform().daemon().start(() -> pump(in, null));
          continue;
        }
        Socket out = new Socket(InetAddress.getLoopbackAddress(), target);
        sockets.add(out);
        Thread.ofPlatform().daemon().start(() -> pump(in, out));
        Thread.ofPlatform().daemon().start(() -> pump(out, in));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Copies from to to while not cut; swallows what comes after (to may be null: swallow all). */
  private void pump(Socket from, Socket to) {
    byte[] buf = new byte[16384];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to == null ? null : to.getOutputStream();
      for (int n; (n = in.read(buf)) >= 0; ) {
        if (!cut && out != null) {
          out.write(buf, 0, n);
          out.flush();
        }
      }
      if (!cut && to != null) {
        to.shutdownOutput();
      }
    } catch (IOException e) {
      // a side went away
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
