package dev.pilothouse.backup;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Takes a snapshot. A pool of workers walks the directories (each beside the parent snapshot's
 * listing of it) and reads, chunks, hashes, compresses and seals the files that changed; a
 * directory's tree blob is written once all its entries are done, and no worker ever waits for
 * another. A file whose size, times and inode match the parent snapshot's is not read at all.
 * Memory is bounded: one buffer of twice the largest chunk per worker; a queued file or directory
 * holds only its path.
 */
public final class Archiver {
  private static final String ATTRS = "unix:mode,uid,gid,ino,dev,size,lastModifiedTime,ctime";

  /** Live counters, for a progress bar. */
  public static final class Counters {
    public final AtomicLong files = new AtomicLong();
    public final AtomicLong dirs = new AtomicLong();
    public final AtomicLong bytes = new AtomicLong();
    public final AtomicLong bytesRead = new AtomicLong();
    public final AtomicLong bytesStored = new AtomicLong();
  }

  private final Repository repo;
  private final Writer writer;
  private final Counters counters;
  private final ExecutorService pool;
  private final int workers;
  private final List<String> warnings = java.util.Collections.synchronizedList(new ArrayList<>());
  private final ThreadLocal<byte[]> buffers;

  private final java.util.function.Predicate<Path> skip;
  private final Finisher finish;

  private Archiver(
      Repository repo,
      Counters counters,
      int workers,
      java.util.function.Predicate<Path> skip,
      Finisher finish) {
    this.skip = skip;
    this.finish = finish;
    this.repo = repo;
    this.counters = counters;
    this.workers = workers;
    this.writer = repo.writer(counters.bytesStored::addAndGet);
    this.pool =
        Executors.newFixedThreadPool(
            workers, r -> Thread.ofPlatform().daemon().name("backup-read").unstarted(r));
    int size = 2 * repo.chunker().max();
    this.buffers = ThreadLocal.withInitial(() -> new byte[size]);
  }

  /** What a backup made, and what it could not read (vanished or unreadable files). */
  public record Result(Snapshot snapshot, List<String> warnings) {}

  /**
   * Backs up paths for service as a new snapshot.
   *
   * @param parent the snapshot to compare with (unchanged files are not read), or null
   */
  public static Result backup(
      Repository repo,
      String service,
      List<Path> paths,
      List<String> tags,
      Snapshot parent,
      Counters counters)
      throws IOException {
    return backup(repo, service, paths, tags, parent, counters, p -> false, s -> s);
  }

  /** Completes a snapshot before it is saved (after every file was read). */
  @FunctionalInterface
  public interface Finisher {
    Snapshot finish(Snapshot s) throws IOException;
  }

  /**
   * Backs up paths, leaving out what skip says (checked for every entry below a path), and lets
   * finish complete the snapshot once every file is read.
   */
  public static Result backup(
      Repository repo,
      String service,
      List<Path> paths,
      List<String> tags,
      Snapshot parent,
      Counters counters,
      java.util.function.Predicate<Path> skip,
      Finisher finish)
      throws IOException {
    int workers = Math.max(2, Runtime.getRuntime().availableProcessors());
    long started = System.nanoTime();
    try (Lease lease = Lease.take(repo, false, "backup of " + service)) {
      Archiver a = new Archiver(repo, counters, workers, skip, finish);
      try {
        return a.run(service, paths, tags, parent, started);
      } finally {
        a.pool.shutdownNow();
        a.writer.close();
      }
    }
  }

