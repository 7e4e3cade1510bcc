package dev.pilothouse.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for pooled work, with its failure rethrown as it was. */
final class Workers {
  private Workers() {}

  static <T> T get(Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackupException("interrupted", e);
    } catch (ExecutionException e) {
      throw rethrow(e.getCause());
    }
  }

  /** A worker's failure as it was: to be thrown by the caller (errors are thrown here). */
  static IOException rethrow(Throwable c) {
    if (c instanceof UncheckedIOException u) {
      return u.getCause();
    }
    if (c instanceof IOException io) {
      return io;
    }
    if (c instanceof RuntimeException r) {
      throw r;
    }
    if (c instanceof Error err) {
      throw err;
    }
    throw new BackupException(c.getMessage(), c);
  }
}
