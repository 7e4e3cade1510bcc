package dev.pilothouse.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The daemon's state directory: its lock, its API token, its database and logs. */
final class StateDir {
  private final Path dir;

  StateDir(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
  }

  Path path() {
    return dir;
  }

  Path resolve(String name) {
    return dir.resolve(name);
  }

  /** Creates the directory with mode 0700 if missing. */
  void create() throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
  }

  /**
   * Takes group and other permissions off the directory and everything in it (revisions hold env
   * values, logs hold requests), however it came to exist: a directory made by a shell, an older
   * version or a copy. Returns the paths it had to repair.
   */
  List<Path> secure() throws IOException {
    List<Path> repaired = new ArrayList<>();
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a)
              throws IOException {
            ownerOnly(d, repaired);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
            if (a.isRegularFile()) {
              ownerOnly(f, repaired);
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path f, IOException e) {
            return FileVisitResult
                .CONTINUE; // vanished while walking (a log rotated, a block merged)
          }
        });
    return repaired;
  }

  static void ownerOnly(Path p, List<Path> repaired) throws IOException {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
    } catch (java.nio.file.NoSuchFileException gone) {
      return;
    }
    Set<PosixFilePermission> kept = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission x : perms) {
      if (x == PosixFilePermission.OWNER_READ
          || x == PosixFilePermission.OWNER_WRITE
          || x == PosixFilePermission.OWNER_EXECUTE) {
        kept.add(x);
      }
    }
    if (!kept.equals(perms)) {
      Files.setPosixFilePermissions(p, kept);
      repaired.add(p);
    }
  }

  /** Creates an empty file readable by the owner only, if it does not exist. */
  static void createPrivate(Path f) throws IOException {
    if (!Files.exists(f)) {
      Files.createDirectories(f.toAbsolutePath().getParent());
      try {
        Files.createFile(
            f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (java.nio.file.FileAlreadyExistsException raced) {
        // created meanwhile: secure() keeps its mode right
      }
    }
  }

  /** Takes the lock that makes this daemon the only one of the directory; empty if held. */
  Optional<FileLock> lock() throws IOException {
    FileChannel ch =
        FileChannel.open(
            dir.resolve("daemon.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = ch.tryLock();
    if (lock == null) {
      ch.close();
      return Optional.empty();
    }
    return Optional.of(lock);
  }

  /** The API token, created (mode 0600) at first start. */
  String token() throws IOException {
    return token("api-token");
  }

  /** A token kept in the file name (mode 0600), created at first start. */
  String token(String name) throws IOException {
    Path f = dir.resolve(name);
    if (Files.exists(f)) {
      String t = Files.readString(f, StandardCharsets.US_ASCII).trim();
      if (!t.isEmpty()) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return t;
      }
    }
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    Path tmp = dir.resolve(name + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return token;
  }
}