  private Result run(
      String service, List<Path> paths, List<String> tags, Snapshot parent, long started)
      throws IOException {
    Map<String, Node> parentRoots = new HashMap<>();
    if (parent != null && parent.tree() != null) {
      for (Node n : repo.readTree(Id.parse(parent.tree())).nodes()) {
        parentRoots.put(n.name(), n);
      }
    }
    List<CompletableFuture<Node>> roots = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Path p : paths) {
      Path abs = p.toAbsolutePath().normalize();
      String name = abs.toString();
      if (names.contains(name)) {
        continue;
      }
      names.add(name);
      if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
        warnings.add(name + ": does not exist (skipped)");
        continue;
      }
      roots.add(walk(abs, name, parentRoots.get(name)));
    }
    Id root = tree(roots);
    writer.flush();
    long files = counters.files.get();
    Snapshot s =
        new Snapshot(
            null,
            repo.now(),
            service,
            Hosts.name(),
            names,
            root.hex(),
            parent == null ? null : parent.id(),
            tags == null || tags.isEmpty() ? null : List.copyOf(tags),
            new Snapshot.Summary(
                files,
                counters.dirs.get(),
                counters.bytes.get(),
                counters.bytesRead.get(),
                writer.bytesAdded(),
                writer.blobsAdded(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)),
            null);
    return new Result(repo.saveSnapshot(finish.finish(s)), List.copyOf(warnings));
  }

  private Id tree(List<CompletableFuture<Node>> children) throws IOException {
    List<Node> nodes = new ArrayList<>();
    for (CompletableFuture<Node> f : children) {
      Node n = Workers.get(f);
      if (n != null) {
        nodes.add(n);
      }
    }
    return storeTree(nodes);
  }

  private Id storeTree(List<Node> nodes) throws IOException {
    nodes.sort(Comparator.comparing(Node::name));
    byte[] json = Repository.JSON.writeValueAsBytes(new Tree(nodes));
    return writer.add(true, json, 0, json.length);
  }

  private CompletableFuture<Node> walk(Path p, String name, Node before) throws IOException {
    Map<String, Object> a;
    try {
      a = Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException gone) {
      warnings.add(p + ": vanished during the backup (skipped)");
      return CompletableFuture.completedFuture(null);
    } catch (IOException e) {
      warnings.add(p + ": " + e.getMessage() + " (skipped)");
      return CompletableFuture.completedFuture(null);
    }
    int mode = (Integer) a.get("mode");
    int kind = mode & 0170000;
    long mtime = nanos((FileTime) a.get("lastModifiedTime"));
    long ctime = nanos((FileTime) a.get("ctime"));
    long ino = ((Number) a.get("ino")).longValue();
    long dev = ((Number) a.get("dev")).longValue();
    long size = ((Number) a.get("size")).longValue();
    int uid = (Integer) a.get("uid");
    int gid = (Integer) a.get("gid");
    int perm = mode & 07777;
    if (kind == 0120000) {
      String target = Files.readSymbolicLink(p).toString();
      counters.files.incrementAndGet();
      return CompletableFuture.completedFuture(
          new Node(name, Node.SYMLINK, perm, uid, gid, mtime, 0, 0, 0, 0, null, null, target));
    }
    if (kind == 0040000) {
      Node dir = new Node(name, Node.DIR, perm, uid, gid, mtime, 0, 0, 0, 0, null, null, null);
      return directory(p, dir, before);
    }
    if (kind != 0100000) {
      warnings.add(p + ": not a file, directory or symlink (skipped)");
      return CompletableFuture.completedFuture(null);
    }
    Node file =
        new Node(name, Node.FILE, perm, uid, gid, mtime, ctime, ino, dev, size, null, null, null);
    counters.bytes.addAndGet(size);
    if (file.sameFile(before)
        && before.content().stream().allMatch(c -> writer.known(Id.parse(c)))) {
      counters.files.incrementAndGet();
      return CompletableFuture.completedFuture(file.withContent(before.content()));
    }
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return read(p, file);
          } catch (NoSuchFileException | java.nio.file.AccessDeniedException e) {
            return skipped(p, e);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          } finally {
            counters.files.incrementAndGet();
          }
        },
        pool);
  }

  /**
   * A directory: read (with its parent snapshot's listing) on a worker, its entries walked from
   * there, its tree stored once they are all done. Nothing waits on a worker, so directories are
   * walked in parallel without any thread blocking another.
   */
  private CompletableFuture<Node> directory(Path p, Node dir, Node before) {
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return entries(p, before);
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            pool)
        .thenCompose(
            children -> {
              if (children == null) {
                return CompletableFuture.completedFuture(null);
              }
              counters.dirs.incrementAndGet();
              return CompletableFuture.allOf(children.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> {
                        List<Node> nodes = new ArrayList<>(children.size());
                        for (CompletableFuture<Node> c : children) {
                          Node n = c.join();
                          if (n != null) {
                            nodes.add(n);
                          }
                        }
                        try {
                          return dir.withSubtree(storeTree(nodes).hex());
                        } catch (IOException e) {
                          throw new UncheckedIOException(e);
                        }
                      });
            });
  }

  /** The walks of a directory's entries, or null when it vanished or cannot be read. */
  private List<CompletableFuture<Node>> entries(Path p, Node before) throws IOException {
    Map<String, Node> previous = new HashMap<>();
    if (before != null && Node.DIR.equals(before.type()) && before.subtree() != null) {
      try {
        for (Node n : repo.readTree(Id.parse(before.subtree())).nodes()) {
          previous.put(n.name(), n);
        }
      } catch (BackupException damaged) {
        // read everything again
      }
    }
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
      for (Path c : ds) {
        names.add(c.getFileName().toString());
      }
    } catch (NoSuchFileException | java.nio.file.AccessDeniedException e) {
      return skipped(p, e);
    }
    names.sort(null);
    List<CompletableFuture<Node>> children = new ArrayList<>(names.size());
    for (String e : names) {
      Path c = p.resolve(e);
      if (!skip.test(c)) {
        children.add(walk(c, e, previous.get(e)));
      }
    }
    return children;
  }

  private Node read(Path p, Node file) throws IOException {
    Chunker chunker = repo.chunker();
    byte[] buf = buffers.get();
    List<String> content = new ArrayList<>();
    long total = 0;
    try (InputStream in = Files.newInputStream(p)) {
      int start = 0;
      int end = 0;
      boolean eof = false;
      while (true) {
        if (!eof && buf.length - start < chunker.max()) {
          System.arraycopy(buf, start, buf, 0, end - start);
          end -= start;
          start = 0;
        }
        while (!eof && end < buf.length && end - start < chunker.max()) {
          int n = in.read(buf, end, buf.length - end);
          if (n < 0) {
            eof = true;
          } else {
            end += n;
            counters.bytesRead.addAndGet(n);
          }
        }
        if (end == start) {
          break;
        }
        int c = chunker.cut(buf, start, end - start);
        content.add(writer.add(false, buf, start, c).hex());
        total += c;
        start += c;
      }
    }
    return new Node(
        file.name(),
        file.type(),
        file.mode(),
        file.uid(),
        file.gid(),
        file.mtime(),
        file.ctime(),
        file.inode(),
        file.dev(),
        total,
        content,
        null,
        null);
  }

  /** Records why a file or directory was left out (it vanished, or may not be read); null. */
  private <T> T skipped(Path p, IOException e) {
    warnings.add(
        p
            + (e instanceof NoSuchFileException
                ? ": vanished during the backup (skipped)"
                : ": permission denied (skipped)"));
    return null;
  }

  static long nanos(FileTime t) {
    return t.to(TimeUnit.NANOSECONDS);
  }
}
