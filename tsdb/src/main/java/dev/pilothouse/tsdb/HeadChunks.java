package dev.pilothouse.tsdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Full head chunks kept in memory-mapped files instead of the Java heap (as Prometheus does): the
 * OS pages them in and out as needed. The files are scratch space — the WAL holds every sample — so
 * they are cleared on open. A file is deleted once none of its chunks is referenced.
 */
final class HeadChunks implements AutoCloseable {
  static final int FILE_BYTES = 32 << 20;

  /** One mapped file. */
  static final class File {
    final int number;
    final Path path;
    final FileChannel channel;
    final MappedByteBuffer buf;
    final AtomicInteger live = new AtomicInteger();
    int pos;

    File(int number, Path path) throws IOException {
      this.number = number;
      this.path = path;
      // Opened and mapped with the thread's interrupt flag put aside: a channel call in an
      // interrupted thread (a scrape stopped while it commits) closes the channel and fails the
      // commit half applied. The flag is back for the thread once the file is ready.
      boolean interrupted = Thread.interrupted();
      try {
        this.channel =
            FileChannel.open(
                path,
                StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        this.buf = channel.map(FileChannel.MapMode.READ_WRITE, 0, FILE_BYTES);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** Where a chunk's bytes are. */
  record Ref(File file, int pos, int length) {}

  private final Path dir;

  /** Live files by number, for chunks that remember only a file's number (copy on write). */
  private volatile File[] byNumber = new File[8];

  private File current;
  private int next;
  private boolean closed;

  HeadChunks(Path dir) {
    this.dir = dir;
    try {
      Block.deleteTree(dir);
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("preparing " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Stores a chunk's bytes, the first length of data; returns where. */
  synchronized Ref write(byte[] data, int length) {
    try {
      if (current == null || current.pos + length > FILE_BYTES) {
        File old = current;
        current = new File(next, dir.resolve(String.format("%06d", next)));
        File[] files = byNumber;
        if (next >= files.length) {
          files = java.util.Arrays.copyOf(files, Math.max(next + 1, files.length * 2));
        } else {
          files = files.clone();
        }
        files[next] = current;
        byNumber = files;
        next++;
        if (old != null && old.live.get() == 0) {
          drop(old);
        }
      }
      current.buf.put(current.pos, data, 0, length);
      Ref r = new Ref(current, current.pos, length);
      current.pos += length;
      current.live.incrementAndGet();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException("writing a head chunk in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The live file of a number. */
  File file(int number) {
    File f = byNumber[number];
    if (f == null) {
      throw new IllegalStateException("head chunk file " + number + " is gone");
    }
    return f;
  }

  /** A copy of a chunk's bytes. */
  static byte[] read(Ref r) {
    byte[] out = new byte[r.length()];
    r.file().buf.get(r.pos(), out, 0, r.length());
    return out;
  }

  /** The chunk is no longer needed (it went into a block). */
  synchronized void release(Ref r) {
    if (r.file().live.decrementAndGet() == 0 && r.file() != current) {
      drop(r.file());
    }
  }

  private void drop(File f) {
    File[] files = byNumber.clone();
    if (f.number < files.length && files[f.number] == f) {
      files[f.number] = null;
      byNumber = files;
    }
    try {
      f.channel.close();
      Files.deleteIfExists(f.path);
    } catch (IOException e) {
      // a leftover scratch file is removed at the next open
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (current != null) {
      drop(current);
    }
  }
}
