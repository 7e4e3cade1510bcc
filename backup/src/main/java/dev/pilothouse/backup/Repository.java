package dev.pilothouse.backup;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * An open repository: its key, its index of blobs in memory, and its snapshots. Thread-safe.
 * Everything in it is immutable and content-addressed; see docs/backup-format.md.
 */
public final class Repository implements AutoCloseable {
  static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** The repository's parameters, stored in plain text as {@code config}. */
  public record Config(
      int version,
      String id,
      int chunkerMin,
      int chunkerAvg,
      int chunkerMax,
      int packSize,
      int zstdLevel,
      Instant created) {
    public static Config defaults(Instant now) {
      return new Config(
          1, UUID.randomUUID().toString(), 512 * 1024, 1 << 20, 8 << 20, 16 << 20, 3, now);
    }
  }

  /** Where a blob is: its pack (an index into {@link #packs}) and its entry there. */
  record Ref(int pack, Blobs.Entry entry) {}

  private final Backend backend;
  private final Crypto crypto;
  private final Config config;
  private final Chunker chunker;
  private final Clock clock;
  private final List<Id> packs = new CopyOnWriteArrayList<>();
  private final Map<Id, Integer> packNumbers = new ConcurrentHashMap<>();
  private final Map<Id, Ref> index = new ConcurrentHashMap<>();

  private Repository(Backend backend, Crypto crypto, Config config, Clock clock) {
    this.backend = backend;
    this.crypto = crypto;
    this.config = config;
    this.clock = clock;
    this.chunker =
        new Chunker(
            crypto.chunkerSeed(), config.chunkerMin(), config.chunkerAvg(), config.chunkerMax());
  }

  /**
   * Creates a repository in an empty backend.
   *
   * @throws BackupException when one is there already
   */
  public static Repository init(Backend backend, Keys.Secret secret, Keys.Kdf kdf, Clock clock)
      throws IOException {
    return init(backend, secret, kdf, Config.defaults(clock.instant()), clock);
  }

  public static Repository init(
      Backend backend, Keys.Secret secret, Keys.Kdf kdf, Config config, Clock clock)
      throws IOException {
    if (backend.exists(Backend.Kind.CONFIG, "config")) {
      throw new BackupException(
          "a repository exists already at " + backend.location() + "; open it instead");
    }
    byte[] master = Crypto.newMaster();
    byte[] key = Keys.wrap(master, secret, kdf, clock.instant(), Hosts.name());
    backend.put(Backend.Kind.KEY, Crypto.sha256(key).hex(), key);
    backend.put(Backend.Kind.CONFIG, "config", JSON.writeValueAsBytes(config));
    return new Repository(backend, new Crypto(master), config, clock);
  }

  /**
   * Opens a repository and loads its index.
   *
   * @throws BackupException when there is none, or no key opens with secret
   */
  public static Repository open(Backend backend, Keys.Secret secret, Clock clock)
      throws IOException {
    Repository r = openWithoutIndex(backend, secret, clock);
    r.loadIndex(e -> true);
    return r;
  }

  /** Opens a repository with only its tree blobs indexed (what prune needs: bounded memory). */
  public static Repository openTreesOnly(Backend backend, Keys.Secret secret, Clock clock)
      throws IOException {
    Repository r = openWithoutIndex(backend, secret, clock);
    r.loadIndex(Blobs.Entry::tree);
    return r;
  }

