package dev.pilothouse.backup;

import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary layouts of packs and index files (see docs/backup-format.md), and zstd with one
 * context per thread.
 */
final class Blobs {
  static final byte TREE = 1;
  static final byte COMPRESSED = 2;
  static final int ENTRY = 1 + Id.BYTES + 4 + 4 + 4;
  static final int INDEX_MAGIC = 0x50484958; // "PHIX"
  static final int PACK_MAGIC = 0x50485048; // "PHPH"

  private static final ThreadLocal<ZstdCompressCtx> COMPRESS = new ThreadLocal<>();
  private static final ThreadLocal<ZstdDecompressCtx> DECOMPRESS =
      ThreadLocal.withInitial(ZstdDecompressCtx::new);

  private Blobs() {}

  /**
   * One blob in a pack.
   *
   * @param flags {@link #TREE}, {@link #COMPRESSED}
   * @param offset where its sealed bytes start in the pack
   * @param length how many sealed bytes
   * @param rawLength its plaintext's length
   */
  record Entry(byte flags, Id id, int offset, int length, int rawLength) {
    boolean tree() {
      return (flags & TREE) != 0;
    }

    boolean compressed() {
      return (flags & COMPRESSED) != 0;
    }
  }

  /** A pack's blobs, as an index file lists them. */
  record PackEntries(Id pack, List<Entry> entries) {}

  /**
   * Compresses len bytes at off into a buffer of this thread's (valid until its next call).
   *
   * @return the compressed length; the bytes are in {@link #compressed()}
   */
  static int compress(byte[] b, int off, int len, int level) {
    ZstdCompressCtx c = COMPRESS.get();
    if (c == null) {
      c = new ZstdCompressCtx();
      c.setLevel(level);
      COMPRESS.set(c);
    }
    int bound = (int) com.github.luben.zstd.Zstd.compressBound(len);
    byte[] dst = OUT.get();
    if (dst.length < bound) {
      dst = new byte[Math.max(bound, dst.length * 2)];
      OUT.set(dst);
    }
    return c.compressByteArray(dst, 0, dst.length, b, off, len);
  }

  static byte[] compressed() {
    return OUT.get();
  }

  private static final ThreadLocal<byte[]> OUT = ThreadLocal.withInitial(() -> new byte[0]);

  static byte[] decompress(byte[] b, int rawLength) {
    byte[] out = new byte[rawLength];
    int n = DECOMPRESS.get().decompress(out, b);
    if (n != rawLength) {
      throw new BackupException("a blob decompresses to " + n + " bytes, not " + rawLength);
    }
    return out;
  }

  static void writeEntry(ByteBuffer buf, Entry e) {
    buf.put(e.flags());
    e.id().write(buf);
    buf.putInt(e.offset()).putInt(e.length()).putInt(e.rawLength());
  }

  static Entry readEntry(ByteBuffer buf) {
    return new Entry(buf.get(), Id.read(buf), buf.getInt(), buf.getInt(), buf.getInt());
  }

  /** An index file's plaintext. */
  static byte[] encodeIndex(List<PackEntries> packs) {
    int size = 8;
    for (PackEntries p : packs) {
      size += Id.BYTES + 4 + p.entries().size() * ENTRY;
    }
    ByteBuffer buf = ByteBuffer.allocate(size);
    buf.putInt(INDEX_MAGIC).putInt(packs.size());
    for (PackEntries p : packs) {
      p.pack().write(buf);
      buf.putInt(p.entries().size());
      for (Entry e : p.entries()) {
        writeEntry(buf, e);
      }
    }
    return buf.array();
  }

  static List<PackEntries> decodeIndex(
      byte[] plain, String name, java.util.function.Predicate<Entry> keep) {
    try {
      ByteBuffer buf = ByteBuffer.wrap(plain);
      if (buf.getInt() != INDEX_MAGIC) {
        throw new BackupException("index/" + name + " is not an index file");
      }
      int n = buf.getInt();
      List<PackEntries> out = new ArrayList<>(Math.min(n, 1 << 16));
      for (int i = 0; i < n; i++) {
        Id pack = Id.read(buf);
        int count = buf.getInt();
        List<Entry> entries = new ArrayList<>();
        for (int j = 0; j < count; j++) {
          Entry e = readEntry(buf);
          if (keep.test(e)) {
            entries.add(e);
          }
        }
        out.add(new PackEntries(pack, entries));
      }
      return out;
    } catch (java.nio.BufferUnderflowException e) {
      throw new BackupException("index/" + name + " is truncated", e);
    }
  }

  /** A pack's trailer: the sealed header and its length (little-endian) at the very end. */
  static byte[] trailer(Crypto crypto, List<Entry> entries) {
    ByteBuffer h = ByteBuffer.allocate(8 + entries.size() * ENTRY);
    h.putInt(PACK_MAGIC).putInt(entries.size());
    for (Entry e : entries) {
      writeEntry(h, e);
    }
    byte[] sealed = crypto.seal(h.array());
    ByteBuffer t = ByteBuffer.allocate(sealed.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    t.put(sealed).putInt(sealed.length);
    return t.array();
  }

  /** The entries of a whole pack, read from its trailer. */
  static List<Entry> packEntries(Crypto crypto, byte[] pack, String name) {
    if (pack.length < 4 + Crypto.OVERHEAD) {
      throw new BackupException("data/" + name + " is too short to be a pack");
    }
    int len = ByteBuffer.wrap(pack, pack.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (len < Crypto.OVERHEAD || len > pack.length - 4) {
      throw new BackupException("data/" + name + " has a damaged header length");
    }
    byte[] header;
    try {
      header = crypto.open(pack, pack.length - 4 - len, len);
    } catch (BackupException e) {
      throw new BackupException("data/" + name + ": its header does not authenticate", e);
    }
    ByteBuffer h = ByteBuffer.wrap(header);
    if (h.getInt() != PACK_MAGIC) {
      throw new BackupException("data/" + name + " has no pack header");
    }
    int n = h.getInt();
    List<Entry> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(readEntry(h));
    }
    return out;
  }
}
