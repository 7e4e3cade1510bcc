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

  /**
   * The largest WAL file archived: 64 MiB (PostgreSQL's default segment is 16 MiB; initdb
   * --wal-segsize allows up to 1 GiB, which would hold that much of the daemon's heap per file).
   */
  static final long MAX_FILE = 64L << 20;

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
      throw new BackupException(
          path
              + " is "
              + size
              + " bytes; Pilothouse archives WAL segments of at most 64 MiB (initdb"
              + " --wal-segsize 64 or less)");
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
   * A stretch of a timeline's history: the segments from beginSegment to endSegment (inclusive;
   * Long.MAX_VALUE for the timeline being followed) are read from this timeline.
   */
  public record Span(int timeline, long beginSegment, long endSegment) {}

  /**
   * The timelines a recovery following timeline reads, oldest first, from its history file (as
   * PostgreSQL writes it: one line per ancestor, "parent-timeline switch-LSN reason").
   */
  public static List<Span> lineage(Repository repo, String service, int timeline, long segmentBytes)
      throws IOException {
    List<Span> out = new ArrayList<>();
    long begin = 0;
    if (timeline > 1) {
      String history;
      try {
        history =
            new String(
                open(repo, object(service, String.format("%08X.history", timeline))).data(),
                java.nio.charset.StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw new BackupException(
            String.format("%08X.history", timeline)
                + " is not in the WAL archive of "
                + service
                + ": timeline "
                + timeline
                + " is unknown there");
      }
      for (String line : history.split("\n")) {
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) {
          continue;
        }
        String[] f = l.split("\\s+");
        long end = lsn(f[1]) / segmentBytes;
        out.add(new Span(Integer.parseInt(f[0]), begin, end));
        begin = end;
      }
    }
    out.add(new Span(timeline, begin, Long.MAX_VALUE));
    return out;
  }

  /** The newest timeline in a service's archive (history files and segments). */
  public static int newestTimeline(List<String> names) {
    int best = 1;
    for (String n : names) {
      if (SEGMENT.matcher(n).matches() || n.endsWith(".history")) {
        best = Math.max(best, timeline(n));
      }
    }
    return best;
  }

  /**
   * The first segment a recovery along lineage cannot find, from segment number from to through
   * (inclusive; -1: through the newest segment archived along it). A segment where a timeline
   * begins may come from it or from its parent, as PostgreSQL reads it. Empty when none is missing.
   */
  public static Optional<String> firstGap(
      List<String> names, List<Span> lineage, long from, long through, long segmentBytes) {
    java.util.Set<String> have = new java.util.HashSet<>(names);
    long last = through;
    if (last < 0) {
      last = from;
      for (String n : names) {
        if (SEGMENT.matcher(n).matches()) {
          long k = number(n, segmentBytes);
          for (Span sp : lineage) {
            if (sp.timeline() == timeline(n) && k >= sp.beginSegment() && k <= sp.endSegment()) {
              last = Math.max(last, k);
            }
          }
        }
      }
    }
    for (long k = from; k <= last; k++) {
      boolean found = false;
      for (Span sp : lineage) {
        if (k >= sp.beginSegment()
            && k <= sp.endSegment()
            && have.contains(segment(sp.timeline(), k, segmentBytes))) {
          found = true;
          break;
        }
      }
      if (!found) {
        int tl = lineage.get(lineage.size() - 1).timeline();
        for (Span sp : lineage) {
          if (k >= sp.beginSegment() && k < sp.endSegment()) {
            tl = sp.timeline();
            break;
          }
        }
        return Optional.of(segment(tl, k, segmentBytes));
      }
    }
    return Optional.empty();
  }

  /** The newest archived segment along lineage (the history a recovery follows), if any. */
  public static Optional<String> newestSegment(
      List<String> names, List<Span> lineage, long segmentBytes) {
    String best = null;
    long bestNumber = -1;
    for (String n : names) {
      if (!SEGMENT.matcher(n).matches()) {
        continue;
      }
      long k = number(n, segmentBytes);
      for (Span sp : lineage) {
        if (sp.timeline() == timeline(n)
            && k >= sp.beginSegment()
            && k <= sp.endSegment()
            && (k > bestNumber || (k == bestNumber && timeline(n) > timeline(best)))) {
          best = n;
          bestNumber = k;
        }
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
