package dev.pilothouse.backup;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * PostgreSQL's write-ahead log in a repository: one file per WAL file (segment, timeline history,
 * backup history or partial segment) under {@code wal/}, named {@code service.walfile}, holding the
 * time it was archived and the file compressed with zstd, sealed with AES-256-GCM like everything
 * else. Archiving is idempotent (the same file again succeeds; a different one under a name already
 * archived is refused, as PostgreSQL asks of an archive_command).
 */
public final class WalArchive {
  private static final Pattern NAME =
      Pattern.compile("[0-9A-F]{24}(\\.partial|\\.[0-9A-F]{8}\\.backup)?|[0-9A-F]{8}\\.history");
  private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
  private static final int MAGIC = 0x50485731; // "PHW1"
  private static final int HEADER = 4 + 8 + 8;

  /** The largest WAL file archived (PostgreSQL's segments are at most 1 GiB). */
  static final long MAX_FILE = 1L << 30;

  private WalArchive() {}

  /** An archived WAL file: its name, and when it was archived. */
  public record Archived(String name, Instant archived, byte[] data) {}

  /** Whether name is one of PostgreSQL's WAL file names. */
  public static boolean valid(String name) {
    return NAME.matcher(name).matches();
  }

  static String object(String service, String name) {
    return service + "." + name;
  }

  /**
   * Archives the WAL file at path as name (PostgreSQL's %p and %f).
   *
   * @return false when the very same file was archived already (nothing written)
   * @throws BackupException when a different file of that name is archived already
   */
  public static boolean push(Repository repo, String service, Path path, String name)
      throws IOException {
    if (!valid(name)) {
      throw new BackupException(
          "'" + name + "' is not a WAL file name; archive_command must pass %f as the name");
    }
    long size = Files.size(path);
    if (size > MAX_FILE) {
      throw new BackupException(path + " is " + size + " bytes, more than a WAL file can be");
    }
    byte[] data = Files.readAllBytes(path);
    Backend b = repo.backend();
    String object = object(service, name);
    if (b.exists(Backend.Kind.WAL, object)) {
      byte[] there = open(repo, object).data();
      if (Arrays.equals(there, data)) {
        return false;
      }
      throw new BackupException(
          name
              + " is archived already for "
              + service
              + " with other content: is a second cluster archiving under the same service? (the"
              + " archived file is kept)");
    }
    byte[] packed = Zstd.compress(data, 3);
    ByteBuffer plain = ByteBuffer.allocate(HEADER + packed.length);
    plain.putInt(MAGIC).putLong(repo.now().toEpochMilli()).putLong(data.length).put(packed);
    b.put(Backend.Kind.WAL, object, repo.crypto().seal(plain.array()));
    return true;
  }

  /**
   * Writes the archived WAL file name to dest (PostgreSQL's restore_command %f and %p).
   *
   * @return false when the archive has no such file
   */
  public static boolean fetch(Repository repo, String service, String name, Path dest)
      throws IOException {
    if (!valid(name)) {
      return false;
    }
    Archived a;
    try {
      a = open(repo, object(service, name));
    } catch (NoSuchFileException none) {
      return false;
    }
    Path tmp = dest.resolveSibling(dest.getFileName() + ".pilothouse-tmp");
    Files.write(tmp, a.data());
    Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return true;
  }

  /** Reads and checks one archived file. */
  static Archived open(Repository repo, String object) throws IOException {
    byte[] sealed = repo.backend().get(Backend.Kind.WAL, object);
    byte[] plain;
    try {
      plain = repo.crypto().open(sealed);
    } catch (BackupException e) {
      throw new BackupException("wal/" + object + " is damaged: " + e.getMessage(), e);
    }
    ByteBuffer bb = ByteBuffer.wrap(plain);
    if (plain.length < HEADER || bb.getInt() != MAGIC) {
      throw new BackupException("wal/" + object + " is not an archived WAL file");
    }
    Instant at = Instant.ofEpochMilli(bb.getLong());
    long size = bb.getLong();
    if (size < 0 || size > MAX_FILE) {
      throw new BackupException("wal/" + object + " claims " + size + " bytes");
    }
    byte[] data = Zstd.decompress(Arrays.copyOfRange(plain, HEADER, plain.length), (int) size);
    if (data.length != size) {
      throw new BackupException("wal/" + object + " is damaged (length)");
    }
    return new Archived(object.substring(object.indexOf('.') + 1), at, data);
  }