  private static Repository openWithoutIndex(Backend backend, Keys.Secret secret, Clock clock)
      throws IOException {
    byte[] cfg;
    try {
      cfg = backend.get(Backend.Kind.CONFIG, "config");
    } catch (NoSuchFileException e) {
      throw new BackupException(
          "no repository at "
              + backend.location()
              + " (no config file); create one with 'pilothouse backup init' or check the path");
    }
    Config config = JSON.readValue(cfg, Config.class);
    if (config.version() != 1) {
      throw new BackupException(
          "the repository at "
              + backend.location()
              + " has format version "
              + config.version()
              + "; this Pilothouse reads version 1");
    }
    List<Backend.Entry> keys = backend.list(Backend.Kind.KEY);
    if (keys.isEmpty()) {
      throw new BackupException("the repository at " + backend.location() + " has no key files");
    }
    for (Backend.Entry k : keys) {
      byte[] master = Keys.unwrap(backend.get(Backend.Kind.KEY, k.name()), secret, k.name());
      if (master != null) {
        return new Repository(backend, new Crypto(master), config, clock);
      }
    }
    throw new BackupException(
        "wrong "
            + (secret.keyFile() ? "key file" : "password")
            + " for the repository at "
            + backend.location()
            + ": none of its "
            + keys.size()
            + " key(s) opens with it");
  }

  public Backend backend() {
    return backend;
  }

  public Crypto crypto() {
    return crypto;
  }

  public Config config() {
    return config;
  }

  public Chunker chunker() {
    return chunker;
  }

  public Clock clock() {
    return clock;
  }

  // ---- index

