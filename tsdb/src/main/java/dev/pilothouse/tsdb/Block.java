package dev.pilothouse.tsdb;

import dev.pilothouse.tsdb.chunk.PackedChunk;
import dev.pilothouse.tsdb.chunk.XorChunk;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * An immutable, persisted block of samples for a time range [minT, maxT]: a {@code chunks} file of
 * {@link PackedChunk}s of up to 512 samples (memory-mapped on open; blocks of the first format hold
 * the head's XOR chunks as they were) and an {@code index} file with every series' labels, its
 * chunk references and the postings (label name → value → series), checked by a CRC. Written to a
 * temporary directory and renamed into place, so a crash never leaves half a block.
 */
final class Block {
  /** A chunk of a series in the chunks file: where, how many bytes and samples, time range. */
  record ChunkRef(long offset, int length, int count, long minT, long maxT) {}

  /** A series of the block with its chunks. */
  record Entry(Labels labels, List<ChunkRef> chunks) {}

  /**
   * A series' chunk to write into a block: a head chunk ({@link XorChunk}) or one of an older block
   * ({@link PackedChunk} when packed).
   */
  record ChunkData(byte[] data, boolean packed, int count, long minT, long maxT) {
    /** Decodes the samples into t and v at off. */
    void decode(long[] t, double[] v, int off) {
      if (packed) {
        PackedChunk.decode(data, minT, count, t, v, off);
        return;
      }
      new XorChunk.Reader(data, data.length * 8, count).readAll(t, v, off);
    }
  }

  /** The first index format: fixed-width fields, head chunks copied as they were. */
  private static final int MAGIC_V1 = 0x50485442; // "PHTB"

  /** Varint fields; chunks re-encoded as {@link PackedChunk}s. */
  private static final int MAGIC_V2 = 0x50485432; // "PHT2"

  /** Format 2 deflated after the magic. */
  private static final int MAGIC_V3 = 0x50485433; // "PHT3"

  final Path dir;
  final long minT;
  final long maxT;
  final int level;
  final long samples;

  /** Whether the chunks are {@link PackedChunk}s (else XOR chunks, blocks of format 1). */
  private final boolean packed;

  private final List<Entry> series;
  private final Map<String, Map<String, int[]>> postings;
  private final MappedByteBuffer chunks;
  private final FileChannel channel;

  private Block(
      Path dir,
      long minT,
      long maxT,
      int level,
      long samples,
      boolean packed,
      List<Entry> series,
      Map<String, Map<String, int[]>> postings,
      FileChannel channel,
      MappedByteBuffer chunks) {
    this.dir = dir;
    this.minT = minT;
    this.maxT = maxT;
    this.level = level;
    this.samples = samples;
    this.packed = packed;
    this.series = series;
    this.postings = postings;
    this.channel = channel;
    this.chunks = chunks;
  }

  /** Bytes on disk. */
  long sizeBytes() {
    try {
      return Files.size(dir.resolve("chunks")) + Files.size(dir.resolve("index"));
    } catch (IOException e) {
      return 0;
    }
  }

  int seriesCount() {
    return series.size();
  }

  /**
   * Writes a block of the given series (sorted by labels here) into parent, named after its time
   * range; returns its directory.
   */
  static Path write(Path parent, long minT, long maxT, int level, Map<Labels, List<ChunkData>> data)
      throws IOException {
    String name = String.format("%016x-%016x-%d", minT, maxT, level);
    Path tmp = parent.resolve(name + ".tmp");
    Path dir = parent.resolve(name);
    if (Files.exists(tmp)) {
      deleteTree(tmp);
    }
    Files.createDirectories(tmp);
    TreeMap<Labels, List<ChunkData>> sorted = new TreeMap<>(data);
    List<Entry> entries = new ArrayList<>();
    long samples = 0;
    try (FileChannel ch =
            FileChannel.open(
                tmp.resolve("chunks"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        OutputStream os =
            new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 16)) {
      long offset = 0;
      for (Map.Entry<Labels, List<ChunkData>> e : sorted.entrySet()) {
        List<ChunkRef> refs = new ArrayList<>();
        Series all = joined(e.getKey(), e.getValue());
        long[] t = all.t();
        for (int from = 0; from < t.length; from += PackedChunk.MAX_SAMPLES) {
          int to = Math.min(t.length, from + PackedChunk.MAX_SAMPLES);
          byte[] c = PackedChunk.encode(t, all.v(), from, to);
          os.write(c);
          refs.add(new ChunkRef(offset, c.length, to - from, t[from], t[to - 1]));
          offset += c.length;
        }
        samples += t.length;
        if (!refs.isEmpty()) {
          entries.add(new Entry(e.getKey(), refs));
        }
      }
      os.flush();
      ch.force(true);
    }
    writeIndex(tmp.resolve("index"), minT, entries);
    Durable.write(
        tmp.resolve("meta.json"),
        ("{\"minTime\": "
                + minT
                + ", \"maxTime\": "
                + maxT
                + ", \"level\": "
                + level
                + ", \"numSeries\": "
                + entries.size()
                + ", \"numSamples\": "
                + samples
                + "}\n")
            .getBytes(StandardCharsets.UTF_8));
    Durable.syncDir(tmp);
    if (Files.exists(dir)) {
      deleteTree(dir);
    }
    Durable.move(tmp, dir);
    return dir;
  }

  /** A series' samples from all its chunks, in time order, each timestamp once. */
  private static Series joined(Labels labels, List<ChunkData> chunks) {
    int total = chunks.stream().mapToInt(ChunkData::count).sum();
    long[] t = new long[total];
    double[] v = new double[total];
    List<ChunkData> ordered = new ArrayList<>(chunks);
    ordered.sort(java.util.Comparator.comparingLong(ChunkData::minT));
    int k = 0;
    boolean sorted = true;
    for (ChunkData c : ordered) {
      c.decode(t, v, k);
      if (k > 0 && t[k] <= t[k - 1]) {
        sorted = false;
      }
      k += c.count();
    }
    Series all = new Series(labels, t, v);
    return sorted ? all : Tsdb.merge(labels, List.of(all)); // overlapping chunks
  }

  /**
   * Format 3: magic, then deflated: the symbols (every label name and value once, sorted); per
   * series its label pairs as symbol numbers and its chunks (bytes, samples, start after the
   * previous chunk's end or the block's start, length in time), all as unsigned varints. Last, a
   * CRC32C of the file's bytes before it. (Format 2 is the same without deflate.)
   */
  private static void writeIndex(Path file, long blockMinT, List<Entry> entries)
      throws IOException {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    buf.write(ByteBuffer.allocate(4).putInt(0, MAGIC_V3).array());
    // Deflated after the magic: label sets repeat most of their symbols from series to series.
    java.util.zip.Deflater deflater = new java.util.zip.Deflater(6);
    try (DataOutputStream d =
        new DataOutputStream(
            new java.io.BufferedOutputStream(
                new java.util.zip.DeflaterOutputStream(buf, deflater), 1 << 16))) {
      TreeSet<String> symbols = new TreeSet<>();
      for (Entry e : entries) {
        for (int i = 0; i < e.labels().size(); i++) {
          symbols.add(e.labels().name(i));
          symbols.add(e.labels().value(i));
        }
      }
      Map<String, Integer> ids = new HashMap<>();
      uvarint(d, symbols.size());
      for (String s : symbols) {
        ids.put(s, ids.size());
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        uvarint(d, b.length);
        d.write(b);
      }
      uvarint(d, entries.size());
      for (Entry e : entries) {
        uvarint(d, e.labels().size());
        for (int i = 0; i < e.labels().size(); i++) {
          uvarint(d, ids.get(e.labels().name(i)));
          uvarint(d, ids.get(e.labels().value(i)));
        }
        uvarint(d, e.chunks().size());
        long prev = blockMinT;
        for (ChunkRef c : e.chunks()) {
          uvarint(d, c.length());
          uvarint(d, c.count());
          uvarint(d, c.minT() - prev);
          uvarint(d, c.maxT() - c.minT());
          prev = c.maxT();
        }
      }
    } finally {
      deflater.end();
    }
    byte[] body = buf.toByteArray();
    CRC32C crc = new CRC32C();
    crc.update(body);
    try (FileChannel ch =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(body));
      ch.write(ByteBuffer.allocate(4).putInt(0, (int) crc.getValue()));
      ch.force(true);
    }
  }

  private static void uvarint(DataOutputStream d, long v) throws IOException {
    while ((v & ~0x7FL) != 0) {
      d.writeByte((int) (v & 0x7F) | 0x80);
      v >>>= 7;
    }
    d.writeByte((int) v);
  }

  private static long uvarint(DataInputStream d) throws IOException {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = d.readUnsignedByte();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw new IOException("malformed varint");
  }

  /** Opens a block written by {@link #write}; throws when its index is corrupt. */
  static Block open(Path dir) throws IOException {
    String[] parts = dir.getFileName().toString().split("-");
    long minT = Long.parseUnsignedLong(parts[0], 16);
    long maxT = Long.parseUnsignedLong(parts[1], 16);
    int level = Integer.parseInt(parts[2]);
    byte[] all = Files.readAllBytes(dir.resolve("index"));
    if (all.length < 8) {
      throw new IOException("index of block " + dir + " is truncated");
    }
    CRC32C crc = new CRC32C();
    crc.update(all, 0, all.length - 4);
    if ((int) crc.getValue() != ByteBuffer.wrap(all, all.length - 4, 4).getInt()) {
      throw new IOException("index of block " + dir + " is corrupt (checksum mismatch)");
    }
    List<Entry> entries = new ArrayList<>();
    long samples = 0;
    boolean v2;
    int magic = ByteBuffer.wrap(all, 0, 4).getInt();
    if (magic != MAGIC_V1 && magic != MAGIC_V2 && magic != MAGIC_V3) {
      throw new IOException("block " + dir + " has no Pilothouse index");
    }
    java.io.InputStream raw = new java.io.ByteArrayInputStream(all, 4, all.length - 8);
    if (magic == MAGIC_V3) {
      raw = new java.io.BufferedInputStream(new java.util.zip.InflaterInputStream(raw), 1 << 16);
    }
    try (DataInputStream d = new DataInputStream(raw)) {
      v2 = magic != MAGIC_V1;
      int n = v2 ? (int) uvarint(d) : d.readInt();
      String[] symbols = new String[n];
      for (int i = 0; i < n; i++) {
        byte[] b = new byte[v2 ? (int) uvarint(d) : d.readInt()];
        d.readFully(b);
        symbols[i] = new String(b, StandardCharsets.UTF_8);
      }
      int count = v2 ? (int) uvarint(d) : d.readInt();
      long offset = 0;
      for (int s = 0; s < count; s++) {
        int nl = v2 ? (int) uvarint(d) : d.readShort();
        String[] kv = new String[2 * nl];
        for (int i = 0; i < 2 * nl; i++) {
          kv[i] = symbols[v2 ? (int) uvarint(d) : d.readInt()];
        }
        int nc = v2 ? (int) uvarint(d) : d.readInt();
        List<ChunkRef> refs = new ArrayList<>(nc);
        long prev = minT;
        for (int c = 0; c < nc; c++) {
          ChunkRef r;
          if (v2) {
            int len = (int) uvarint(d);
            int samplesIn = (int) uvarint(d);
            long cmin = prev + uvarint(d);
            long cmax = cmin + uvarint(d);
            r = new ChunkRef(offset, len, samplesIn, cmin, cmax);
            offset += len;
            prev = cmax;
          } else {
            r =
                new ChunkRef(
                    d.readLong(), (d.readInt() + 7) >>> 3, d.readInt(), d.readLong(), d.readLong());
          }
          samples += r.count();
          refs.add(r);
        }
        entries.add(new Entry(Labels.of(kv), refs));
      }
    }
    Map<String, Map<String, List<Integer>>> p = new HashMap<>();
    for (int i = 0; i < entries.size(); i++) {
      Labels l = entries.get(i).labels();
      for (int k = 0; k < l.size(); k++) {
        p.computeIfAbsent(l.name(k), x -> new HashMap<>())
            .computeIfAbsent(l.value(k), x -> new ArrayList<>())
            .add(i);
      }
    }
    Map<String, Map<String, int[]>> postings = new HashMap<>();
    p.forEach(
        (name, values) -> {
          Map<String, int[]> m = new HashMap<>();
          values.forEach((v, ids) -> m.put(v, ids.stream().mapToInt(Integer::intValue).toArray()));
          postings.put(name, m);
        });
    FileChannel ch = FileChannel.open(dir.resolve("chunks"), StandardOpenOption.READ);
    long size = ch.size();
    for (Entry e : entries) {
      for (ChunkRef r : e.chunks()) {
        if (r.offset() < 0 || r.length() < 0 || r.offset() + r.length() > size || r.count() < 0) {
          ch.close();
          throw new IOException(
              "block "
                  + dir
                  + " is damaged: a chunk of "
                  + e.labels()
                  + " lies outside its chunks file");
        }
      }
    }
    MappedByteBuffer mm = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
    return new Block(dir, minT, maxT, level, samples, v2, entries, postings, ch, mm);
  }

  /** The series matching all matchers, with their chunks. */
  List<Entry> select(List<Matcher> matchers) {
    int[] ids = null;
    List<Matcher> rest = new ArrayList<>();
    for (Matcher m : matchers) {
      if (m.matchesEmpty()) {
        rest.add(m);
        continue;
      }
      Map<String, int[]> values = postings.getOrDefault(m.name(), Map.of());
      int[] these;
      if (m.type() == Matcher.Type.EQ) {
        these = values.getOrDefault(m.value(), new int[0]);
      } else {
        these =
            values.entrySet().stream()
                .filter(e -> m.matches(e.getKey()))
                .flatMapToInt(e -> Arrays.stream(e.getValue()))
                .sorted()
                .toArray();
      }
      ids = ids == null ? these : Head.intersect(ids, these);
    }
    List<Entry> out = new ArrayList<>();
    if (ids == null) {
      for (Entry e : series) {
        if (Head.matchesAll(e.labels(), rest)) {
          out.add(e);
        }
      }
    } else {
      for (int id : ids) {
        if (Head.matchesAll(series.get(id).labels(), rest)) {
          out.add(series.get(id));
        }
      }
    }
    return out;
  }

  /** A chunk as it is stored. */
  ChunkData chunk(ChunkRef r) {
    byte[] b = new byte[r.length()];
    chunks.get((int) r.offset(), b, 0, b.length);
    return new ChunkData(b, packed, r.count(), r.minT(), r.maxT());
  }

  /** Every series with its chunks (for merging blocks). */
  Map<Labels, List<ChunkData>> all() {
    Map<Labels, List<ChunkData>> out = new LinkedHashMap<>();
    for (Entry e : series) {
      List<ChunkData> cs = new ArrayList<>();
      for (ChunkRef r : e.chunks()) {
        cs.add(chunk(r));
      }
      out.put(e.labels(), cs);
    }
    return out;
  }

  List<String> labelNames() {
    return new ArrayList<>(postings.keySet());
  }

  List<String> labelValues(String name) {
    return new ArrayList<>(postings.getOrDefault(name, Map.of()).keySet());
  }

  void close() {
    try {
      channel.close();
    } catch (IOException e) {
      // nothing left to flush: the block is read-only
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