  /** The names of a service's archived WAL files, sorted. */
  public static List<String> names(Backend b, String service) throws IOException {
    String prefix = service + ".";
    TreeSet<String> out = new TreeSet<>();
    for (Backend.Entry e : b.list(Backend.Kind.WAL)) {
      if (e.name().startsWith(prefix)) {
        out.add(e.name().substring(prefix.length()));
      }
    }
    return new ArrayList<>(out);
  }

  /** A segment's timeline (the first 8 hex digits of its name). */
  static int timeline(String segment) {
    return Integer.parseUnsignedInt(segment.substring(0, 8), 16);
  }

  /** A segment's number, for segments of segmentBytes. */
  static long number(String segment, long segmentBytes) {
    long perId = 0x1_0000_0000L / segmentBytes;
    return Long.parseUnsignedLong(segment.substring(8, 16), 16) * perId
        + Long.parseUnsignedLong(segment.substring(16, 24), 16);
  }

  /** The name of segment number n on timeline. */
  static String segment(int timeline, long n, long segmentBytes) {
    long perId = 0x1_0000_0000L / segmentBytes;
    return String.format("%08X%08X%08X", timeline, n / perId, n % perId);
  }

  /** The segment holding lsn ("X/Y"). */
  static String segmentOf(int timeline, String lsn, long segmentBytes) {
    return segment(timeline, lsn(lsn) / segmentBytes, segmentBytes);
  }

  /** An LSN ("16/B374D848") as a number. */
  public static long lsn(String lsn) {
    int slash = lsn.indexOf('/');
    if (slash <= 0) {
      throw new BackupException(
          "'" + lsn + "' is not an LSN; write it as PostgreSQL shows it, e.g. 0/3000060");
    }
    try {
      return (Long.parseUnsignedLong(lsn.substring(0, slash), 16) << 32)
          | Long.parseUnsignedLong(lsn.substring(slash + 1), 16);
    } catch (NumberFormatException e) {
      throw new BackupException(
          "'" + lsn + "' is not an LSN; write it as PostgreSQL shows it, e.g. 0/3000060");
    }
  }

  /**
   * The first segment missing after from (a segment name) among the archived names: segments of
   * every timeline from from's on count (a timeline goes on numbering where the one it branched
   * from stopped). Empty when the archive is whole from there to its newest segment.
   */
  public static Optional<String> firstGap(List<String> names, String from, long segmentBytes) {
    int tl = timeline(from);
    long start = number(from, segmentBytes);
    TreeSet<Long> have = new TreeSet<>();
    int newestTimeline = tl;
    for (String n : names) {
      if (SEGMENT.matcher(n).matches() && timeline(n) >= tl) {
        long k = number(n, segmentBytes);
        if (k >= start) {
          have.add(k);
          newestTimeline = Math.max(newestTimeline, timeline(n));
        }
      }
    }
    long expect = start;
    for (long k : have) {
      if (k != expect) {
        return Optional.of(segment(newestTimeline, expect, segmentBytes));
      }
      expect++;
    }
    if (have.isEmpty()) {
      return Optional.of(from);
    }
    return Optional.empty();
  }

  /** The newest archived segment (by number, then timeline), if any. */
  public static Optional<String> newestSegment(List<String> names, long segmentBytes) {
    String best = null;
    for (String n : names) {
      if (SEGMENT.matcher(n).matches()
          && (best == null
              || number(n, segmentBytes) > number(best, segmentBytes)
              || (number(n, segmentBytes) == number(best, segmentBytes)
                  && timeline(n) > timeline(best)))) {
        best = n;
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * Deletes a service's segments older than keepFrom (any timeline; partial and backup history
   * files too), keeping timeline history files.
   *
   * @return how many files were deleted
   */
  public static int expire(Backend b, String service, String keepFrom, long segmentBytes)
      throws IOException {
    long keep = number(keepFrom, segmentBytes);
    int deleted = 0;
    for (String n : names(b, service)) {
      if (n.endsWith(".history")) {
        continue;
      }
      if (number(n.substring(0, 24), segmentBytes) < keep) {
        b.delete(Backend.Kind.WAL, object(service, n));
        deleted++;
      }
    }
    return deleted;
  }
}
