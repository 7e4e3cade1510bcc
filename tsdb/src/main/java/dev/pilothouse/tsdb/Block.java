package dev.pilothouse.tsdb;

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
import java.nio.file.StandardCopyOption;
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
 * Gorilla chunks (memory-mapped on open) and an {@code index} file with every series' labels, its
 * chunk references and the postings (label name → value → series), checked by a CRC. Written to a
 * temporary directory and renamed into place, so a crash never leaves half a block.
 */
final class Block {
  /** A chunk of a series in the chunks file. */
  record ChunkRef(long offset, int bitLen, int count, long minT, long maxT) {}

  /** A series of the block with its chunks. */
  record Entry(Labels labels, List<ChunkRef> chunks) {}

  /** A series' chunks to write: raw encoded chunks. */
  record ChunkData(byte[] data, int bitLen, int count, long minT, long maxT) {}

  private static final int MAGIC = 0x50485442; // "PHTB"

  final Path dir;
  final long minT;
  final long maxT;
  final int level;
  final long samples;
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
      List<Entry> series,
      Map<String, Map<String, int[]>> postings,
      FileChannel channel,
      MappedByteBuffer chunks) {
    this.dir = dir;
    this.minT = minT;
    this.maxT = maxT;
    this.level = level;
    this.samples = samples;
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
        for (ChunkData c : e.getValue()) {
          os.write(c.data());
          refs.add(new ChunkRef(offset, c.bitLen(), c.count(), c.minT(), c.maxT()));
          offset += c.data().length;
          samples += c.count();
        }
        if (!refs.isEmpty()) {
          entries.add(new Entry(e.getKey(), refs));
        }
      }
      os.flush();
      ch.force(true);
    }
    writeIndex(tmp.resolve("index"), entries);
    Files.writeString(
        tmp.resolve("meta.json"),
        "{\"minTime\": "
            + minT
            + ", \"maxTime\": "
            + maxT
            + ", \"level\": "
            + level
            + ", \"numSeries\": "
            + entries.size()
            + ", \"numSamples\": "
            + samples
            + "}\n");
    try (FileChannel d = FileChannel.open(tmp, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // directories cannot be synced on every file system
    }
    if (Files.exists(dir)) {
      deleteTree(dir);
    }
    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    return dir;
  }

  private static void writeIndex(Path file, List<Entry> entries) throws IOException {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    try (DataOutputStream d = new DataOutputStream(buf)) {
      d.writeInt(MAGIC);
      // Symbols: every label name and value once.
      TreeSet<String> symbols = new TreeSet<>();
      for (Entry e : entries) {
        for (int i = 0; i < e.labels().size(); i++) {
          symbols.add(e.labels().name(i));
          symbols.add(e.labels().value(i));
        }
      }
      Map<String, Integer> ids = new HashMap<>();
      d.writeInt(symbols.size());
      for (String s : symbols) {
        ids.put(s, ids.size());
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.writeInt(b.length);
        d.write(b);
      }
      d.writeInt(entries.size());
      for (Entry e : entries) {
        d.writeShort(e.labels().size());
        for (int i = 0; i < e.labels().size(); i++) {
          d.writeInt(ids.get(e.labels().name(i)));
          d.writeInt(ids.get(e.labels().value(i)));
        }
        d.writeInt(e.chunks().size());
        for (ChunkRef c : e.chunks()) {
          d.writeLong(c.offset());
          d.writeInt(c.bitLen());
          d.writeInt(c.count());
          d.writeLong(c.minT());
          d.writeLong(c.maxT());
        }
      }
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
    try (DataInputStream d =
        new DataInputStream(new java.io.ByteArrayInputStream(all, 0, all.length - 4))) {
      if (d.readInt() != MAGIC) {
        throw new IOException("block " + dir + " has no Pilothouse index");
      }
      int n = d.readInt();
      String[] symbols = new String[n];
      for (int i = 0; i < n; i++) {
        byte[] b = new byte[d.readInt()];
        d.readFully(b);
        symbols[i] = new String(b, StandardCharsets.UTF_8);
      }
      int count = d.readInt();
      for (int s = 0; s < count; s++) {
        int nl = d.readShort();
        String[] kv = new String[2 * nl];
        for (int i = 0; i < 2 * nl; i++) {
          kv[i] = symbols[d.readInt()];
        }
        int nc = d.readInt();
        List<ChunkRef> refs = new ArrayList<>(nc);
        for (int c = 0; c < nc; c++) {
          ChunkRef r =
              new ChunkRef(d.readLong(), d.readInt(), d.readInt(), d.readLong(), d.readLong());
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
    MappedByteBuffer mm = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
    return new Block(dir, minT, maxT, level, samples, entries, postings, ch, mm);
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

  /** The bytes of a chunk. */
  byte[] chunk(ChunkRef r) {
    int len = (r.bitLen() + 7) >>> 3;
    byte[] b = new byte[len];
    chunks.get((int) r.offset(), b, 0, len);
    return b;
  }

  /** Every series with its chunk bytes (for merging blocks). */
  Map<Labels, List<ChunkData>> all() {
    Map<Labels, List<ChunkData>> out = new LinkedHashMap<>();
    for (Entry e : series) {
      List<ChunkData> cs = new ArrayList<>();
      for (ChunkRef r : e.chunks()) {
        cs.add(new ChunkData(chunk(r), r.bitLen(), r.count(), r.minT(), r.maxT()));
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
