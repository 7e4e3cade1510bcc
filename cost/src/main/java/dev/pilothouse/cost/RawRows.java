package dev.pilothouse.cost;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The rows of one bill file as text, with its header: CSV (gzip or not) through Jackson's CSV
 * parser, Parquet through DuckDB's reader. Empty fields and NULL read as null.
 */
abstract sealed class RawRows implements Closeable {
  /** Longest field of a CSV row, in characters (a longer one is refused with its line). */
  static final int MAX_FIELD = 1 << 20;

  /** Most columns of a file. */
  static final int MAX_COLUMNS = 1000;

  abstract List<String> header();

  /** The next row's fields (as many as the header), or null at the end. */
  abstract String[] next() throws IOException, BillException;

  /** Where the last row came from, as a refusal names it: its line (CSV), or "row N" (Parquet). */
  abstract String where();

  /** CSV, CSV (gzip) or Parquet. */
  abstract String kind();

  /** Counts the bytes taken from the file. */
  private static final class Counting extends java.io.FilterInputStream {
    private final java.util.concurrent.atomic.AtomicLong count;

    Counting(InputStream in, java.util.concurrent.atomic.AtomicLong count) {
      super(in);
      this.count = count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count.addAndGet(n);
      }
      return n;
    }
  }

  static RawRows open(Path file) throws IOException, BillException {
    java.util.concurrent.atomic.AtomicLong count = new java.util.concurrent.atomic.AtomicLong();
    InputStream in =
        new BufferedInputStream(new Counting(Files.newInputStream(file), count), 1 << 16);
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length == 4
        && magic[0] == 'P'
        && magic[1] == 'A'
        && magic[2] == 'R'
        && magic[3] == '1') {
      in.close();
      return new Parquet(file);
    }
    boolean gzip = magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b;
    return new Csv(gzip ? new GZIPInputStream(in, 1 << 16) : in, gzip, count);
  }

  /** Bytes of the file read so far, for progress (0 for Parquet: DuckDB reads it). */
  abstract long bytesRead();

  static String nullable(String v) {
    return v == null || v.isEmpty() || v.equals("NULL") || v.equals("null") ? null : v;
  }

  static final class Csv extends RawRows {
    private static final CsvMapper MAPPER = new CsvMapper();
    private final CsvParser parser;
    private final boolean gzip;
    private final List<String> header;
    private long line;

    private final java.util.concurrent.atomic.AtomicLong read;

    Csv(InputStream in, boolean gzip, java.util.concurrent.atomic.AtomicLong read)
        throws IOException, BillException {
      this.gzip = gzip;
      this.read = read;
      this.parser =
          (CsvParser)
              MAPPER.getFactory().createParser(new InputStreamReader(in, StandardCharsets.UTF_8));
      String[] h;
      try {
        h = row(Integer.MAX_VALUE);
      } catch (IOException e) {
        parser.close();
        throw e;
      }
      if (h == null) {
        parser.close();
        throw new BillException("the file is empty", "give a FOCUS or AWS CUR 2.0 export");
      }
      List<String> names = new ArrayList<>();
      for (String s : h) {
        String n = s == null ? "" : s.strip();
        if (!names.isEmpty() || !n.startsWith("\uFEFF")) {
          names.add(n);
        } else {
          names.add(n.substring(1));
        }
      }
      this.header = List.copyOf(names);
    }

    @Override
    List<String> header() {
      return header;
    }

    @Override
    String[] next() throws IOException, BillException {
      return row(header.size());
    }

    private String[] row(int width) throws IOException, BillException {
      JsonToken t = parser.nextToken();
      if (t == null) {
        return null;
      }
      line = parser.currentLocation().getLineNr();
      if (t != JsonToken.START_ARRAY) {
        throw new BillException("line " + line + ": not a CSV row", "check the file is CSV");
      }
      List<String> fields = new ArrayList<>(Math.min(width, 64));
      while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
        if (t == null) {
          break;
        }
        String v = parser.getText();
        if (v.length() > MAX_FIELD) {
          throw new BillException(
              "line " + line + ": a field longer than " + MAX_FIELD + " characters",
              "check the quoting of the row above it");
        }
        if (fields.size() >= MAX_COLUMNS) {
          throw new BillException(
              "line " + line + ": more than " + MAX_COLUMNS + " columns", "check the separator");
        }
        fields.add(v);
      }
      if (width != Integer.MAX_VALUE && fields.size() != width) {
        if (fields.size() == 1 && fields.get(0).isEmpty()) {
          return row(width); // a blank line
        }
        throw new BillException(
            "line " + line + ": " + fields.size() + " fields where the header has " + width,
            "every row needs as many fields as the header (quote fields holding commas)");
      }
      return fields.toArray(new String[0]);
    }

    @Override
    String where() {
      return Long.toString(line);
    }

    @Override
    long bytesRead() {
      return read.get();
    }

    @Override
    String kind() {
      return gzip ? "CSV (gzip)" : "CSV";
    }

    @Override
    public void close() throws IOException {
      parser.close();
    }
  }

  /** Parquet through DuckDB: maps and structs as JSON, timestamps in UTC. */
  static final class Parquet extends RawRows {
    private final Connection db;
    private final ResultSet rs;
    private final List<String> header = new ArrayList<>();
    private final int[] types;
    private long row;

    Parquet(Path file) throws BillException {
      try {
        Class.forName("org.duckdb.DuckDBDriver");
        db = DriverManager.getConnection("jdbc:duckdb:");
        List<String> select = new ArrayList<>();
        List<Integer> kinds = new ArrayList<>();
        try (PreparedStatement d = db.prepareStatement("DESCRIBE SELECT * FROM read_parquet(?)")) {
          d.setString(1, file.toString());
          try (ResultSet c = d.executeQuery()) {
            while (c.next()) {
              String name = c.getString(1);
              String type = c.getString(2).toUpperCase(java.util.Locale.ROOT);
              String q = "\"" + name.replace("\"", "\"\"") + "\"";
              header.add(name);
              if (type.startsWith("MAP") || type.startsWith("STRUCT") || type.endsWith("[]")) {
                select.add("to_json(" + q + ")::VARCHAR");
                kinds.add(0);
              } else if (type.startsWith("TIMESTAMP") || type.equals("DATE")) {
                select.add("epoch_ms(" + q + ")");
                kinds.add(1);
              } else {
                select.add(q);
                kinds.add(type.equals("DOUBLE") || type.equals("FLOAT") ? 2 : 0);
              }
            }
          }
        }
        types = kinds.stream().mapToInt(Integer::intValue).toArray();
        PreparedStatement q =
            db.prepareStatement("SELECT " + String.join(", ", select) + " FROM read_parquet(?)");
        q.setString(1, file.toString());
        rs = q.executeQuery();
      } catch (SQLException | ClassNotFoundException e) {
        throw new BillException(
            "cannot read the Parquet file: " + firstLine(e.getMessage()),
            "give a Parquet file as a FOCUS or CUR 2.0 export writes it");
      }
    }

    private static String firstLine(String m) {
      return m == null ? "unknown error" : m.lines().findFirst().orElse(m);
    }

    @Override
    List<String> header() {
      return header;
    }

    @Override
    String[] next() throws BillException {
      try {
        if (!rs.next()) {
          return null;
        }
        row++;
        String[] out = new String[types.length];
        for (int i = 0; i < types.length; i++) {
          Object o = rs.getObject(i + 1);
          if (o == null) {
            continue;
          }
          out[i] =
              switch (types[i]) {
                case 1 -> java.time.Instant.ofEpochMilli(((Number) o).longValue()).toString();
                case 2 -> BigDecimal.valueOf(((Number) o).doubleValue()).toPlainString();
                default -> o instanceof BigDecimal b ? b.toPlainString() : o.toString();
              };
        }
        return out;
      } catch (SQLException e) {
        throw new BillException(
            "row " + (row + 1) + ": " + firstLine(e.getMessage()), "check the Parquet file");
      }
    }

    @Override
    String where() {
      return "row " + row;
    }

    @Override
    long bytesRead() {
      return 0;
    }

    @Override
    String kind() {
      return "Parquet";
    }

    @Override
    public void close() throws IOException {
      try {
        db.close();
      } catch (SQLException e) {
        throw new IOException(e);
      }
    }
  }
}
