package dev.pilothouse.proxy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Which process a connection to the load balancer comes from, as {@code ss -p} finds it: the
 * kernel's socket table gives the client socket's inode, and the file descriptors of the processes
 * in the given sessions show whether one of them holds it. A caller's identity comes from the
 * kernel, not from anything it sends, so it cannot be forged by a header.
 *
 * <p>Only asked while a chaos fault names its callers (a partition between two services), once per
 * connection: it reads {@code /proc}, a few milliseconds on the event loop. Linux only; elsewhere,
 * and for connections from other machines, no connection is a caller.
 */
final class Callers {
  private static final Path PROC = Path.of("/proc");

  private Callers() {}

  /**
   * Whether the client end of this connection is held by a process of one of these sessions (an
   * instance started with {@code setsid} leads its own session, so its id is the instance's pid).
   */
  static boolean from(InetSocketAddress peer, InetSocketAddress local, List<Long> sessions) {
    if (sessions.isEmpty() || peer == null || local == null) {
      return false;
    }
    if (!peer.getAddress().isLoopbackAddress() && !peer.getAddress().equals(local.getAddress())) {
      return false; // from another machine: no process of ours
    }
    Optional<String> inode = inode(peer.getPort(), local.getPort());
    if (inode.isEmpty()) {
      return false;
    }
    String link = "socket:[" + inode.get() + "]";
    // The session leaders first (the instance itself, as a rule), then their other processes.
    for (long s : sessions) {
      if (holds(PROC.resolve(Long.toString(s)), link)) {
        return true;
      }
    }
    try (DirectoryStream<Path> all = Files.newDirectoryStream(PROC, Callers::isPid)) {
      for (Path p : all) {
        long pid = Long.parseLong(p.getFileName().toString());
        if (!sessions.contains(pid) && sessions.contains(session(p)) && holds(p, link)) {
          return true;
        }
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
    return false;
  }

  /** The inode of the socket whose local port is clientPort and remote port is serverPort. */
  static Optional<String> inode(int clientPort, int serverPort) {
    for (String table : List.of("net/tcp", "net/tcp6")) {
      try (var lines = Files.lines(PROC.resolve(table), StandardCharsets.US_ASCII)) {
        Optional<String> found =
            lines
                .skip(1)
                .map(String::trim)
                .map(l -> l.split("\\s+"))
                .filter(
                    f ->
                        f.length > 9
                            && port(f[1]) == clientPort
                            && port(f[2]) == serverPort
                            && !f[9].equals("0"))
                .map(f -> f[9])
                .findFirst();
        if (found.isPresent()) {
          return found;
        }
      } catch (IOException | RuntimeException e) {
        // no such table (no IPv6, not Linux): try the next
      }
    }
    return Optional.empty();
  }

  /** The port of a {@code /proc/net/tcp} address ({@code 0100007F:1F90}). */
  private static int port(String address) {
    int colon = address.lastIndexOf(':');
    return colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1), 16);
  }

  private static boolean isPid(Path p) {
    String n = p.getFileName().toString();
    return !n.isEmpty() && n.chars().allMatch(Character::isDigit);
  }

  /** The session id of a process (field 6 of its stat), or -1. */
  private static long session(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[3]); // state, ppid, pgrp, session
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Whether the process has a file descriptor open on this link target. */
  private static boolean holds(Path proc, String link) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(link)) {
            return true;
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    } catch (IOException | RuntimeException e) {
      return false; // gone, or not ours to look at
    }
    return false;
  }
}