  private void loadIndex(java.util.function.Predicate<Blobs.Entry> keep) throws IOException {
    List<Backend.Entry> files = backend.list(Backend.Kind.INDEX);
    ExecutorService pool =
        Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()));
    try {
      List<Future<List<Blobs.PackEntries>>> parts = new ArrayList<>();
      for (Backend.Entry f : files) {
        // only what is kept stays in memory while the other files are read
        parts.add(pool.submit(() -> readIndex(f.name(), keep)));
      }
      for (Future<List<Blobs.PackEntries>> part : parts) {
        for (Blobs.PackEntries p : Workers.get(part)) {
          register(p, keep);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Reads one index file: every pack, with the entries keep takes. */
  List<Blobs.PackEntries> readIndex(String name, java.util.function.Predicate<Blobs.Entry> keep)
      throws IOException {
    byte[] sealed = backend.get(Backend.Kind.INDEX, name);
    byte[] plain;
    try {
      byte[] z = crypto.open(sealed);
      plain =
          com.github.luben.zstd.Zstd.decompress(
              z, (int) com.github.luben.zstd.Zstd.getFrameContentSize(z));
    } catch (BackupException e) {
      throw new BackupException("index/" + name + " does not authenticate (changed or corrupt)", e);
    }
    return Blobs.decodeIndex(plain, name, keep);
  }

  /** Writes an index file listing packs; returns its name. */
  String writeIndex(List<Blobs.PackEntries> list) throws IOException {
    byte[] sealed = crypto.seal(com.github.luben.zstd.Zstd.compress(Blobs.encodeIndex(list), 3));
    String name = Crypto.sha256(sealed).hex();
    backend.put(Backend.Kind.INDEX, name, sealed);
    return name;
  }

  void register(Blobs.PackEntries p, java.util.function.Predicate<Blobs.Entry> keep) {
    int n =
        packNumbers.computeIfAbsent(
            p.pack(),
            id -> {
              synchronized (packs) {
                packs.add(id);
                return packs.size() - 1;
              }
            });
    for (Blobs.Entry e : p.entries()) {
      if (keep.test(e)) {
        index.putIfAbsent(e.id(), new Ref(n, e));
      }
    }
  }

  public boolean has(Id blob) {
    return index.containsKey(blob);
  }

  /** How many blobs the index holds. */
  public int blobCount() {
    return index.size();
  }

  Ref find(Id blob) {
    return index.get(blob);
  }

  Id pack(int n) {
    return packs.get(n);
  }

  /**
   * A blob's plaintext.
   *
   * @throws BackupException when it is not in the index, or its pack is damaged
   */
  public byte[] readBlob(Id blob) throws IOException {
    Ref r = index.get(blob);
    if (r == null) {
      throw new BackupException("blob " + blob.shortHex() + " is not in the repository's index");
    }
    String pack = packs.get(r.pack()).hex();
    byte[] sealed;
    try {
      sealed = backend.get(Backend.Kind.DATA, pack, r.entry().offset(), r.entry().length());
    } catch (NoSuchFileException e) {
      throw new BackupException(
          "pack data/" + pack + " is missing (blob " + blob.shortHex() + ")", e);
    }
    return decode(r.entry(), sealed, 0, sealed.length, pack);
  }

  byte[] decode(Blobs.Entry e, byte[] sealed, int off, int len, String pack) {
    byte[] z;
    try {
      z = crypto.open(sealed, off, len);
    } catch (BackupException ex) {
      throw new BackupException(
          "blob "
              + e.id().shortHex()
              + " in pack data/"
              + pack
              + " is damaged (it does not authenticate)",
          ex);
    }
    return e.compressed() ? Blobs.decompress(z, e.rawLength()) : z;
  }

  public Tree readTree(Id id) throws IOException {
    return JSON.readValue(readBlob(id), Tree.class);
  }

  // ---- snapshots

  /** Every snapshot, oldest first. */
  public List<Snapshot> snapshots() throws IOException {
    List<Snapshot> out = new ArrayList<>();
    for (Backend.Entry e : backend.list(Backend.Kind.SNAPSHOT)) {
      out.add(readSnapshot(e.name()));
    }
    out.sort(Comparator.comparing(Snapshot::time).thenComparing(Snapshot::id));
    return out;
  }

  Snapshot readSnapshot(String name) throws IOException {
    byte[] plain;
    try {
      plain = crypto.open(backend.get(Backend.Kind.SNAPSHOT, name));
    } catch (BackupException e) {
      throw new BackupException(
          "snapshots/" + name + " does not authenticate (changed or corrupt)", e);
    }
    return JSON.readValue(plain, Snapshot.class).withId(name);
  }

  /**
   * The snapshot whose id starts with prefix (at least 4 hex digits), or "latest".
   *
   * @throws BackupException when none or several match
   */
  public Snapshot snapshot(String prefix, String service) throws IOException {
    List<Snapshot> all = snapshots();
    if ("latest".equals(prefix)) {
      return all.stream()
          .filter(s -> service == null || service.equals(s.service()))
          .reduce((a, b) -> b)
          .orElseThrow(
              () ->
                  new BackupException(
                      "no snapshot"
                          + (service == null ? "" : " of " + service)
                          + " in "
                          + backend.location()));
    }
    if (prefix.length() < 4 || !prefix.matches("[0-9a-f]+")) {
      throw new BackupException(
          "a snapshot id is at least 4 hex digits (as 'backup list' shows), or 'latest'; got '"
              + prefix
              + "'");
    }
    List<Snapshot> found = all.stream().filter(s -> s.id().startsWith(prefix)).toList();
    if (found.isEmpty()) {
      throw new BackupException(
          "no snapshot " + prefix + " in " + backend.location() + "; see 'pilothouse backup list'");
    }
    if (found.size() > 1) {
      throw new BackupException(
          "snapshot id " + prefix + " is ambiguous (" + found.size() + " match); give more digits");
    }
    return found.getFirst();
  }

  /** Stores a snapshot; returns it with its id. */
  public Snapshot saveSnapshot(Snapshot s) throws IOException {
    byte[] sealed = crypto.seal(JSON.writeValueAsBytes(s));
    String name = Crypto.sha256(sealed).hex();
    backend.put(Backend.Kind.SNAPSHOT, name, sealed);
    return s.withId(name);
  }

  public void forget(Snapshot s) throws IOException {
    backend.delete(Backend.Kind.SNAPSHOT, s.id());
  }

  /** A writer of new blobs (one per backup). */
  public Writer writer(Consumer<Long> onStored) {
    return new Writer(this, onStored);
  }

  @Override
  public void close() {
    backend.close();
  }

  Instant now() {
    return clock.instant();
  }
}
