package dev.pilothouse.backup;

import java.io.IOException;
import java.util.List;

/**
 * Where a repository's files live: a local directory or an S3-compatible bucket. Files are
 * immutable once written and every write is atomic (a reader sees the whole file or none of it).
 */
public interface Backend extends AutoCloseable {

  /** A file in a repository: its kind (directory: config, keys, data, index, snapshots, locks). */
  enum Kind {
    CONFIG(""),
    KEY("keys"),
    DATA("data"),
    INDEX("index"),
    SNAPSHOT("snapshots"),
    LOCK("locks"),
    /** PostgreSQL's write-ahead log, one file per segment (named service.segment). */
    WAL("wal");

    public final String dir;

    Kind(String dir) {
      this.dir = dir;
    }
  }

  /** A stored file: name and size. */
  record Entry(String name, long size) {}

  /** Where this backend is, for messages (a path or s3://bucket/prefix). */
  String location();

  /** Writes a whole file atomically (replacing it for locks and config only). */
  void put(Kind kind, String name, byte[] data) throws IOException;

  /** Reads a whole file; NoSuchFileException when there is none. */
  byte[] get(Kind kind, String name) throws IOException;

  /** Reads length bytes at offset. */
  byte[] get(Kind kind, String name, long offset, int length) throws IOException;

  boolean exists(Kind kind, String name) throws IOException;

  List<Entry> list(Kind kind) throws IOException;

  void delete(Kind kind, String name) throws IOException;

  @Override
  default void close() {}
}
