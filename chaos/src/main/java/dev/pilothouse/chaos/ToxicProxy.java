package dev.pilothouse.chaos;

import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of one instance that applies L4 toxics, as Toxiproxy's do: latency with
 * jitter (each chunk from the moment it arrived), a bandwidth limit, slicing, a timeout (data
 * stops), reset on arrival and a slow close, to a share of the connections ({@code toxicity}), in
 * one or both directions. The load balancer is pointed at it for the experiment's duration.
 */
final class ToxicProxy implements AutoCloseable {
  /** Connections held at once; more are refused (a fault must not exhaust the daemon). */
  static final int MAX_CONNECTIONS = 1024;

  private static final int CHUNK = 32 * 1024;

  /** Chunks held per direction while a toxic delays them: 2 MiB, then the sender waits. */
  private static final int QUEUED_CHUNKS = 64;

  private static final byte[] EOF = new byte[0];

  private final ServerSocket server;
  private final int upstreamPort;
  private final Fault.Toxic toxic;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong bytes = new AtomicLong();
  private volatile boolean closed;

  ToxicProxy(int upstreamPort, Fault.Toxic toxic) throws IOException {
    this.upstreamPort = upstreamPort;
    this.toxic = toxic;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
    Thread.ofVirtual().name("toxic-accept-" + port()).start(this::accept);
  }

  /** The port the load balancer is sent to. */
  int port() {
    return server.getLocalPort();
  }

  /** Connections accepted so far, and bytes passed. */
  String stats() {
    return connections.get() + " connections, " + bytes.get() + " bytes";
  }

  private void accept() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      connections.incrementAndGet();
      if (open.size() >= 2 * MAX_CONNECTIONS) {
        reset(client);
        continue;
      }
      Thread.ofVirtual().start(() -> serve(client));
    }
  }

  private void serve(Socket client) {
    open.add(client);
    boolean toxicHere = ThreadLocalRandom.current().nextInt(100) < toxic.toxicity();
    if (toxicHere && toxic.resetPeer()) {
      reset(client);
      return;
    }
    Socket upstream = new Socket();
    open.add(upstream);
    try {
      client.setTcpNoDelay(true);
      upstream.setTcpNoDelay(true);
      upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstreamPort), 2000);
    } catch (IOException e) {
      reset(client);
      close(upstream);
      return;
    }
    boolean down = toxicHere && !toxic.direction().equals("upstream");
    boolean up = toxicHere && !toxic.direction().equals("downstream");
    Pipe a;
    Pipe b;
    try {
      // The streams are taken before either direction starts: one direction's end must not
      // take the socket the other is still to use (closing a socket's stream closes it).
      a = new Pipe(client, upstream, up);
      b = new Pipe(upstream, client, down);
    } catch (IOException e) {
      reset(client);
      close(upstream);
      return;
    }
    Thread ta = Thread.ofVirtual().start(a);
    Thread tb = Thread.ofVirtual().start(b);
    try {
      ta.join();
      tb.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close(client);
      close(upstream);
    }
  }

  /** One direction: a reader stamping chunks as they arrive, and this writer applying toxics. */
  private final class Pipe implements Runnable {
    private final Socket from;
    private final Socket to;
    private final InputStream in;
    private final OutputStream out;
    private final boolean toxic;
    private final BlockingQueue<Object[]> queue = new LinkedBlockingQueue<>(QUEUED_CHUNKS);

    Pipe(Socket from, Socket to, boolean toxic) throws IOException {
      this.from = from;
      this.to = to;
      this.in = from.getInputStream();
      this.out = to.getOutputStream();
      this.toxic = toxic;
    }

    @Override
    public void run() {
      Thread reader = Thread.ofVirtual().start(this::read);
      try {
        write();
      } catch (IOException e) {
        close(from);
        close(to);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        reader.interrupt();
      }
    }

    private void read() {
      try {
        byte[] buf = new byte[CHUNK];
        int n;
        while ((n = in.read(buf)) > 0) {
          queue.put(new Object[] {System.nanoTime(), Arrays.copyOf(buf, n)});
        }
        queue.put(new Object[] {System.nanoTime(), EOF});
      } catch (IOException e) {
        try {
          queue.put(new Object[] {System.nanoTime(), EOF});
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void write() throws IOException, InterruptedException {
      Fault.Toxic t = ToxicProxy.this.toxic;
      long nextFree = System.nanoTime();
      if (toxic && t.timeout() != null) {
        // Data stops; the connection closes after the timeout, whether or not anything came
        // (with a zero timeout: never, until the toxic is removed).
        if (!t.timeout().isZero()) {
          sleepUntil(System.nanoTime() + t.timeout().toNanos());
          close(from);
          close(to);
          return;
        }
        while (queue.take()[1] != EOF) {
          // dropped
        }
        return;
      }
      while (true) {
        Object[] item = queue.take();
        long arrived = (Long) item[0];
        byte[] data = (byte[]) item[1];
        if (data == EOF) {
          if (toxic && !t.slowClose().isZero()) {
            Thread.sleep(t.slowClose().toMillis());
          }
          try {
            to.shutdownOutput();
          } catch (IOException e) {
            // the other side is gone already
          }
          return;
        }
        if (toxic && !t.latency().isZero()) {
          long jitter = t.jitter().toNanos();
          long delay =
              t.latency().toNanos()
                  + (jitter == 0 ? 0 : ThreadLocalRandom.current().nextLong(-jitter, jitter + 1));
          sleepUntil(arrived + delay);
        }
        int piece = data.length;
        if (toxic && t.sliceBytes() > 0) {
          piece = Math.min(piece, t.sliceBytes());
        }
        if (toxic && t.bandwidth() > 0) {
          // Paced in pieces of at most 20 ms of the allowed rate.
          piece = (int) Math.max(1, Math.min(piece, t.bandwidth() / 50));
        }
        for (int off = 0; off < data.length; off += piece) {
          int n = Math.min(piece, data.length - off);
          if (toxic && t.bandwidth() > 0) {
            long now = System.nanoTime();
            nextFree = Math.max(nextFree, now);
            sleepUntil(nextFree);
            nextFree += n * 1_000_000_000L / t.bandwidth();
          }
          out.write(data, off, n);
          out.flush();
          bytes.addAndGet(n);
          if (toxic && t.sliceBytes() > 0 && !t.sliceDelay().isZero() && off + n < data.length) {
            Thread.sleep(t.sliceDelay());
          }
        }
      }
    }
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
    }
  }

  private void reset(Socket s) {
    try {
      s.setSoLinger(true, 0); // close with RST
    } catch (IOException e) {
      // closing anyway
    }
    close(s);
  }

  private void close(Socket s) {
    open.remove(s);
    try {
      s.close();
    } catch (IOException e) {
      // already gone
    }
  }

  /** Stops accepting and closes every connection. */
  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // already closed
    }
    for (Socket s : open) {
      close(s);
    }
  }
}
