package dev.pilothouse.cost;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One slice of the ledger (one provider's billing account and billing period) as a columnar file:
 * row groups of up to 65,536 rows, each column a zstd block (text columns as dictionary ids, times
 * as epoch seconds, amounts as {@link Money} units), then the dictionaries, then a JSON footer with
 * the slice's description and where every block is. A reader decodes only the columns it asks for,
 * one row group at a time, so memory stays bounded whatever the bill's size.
 */
final class BillFile {
  private BillFile() {}

  static final int GROUP = 65_536;
  private static final byte[] MAGIC = "PHBILL1\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "PHBILL1E".getBytes(StandardCharsets.US_ASCII);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Most distinct values of one text column in one slice. */
  static final int MAX_DISTINCT = 20_000_000;

  /** A block: where it starts, its compressed and its raw length. */
  record Block(long offset, int length, int raw) {}

  /**
   * A row group: its rows, a block per column, and (null if none) the block of amounts kept as
   * exact decimals ("column row value" lines).
   */
  record Group(int rows, List<Block> blocks, Block wide) {}

  /** The footer: the slice's description and the file's layout. */
  record Footer(Slice slice, List<Group> groups, List<Block> dictionaries) {}

  static final class Writer implements AutoCloseable {
    private final FileChannel out;
    private final Path path;
    private final List<Map<String, Integer>> ids = new ArrayList<>();
    private final List<List<String>> dictionaries = new ArrayList<>();
    private final int[][] text = new int[Focus.TEXT.size()][];
    private final long[][] times = new long[Focus.TIMES.size()][];
    private final long[][] amounts = new long[Focus.AMOUNTS.size()][];
    private final List<Group> groups = new ArrayList<>();
    private final StringBuilder wide = new StringBuilder();
    private int n;
    private long position;

    Writer(Path path) throws IOException {
      this.path = path;
      this.out =
          FileChannel.open(
              path,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
      for (int i = 0; i < Focus.TEXT.size(); i++) {
        ids.add(new HashMap<>());
        List<String> d = new ArrayList<>();
        d.add(null); // id 0: null
        dictionaries.add(d);
      }
      allocate(256);
      write(ByteBuffer.wrap(MAGIC));
    }

    Path path() {
      return path;
    }

    private void allocate(int capacity) {
      for (int i = 0; i < text.length; i++) {
        text[i] = text[i] == null ? new int[capacity] : Arrays.copyOf(text[i], capacity);
      }
      for (int i = 0; i < times.length; i++) {
        times[i] = times[i] == null ? new long[capacity] : Arrays.copyOf(times[i], capacity);
      }
      for (int i = 0; i < amounts.length; i++) {
        amounts[i] = amounts[i] == null ? new long[capacity] : Arrays.copyOf(amounts[i], capacity);
      }
    }

    /** Adds a row: its text values (null allowed), times and amounts in Focus order. */
    void add(String[] row, long[] t, long[] a, java.math.BigDecimal[] bigs)
        throws IOException, BillException {
      if (n == text[0].length) {
        allocate(Math.min(GROUP, n * 2));
      }
      for (int i = 0; i < text.length; i++) {
        String v = row[i];
        if (v == null) {
          text[i][n] = 0;
          continue;
        }
        Map<String, Integer> m = ids.get(i);
        Integer id = m.get(v);
        if (id == null) {
          List<String> d = dictionaries.get(i);
          if (d.size() >= MAX_DISTINCT) {
            throw new BillException(
                "more than " + MAX_DISTINCT + " distinct values of " + Focus.TEXT.get(i),
                "split the bill by billing account or period");
          }
          id = d.size();
          d.add(v);
          m.put(v, id);
        }
        text[i][n] = id;
      }
      for (int i = 0; i < times.length; i++) {
        times[i][n] = t[i];
      }
      for (int i = 0; i < amounts.length; i++) {
        amounts[i][n] = a[i];
        if (a[i] == Money.BIG) {
          wide.append(i)
              .append(' ')
              .append(n)
              .append(' ')
              .append(bigs[i].toPlainString())
              .append('\n');
        }
      }
      if (++n == GROUP) {
        flush();
      }
    }

    private void flush() throws IOException {
      if (n == 0) {
        return;
      }
      List<Block> blocks = new ArrayList<>();
      for (int[] c : text) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(c, 0, n);
        blocks.add(block(b.array()));
      }
      for (long[] c : times) {
        blocks.add(block(longs(c, n)));
      }
      for (long[] c : amounts) {
        blocks.add(block(longs(c, n)));
      }
      Block w = wide.isEmpty() ? null : block(wide.toString().getBytes(StandardCharsets.UTF_8));
      wide.setLength(0);
      groups.add(new Group(n, blocks, w));
      n = 0;
    }

    private static byte[] longs(long[] c, int count) {
      ByteBuffer b = ByteBuffer.allocate(count * 8).order(ByteOrder.LITTLE_ENDIAN);
      b.asLongBuffer().put(c, 0, count);
      return b.array();
    }

    private Block block(byte[] raw) throws IOException {
      byte[] z = Zstd.compress(raw, 3);
      Block b = new Block(position, z.length, raw.length);
      write(ByteBuffer.wrap(z));
      return b;
    }

    private void write(ByteBuffer b) throws IOException {
      while (b.hasRemaining()) {
        position += out.write(b);
      }
    }

    /** Writes the rest and the footer, and forces the file to disk. */
    void finish(Slice slice) throws IOException {
      flush();
      List<Block> dicts = new ArrayList<>();
      for (List<String> d : dictionaries) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream data = new java.io.DataOutputStream(bytes);
        data.writeInt(d.size());
        for (int i = 1; i < d.size(); i++) {
          byte[] s = d.get(i).getBytes(StandardCharsets.UTF_8);
          data.writeInt(s.length);
          data.write(s);
        }
        data.flush();
        dicts.add(block(bytes.toByteArray()));
      }
      byte[] footer = JSON.writeValueAsBytes(new Footer(slice, groups, dicts));
      write(ByteBuffer.wrap(footer));
      ByteBuffer tail = ByteBuffer.allocate(4 + END.length);
      tail.putInt(footer.length).put(END).flip();
      write(tail);
      out.force(true);
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  /** Reads the footer of a slice file. */
  static Footer footer(FileChannel ch, Path path) throws IOException {
    long size = ch.size();
    if (size < MAGIC.length + 12) {
      throw new IOException(path + ": not a ledger file (too short)");
    }
    ByteBuffer tail = ByteBuffer.allocate(12);
    read(ch, tail, size - 12);
    tail.flip();
    int length = tail.getInt();
    byte[] end = new byte[8];
    tail.get(end);
    if (!Arrays.equals(end, END) || length <= 0 || length > size - 12 - MAGIC.length) {
      throw new IOException(path + ": not a ledger file, or cut short");
    }
    ByteBuffer f = ByteBuffer.allocate(length);
    read(ch, f, size - 12 - length);
    return JSON.readValue(f.array(), Footer.class);
  }

  private static void read(FileChannel ch, ByteBuffer b, long at) throws IOException {
    long p = at;
    while (b.hasRemaining()) {
      int r = ch.read(b, p);
      if (r < 0) {
        throw new IOException("unexpected end of a ledger file");
      }
      p += r;
    }
  }

  static byte[] block(FileChannel ch, Block b) throws IOException {
    ByteBuffer z = ByteBuffer.allocate(b.length());
    read(ch, z, b.offset());
    byte[] raw = Zstd.decompress(z.array(), b.raw());
    if (raw.length != b.raw()) {
      throw new IOException("a ledger block did not decompress to its length");
    }
    return raw;
  }

  /** The dictionary of a text column. */
  static String[] dictionary(FileChannel ch, Block b) throws IOException {
    java.io.DataInputStream in =
        new java.io.DataInputStream(new java.io.ByteArrayInputStream(block(ch, b)));
    int count = in.readInt();
    String[] d = new String[count];
    for (int i = 1; i < count; i++) {
      byte[] s = new byte[in.readInt()];
      in.readFully(s);
      d[i] = new String(s, StandardCharsets.UTF_8);
    }
    return d;
  }

  static int[] ints(byte[] raw) {
    int[] v = new int[raw.length / 4];
    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(v);
    return v;
  }

  static long[] longs(byte[] raw) {
    long[] v = new long[raw.length / 8];
    ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
    return v;
  }
}
