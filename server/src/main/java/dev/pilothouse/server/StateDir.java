package dev.pilothouse.server;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

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
    Path f = dir.resolve("api-token");
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
    Path tmp = dir.resolve("api-token.tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(
        tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, token + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, f, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return token;
  }
}
