package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A repository in a local directory. Every file is written to {@code tmp/} first, synced and
 * renamed into place, so a crash or a full disk never leaves half a file under its real name. Packs
 * are spread over 256 directories by their first two hex digits.
 */
public final class LocalBackend implements Backend {
  private final Path root;

  public LocalBackend(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  @Override
  public String location() {
    return root.toString();
  }

  private Path path(Kind kind, String name) {
    if (name.isEmpty() || name.contains("/") || name.contains("..")) {
      throw new IllegalArgumentException("bad repository file name: " + name);
    }
    return switch (kind) {
      case CONFIG -> root.resolve(name);
      case DATA -> root.resolve(kind.dir).resolve(name.substring(0, 2)).resolve(name);
      default -> root.resolve(kind.dir).resolve(name);
    };
  }

  @Override
  public void put(Kind kind, String name, byte[] data) throws IOException {
    Path target = path(kind, name);
    Path tmpDir = root.resolve("tmp");
    Files.createDirectories(tmpDir);
    Path tmp = tmpDir.resolve(name + "." + UUID.randomUUID());
    try {
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(data);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(false);
      }
      Files.createDirectories(target.getParent());
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public byte[] get(Kind kind, String name) throws IOException {
    return Files.readAllBytes(path(kind, name));
  }

  /**
   * Reads a range. Packs stay open between reads (a restore reads thousands of blobs from each); a
   * channel closed by eviction under a reader is reopened.
   */
  @Override
  public byte[] get(Kind kind, String name, long offset, int length) throws IOException {
    for (int attempt = 0; ; attempt++) {
      FileChannel ch = kind == Kind.DATA ? channel(name) : FileChannel.open(path(kind, name));
      try {
        ByteBuffer buf = ByteBuffer.allocate(length);
        long pos = offset;
        while (buf.hasRemaining()) {
          int n = ch.read(buf, pos);
          if (n < 0) {
            throw new IOException(
                kind.dir + "/" + name + " ends before byte " + (offset + length) + " (truncated)");
          }
          pos += n;
        }
        return buf.array();
      } catch (java.nio.channels.ClosedChannelException evicted) {
        if (attempt > 2) {
          throw evicted;
        }
      } finally {
        if (kind != Kind.DATA) {
          ch.close();
        }
      }
    }
  }

  private static final int OPEN_PACKS = 64;
  private final java.util.LinkedHashMap<String, FileChannel> open =
      new java.util.LinkedHashMap<>(16, 0.75f, true);

  private FileChannel channel(String name) throws IOException {
    synchronized (open) {
      FileChannel ch = open.get(name);
      if (ch != null && ch.isOpen()) {
        return ch;
      }
    }
    FileChannel ch = FileChannel.open(path(Kind.DATA, name), StandardOpenOption.READ);
    FileChannel evicted = null;
    synchronized (open) {
      FileChannel other = open.putIfAbsent(name, ch);
      if (other != null && other.isOpen()) {
        ch.close();
        return other;
      }
      open.put(name, ch);
      if (open.size() > OPEN_PACKS) {
        var eldest = open.entrySet().iterator().next();
        evicted = eldest.getValue();
        open.remove(eldest.getKey());
      }
    }
    if (evicted != null) {
      evicted.close();
    }
    return ch;
  }

  private void forget(String name) throws IOException {
    FileChannel ch;
    synchronized (open) {
      ch = open.remove(name);
    }
    if (ch != null) {
      ch.close();
    }
  }

  @Override
  public void close() {
    synchronized (open) {
      for (FileChannel ch : open.values()) {
        try {
          ch.close();
        } catch (IOException e) {
          // closing a read-only file
        }
      }
      open.clear();
    }
  }

  @Override
  public boolean exists(Kind kind, String name) {
    return Files.exists(path(kind, name));
  }

  @Override
  public List<Entry> list(Kind kind) throws IOException {
    List<Entry> out = new ArrayList<>();
    Path dir = root.resolve(kind.dir);
    if (kind == Kind.CONFIG || !Files.isDirectory(dir)) {
      return out;
    }
    if (kind == Kind.DATA) {
      try (DirectoryStream<Path> subs = Files.newDirectoryStream(dir)) {
        for (Path sub : subs) {
          listInto(sub, out);
        }
      }
    } else {
      listInto(dir, out);
    }
    return out;
  }

  private static void listInto(Path dir, List<Entry> out) throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        try {
          out.add(new Entry(f.getFileName().toString(), Files.size(f)));
        } catch (NoSuchFileException gone) {
          // deleted by a concurrent prune: not there any more
        }
      }
    }
  }

  @Override
  public void delete(Kind kind, String name) throws IOException {
    if (kind == Kind.DATA) {
      forget(name);
    }
    Files.deleteIfExists(path(kind, name));
  }
}
