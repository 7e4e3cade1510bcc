package dev.pilothouse.cost;

import java.io.IOException;

/**
 * A bill file's rows as FOCUS columns, with where each came from. (Reading and mapping on a thread
 * of their own while the ingest stored the rows before was tried: with the daemon's serial
 * collector it was no faster — 11.9 s against 10.5 s for a 2-million-row bill — so rows are read
 * where they are stored.)
 */
final class MappedRows implements AutoCloseable {
  private final RawRows raw;
  private final Mapping mapping;
  private long position;

  MappedRows(RawRows raw, Mapping mapping) {
    this.raw = raw;
    this.mapping = mapping;
  }

  /** The next row, or null at the end. */
  String[] next() throws IOException, BillException {
    String[] r = raw.next();
    position = raw.position();
    return r == null ? null : mapping.map(r);
  }

  /** Where the last row came from: "4" (a CSV line) or "row 4" (Parquet). */
  String where() {
    return (raw instanceof RawRows.Parquet ? "row " : "") + position;
  }

  @Override
  public void close() {
    // the RawRows are closed by their owner
  }
}
