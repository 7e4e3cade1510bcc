package dev.pilothouse.tsdb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * File-system steps that survive a power loss once they return: a file's bytes are forced to disk,
 * and so is the directory entry that names it (after a create, a rename or a delete), as PostgreSQL
 * and Prometheus do.
 */
public final class Durable {
  private Durable() {}

  /** Forces a directory's entries to disk (a no-op where the file system cannot). */
  public static void syncDir(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // some file systems cannot open or sync a directory: nothing more can be done there
    }
  }

  /** Writes a new file (replacing none), forces it, then its directory. */
  public static void write(Path file, byte[] data) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    syncDir(file.toAbsolutePath().getParent());
  }

  /** Renames atomically, then forces the directories of both names. */
  public static void move(Path from, Path to) throws IOException {
    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    Path a = from.toAbsolutePath().getParent();
    Path b = to.toAbsolutePath().getParent();
    syncDir(b);
    if (!a.equals(b)) {
      syncDir(a);
    }
  }
}
