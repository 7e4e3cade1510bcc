package dev.pilothouse.chaos;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A stressor process: burns cores, holds memory or holds connections for a bounded time, then exits
 * by itself — so that a fault outlives neither its experiment's duration nor a killed daemon by
 * more than that. {@code Stress cpu CORES SECONDS}, {@code Stress memory BYTES SECONDS}, {@code
 * Stress fds PORT COUNT SECONDS}.
 */
public final class Stress {
  private Stress() {}

  /** Entry point. */
  public static void main(String[] argv) throws Exception {
    // The first argument may name the daemon's state directory (so that ps shows whose it is).
    String[] args =
        argv.length > 0 && argv[0].startsWith("/")
            ? java.util.Arrays.copyOfRange(argv, 1, argv.length)
            : argv;
    long seconds = Long.parseLong(args[args.length - 1]);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    switch (args[0]) {
      case "cpu" -> cpu(Integer.parseInt(args[1]), end);
      case "memory" -> memory(Long.parseLong(args[1]), end);
      case "fds" -> fds(Integer.parseInt(args[1]), Integer.parseInt(args[2]), end);
      default -> throw new IllegalArgumentException("unknown stress " + args[0]);
    }
    System.exit(0);
  }

  private static void cpu(int cores, long end) throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < cores; c++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    long x = 0;
                    while (System.nanoTime() < end) {
                      for (int i = 0; i < 100_000; i++) {
                        x += Long.numberOfTrailingZeros(x + i);
                      }
                    }
                    if (x == 42) {
                      System.out.print("");
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
  }

  private static void memory(long bytes, long end) throws InterruptedException {
    List<byte[]> held = new ArrayList<>();
    long left = bytes;
    while (left > 0) {
      int n = (int) Math.min(left, 16 << 20);
      byte[] b = new byte[n];
      for (int i = 0; i < n; i += 4096) {
        b[i] = 1; // touched: resident, not just reserved
      }
      held.add(b);
      left -= n;
    }
    System.out.println("holding " + bytes + " bytes in " + held.size() + " blocks");
    System.out.flush();
    sleepUntil(end);
    if (held.isEmpty()) {
      System.out.print("");
    }
  }

  private static void fds(int port, int count, long end) throws InterruptedException {
    List<Socket> open = new ArrayList<>();
    for (int i = 0; i < count && System.nanoTime() < end; i++) {
      try {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        open.add(s);
      } catch (IOException e) {
        // The instance stopped accepting (its descriptors ran out) or our own limit was hit.
        System.out.println("connection " + i + " failed: " + e.getMessage());
        Thread.sleep(50);
      }
    }
    System.out.println("holding " + open.size() + " connections");
    System.out.flush();
    sleepUntil(end);
    for (Socket s : open) {
      try {
        s.close();
      } catch (IOException e) {
        // exiting anyway
      }
    }
  }

  private static void sleepUntil(long end) throws InterruptedException {
    long left;
    while ((left = end - System.nanoTime()) > 0) {
      Thread.sleep(Math.min(1000, left / 1_000_000 + 1));
    }
  }
}
