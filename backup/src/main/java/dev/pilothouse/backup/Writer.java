package dev.pilothouse.backup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Adds blobs to a repository: each new blob is compressed (when that shrinks it) and sealed by the
 * calling thread, appended to an open pack (data and trees apart), and the full pack is uploaded in
 * the background under the SHA-256 of its bytes. Index files follow the packs they list, so a crash
 * leaves at worst packs that no index names (prune removes them); never an index naming a pack that
 * is not there.
 */
public final class Writer implements AutoCloseable {
  /**
   * An index file lists at most 64 packs or 65,536 blobs (packs of many small files hold tens of
   * thousands each): reading one never takes more than a few MiB, whatever the repository's size.
   */
  static final int INDEX_EVERY = 64;

  static final int INDEX_ENTRIES = 1 << 16;

  private int unindexedEntries;
  private static final int UPLOADS = 2;

  private final Repository repo;
  private final Consumer<Long> onStored;
  private final Map<Id, Boolean> pending = new ConcurrentHashMap<>();
  private final Packer data = new Packer(false);
  private final Packer trees = new Packer(true);
  private final ExecutorService uploader;
  private final Semaphore uploadSlots = new Semaphore(UPLOADS + 1);
  private final List<Future<?>> uploads = new ArrayList<>();
  private final List<Blobs.PackEntries> unindexed = new ArrayList<>();
  private final AtomicLong bytesAdded = new AtomicLong();
  private final AtomicLong blobsAdded = new AtomicLong();

  Writer(Repository repo, Consumer<Long> onStored) {
    this.repo = repo;
    this.onStored = onStored;
    this.uploader =
        Executors.newFixedThreadPool(
            UPLOADS, r -> Thread.ofPlatform().daemon().name("pack-upload").unstarted(r));
  }

  public long bytesAdded() {
    return bytesAdded.get();
  }

  public long blobsAdded() {
    return blobsAdded.get();
  }

  /** True when a blob with this id is stored or on its way. */
  public boolean known(Id id) {
    return repo.has(id) || pending.containsKey(id);
  }

  /**
   * Stores a blob unless one with its id is stored or on its way.
   *
   * @return its id
   */
  public Id add(boolean tree, byte[] b, int off, int len) throws IOException {
    Id id = repo.crypto().id(b, off, len);
    if (repo.has(id) || pending.putIfAbsent(id, Boolean.TRUE) != null) {
      return id;
    }
    int zlen = Blobs.compress(b, off, len, repo.config().zstdLevel());
    byte flags = tree ? Blobs.TREE : 0;
    byte[] sealed;
    if (zlen < len - len / 32) {
      flags |= Blobs.COMPRESSED;
      sealed = repo.crypto().seal(Blobs.compressed(), 0, zlen);
      bytesAdded.addAndGet(zlen);
    } else {
      sealed = repo.crypto().seal(b, off, len);
      bytesAdded.addAndGet(len);
    }
    blobsAdded.incrementAndGet();
    (tree ? trees : data).append(flags, id, sealed, len);
    return id;
  }

  /**
   * Adds a blob already sealed under this repository's key, copied from another pack as it is (no
   * decryption): how prune repacks.
   */
  void addSealed(Blobs.Entry e, byte[] pack) throws IOException {
    byte[] sealed = java.util.Arrays.copyOfRange(pack, e.offset(), e.offset() + e.length());
    (e.tree() ? trees : data).append(e.flags(), e.id(), sealed, e.rawLength());
  }

  /** Uploads what is open, waits for every upload, writes the index. */
  public void flush() throws IOException {
    data.finish();
    trees.finish();
    List<Future<?>> wait;
    synchronized (uploads) {
      wait = new ArrayList<>(uploads);
      uploads.clear();
    }
    for (Future<?> f : wait) {
      Workers.get(f);
    }
    writeIndex();
  }

  private void writeIndex() throws IOException {
    List<Blobs.PackEntries> list;
    synchronized (unindexed) {
      list = new ArrayList<>(unindexed);
      unindexed.clear();
      unindexedEntries = 0;
    }
    if (!list.isEmpty()) {
      repo.writeIndex(list);
    }
  }

  /** Stops the uploads (after a failure: an upload under way removes its temporary file). */
  @Override
  public void close() {
    uploader.shutdownNow();
    try {
      uploader.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Packer {
    private final boolean tree;
    private List<byte[]> parts = new ArrayList<>();
    private int size;
    private List<Blobs.Entry> entries = new ArrayList<>();

    Packer(boolean tree) {
      this.tree = tree;
    }

    void append(byte flags, Id id, byte[] sealed, int rawLength) throws IOException {
      List<byte[]> full = null;
      List<Blobs.Entry> fullEntries = null;
      synchronized (this) {
        entries.add(new Blobs.Entry(flags, id, size, sealed.length, rawLength));
        parts.add(sealed);
        size += sealed.length;
        if (size >= repo.config().packSize()) {
          full = parts;
          fullEntries = entries;
          parts = new ArrayList<>();
          entries = new ArrayList<>();
          size = 0;
        }
      }
      if (full != null) {
        upload(full, fullEntries);
      }
    }

    void finish() throws IOException {
      List<byte[]> full;
      List<Blobs.Entry> fullEntries;
      synchronized (this) {
        if (entries.isEmpty()) {
          return;
        }
        full = parts;
        fullEntries = entries;
        parts = new ArrayList<>();
        entries = new ArrayList<>();
        size = 0;
      }
      upload(full, fullEntries);
    }

    private void upload(List<byte[]> body, List<Blobs.Entry> list) {
      try {
        uploadSlots.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BackupException("interrupted", e);
      }
      Future<?> f =
          uploader.submit(
              () -> {
                try {
                  byte[] trailer = Blobs.trailer(repo.crypto(), list);
                  int total = trailer.length;
                  for (byte[] part : body) {
                    total += part.length;
                  }
                  byte[] pack = new byte[total];
                  int at = 0;
                  for (byte[] part : body) {
                    System.arraycopy(part, 0, pack, at, part.length);
                    at += part.length;
                  }
                  System.arraycopy(trailer, 0, pack, at, trailer.length);
                  Id name = Crypto.sha256(pack);
                  repo.backend().put(Backend.Kind.DATA, name.hex(), pack);
                  Blobs.PackEntries p = new Blobs.PackEntries(name, list);
                  repo.register(p, e -> true);
                  for (Blobs.Entry e : list) {
                    pending.remove(e.id());
                  }
                  onStored.accept((long) pack.length);
                  boolean write;
                  synchronized (unindexed) {
                    unindexed.add(p);
                    unindexedEntries += list.size();
                    write = unindexed.size() >= INDEX_EVERY || unindexedEntries >= INDEX_ENTRIES;
                  }
                  if (write) {
                    writeIndex();
                  }
                  return null;
                } finally {
                  uploadSlots.release();
                }
              });
      synchronized (uploads) {
        uploads.add(f);
      }
    }
  }
}
