package dev.pilothouse.backup;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.pilothouse.core.spec.BackupSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * PostgreSQL point-in-time recovery: base backups of a cluster's data directory taken between
 * pg_backup_start and pg_backup_stop (stored as snapshots, deduplicated against the previous one),
 * and restores of one of them followed by the replay of the archived WAL up to a time, an LSN or a
 * named restore point.
 */
public final class PgBackups {
  /** The archive_command's configuration, written into the data directory (mode 0600). */
  static final String CONFIG = "pilothouse-wal.json";

  /** Directories whose contents a base backup leaves out (PostgreSQL rebuilds them). */
  private static final Set<String> CONTENTS_SKIPPED =
      Set.of(
          "pg_wal",
          "pg_replslot",
          "pg_dynshmem",
          "pg_notify",
          "pg_serial",
          "pg_snapshots",
          "pg_stat_tmp",
          "pg_subtrans");

  /** Files a base backup leaves out (they belong to the running server, not to the data). */
  private static final Set<String> FILES_SKIPPED =
      Set.of(
          "postmaster.pid",
          "postmaster.opts",
          "backup_label",
          "backup_label.old",
          "tablespace_map",
          "tablespace_map.old",
          "recovery.signal",
          "standby.signal",
          CONFIG);

  /** How long pg_backup_stop may wait for the WAL the backup needs to be archived. */
  static final int STOP_TIMEOUT_SECONDS = 600;

  static final String AUTO_CONF = "postgresql.auto.conf";
  private static final String MARK = "# pilothouse: point-in-time recovery";
  static final String[] RECOVERY_SETTINGS = {
    "restore_command",
    "recovery_target_time",
    "recovery_target_lsn",
    "recovery_target_name",
    "recovery_target",
    "recovery_target_action",
    "recovery_target_timeline"
  };

  private PgBackups() {}

  /**
   * Where a point-in-time restore stops: at most one of time, lsn, name; none of them: the end of
   * the archive (immediate: the base backup's consistent point only).
   *
   * @param timeline the timeline to follow; null: the newest in the archive (PostgreSQL's latest)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Target(String time, String lsn, String name, Boolean immediate, Integer timeline) {

    /**
     * Checks a target as given by a user.
     *
     * @throws BackupException saying what is wrong and how to write it
     */
    public Target {
      int given = (time != null ? 1 : 0) + (lsn != null ? 1 : 0) + (name != null ? 1 : 0);
      if (given > 1) {
        throw new BackupException("give one of --time, --lsn and --name, not several");
      }
      if (time != null) {
        instant(time);
      }
      if (lsn != null) {
        WalArchive.lsn(lsn);
      }
      if (name != null && (name.isBlank() || name.length() > 63)) {
        throw new BackupException("a restore point's name has 1 to 63 characters");
      }
    }

    static Instant instant(String time) {
      try {
        return OffsetDateTime.parse(time).toInstant();
      } catch (DateTimeParseException e) {
        throw new BackupException(
            "'"
                + time
                + "' is not a time with its offset; write e.g. 2026-11-30T07:10:00Z or"
                + " 2026-11-30T08:10:00+01:00");
      }
    }

    public boolean latest() {
      return time == null && lsn == null && name == null && !Boolean.TRUE.equals(immediate);
    }

    public String describe() {
      if (time != null) {
        return "time " + time;
      }
      if (lsn != null) {
        return "LSN " + lsn;
      }
      if (name != null) {
        return "restore point '" + name + "'";
      }
      return Boolean.TRUE.equals(immediate)
          ? "the end of the base backup"
          : "the end of the archived WAL";
    }
  }

  /** What a base backup leaves out of dataDir. */
  static Predicate<Path> skip(Path dataDir) {
    Path root = dataDir.toAbsolutePath().normalize();
    return p -> {
      String name = p.getFileName().toString();
      Path parent = p.getParent();
      if (parent != null
          && parent.getParent() != null
          && parent.getParent().equals(root)
          && CONTENTS_SKIPPED.contains(parent.getFileName().toString())) {
        return true;
      }
      if (parent != null && parent.equals(root) && FILES_SKIPPED.contains(name)) {
        return true;
      }
      return name.startsWith("pgsql_tmp") || name.equals("pg_internal.init");
    };
  }

  /** Takes a base backup of the cluster as a snapshot of its data directory. */
  static Archiver.Result baseBackup(
      Repository repo,
      String service,
      BackupSpec.Postgres pg,
      String password,
      List<String> tags,
      Snapshot parent,
      Archiver.Counters counters,
      Clock clock)
      throws IOException {
    Path dataDir = Path.of(pg.dataDir()).toAbsolutePath().normalize();
    try (PgCluster c = PgCluster.connect(pg, password)) {
      if (c.inRecovery()) {
        throw new BackupException(
            "the PostgreSQL at "
                + pg.host()
                + ":"
                + pg.port()
                + " is a standby or in recovery; back up the primary");
      }
      if ("off".equals(c.show("archive_mode"))) {
        throw new BackupException(
            "archive_mode is off in the PostgreSQL of "
                + service
                + ", and a base backup cannot be restored without its WAL: run 'ALTER SYSTEM SET"
                + " archive_mode = on' and restart it (Pilothouse sets archive_command itself)");
      }
      Path theirs = Path.of(c.show("data_directory"));
      if (!Files.isSameFile(theirs, dataDir)) {
        throw new BackupException(
            "services."
                + service
                + ".backup.postgres.dataDir is "
                + dataDir
                + ", but the PostgreSQL at "
                + pg.host()
                + ":"
                + pg.port()
                + " runs on "
                + theirs
                + "; give its data directory");
      }
      long segment = c.segmentBytes();
      String start = c.start("pilothouse " + service + " " + clock.instant());
      int timeline = c.timeline();
      String startWal = c.walFile(start);
      List<String> all = new ArrayList<>(tags == null ? List.of() : tags);
      all.add("postgres");
      return Archiver.backup(
          repo,
          service,
          List.of(dataDir),
          all,
          parent,
          counters,
          skip(dataDir),
          s -> {
            PgCluster.Stop stop;
            try {
              stop = c.stop(STOP_TIMEOUT_SECONDS);
            } catch (SQLException e) {
              throw new BackupException(
                  "pg_backup_stop failed or waited more than "
                      + STOP_TIMEOUT_SECONDS
                      + " s for the WAL to be archived ("
                      + e.getMessage()
                      + "); check that archiving works (SELECT * FROM pg_stat_archiver) —"
                      + " nothing was saved",
                  e);
            }
            if (stop.tablespaceMap() != null && !stop.tablespaceMap().isBlank()) {
              throw new BackupException(
                  "the cluster has tablespaces outside its data directory, which Pilothouse does"
                      + " not back up yet; nothing was saved");
            }
            try {
              return s.withPostgres(
                  new Snapshot.Postgres(
                      timeline,
                      start,
                      stop.lsn(),
                      startWal,
                      c.walFile(stop.lsn()),
                      segment,
                      stop.label(),
                      clock.instant()));
            } catch (SQLException e) {
              throw new BackupException("reading the backup's end: " + e.getMessage(), e);
            }
          });
    } catch (SQLException e) {
      throw new BackupException(
          "the base backup of " + service + " failed in PostgreSQL: " + e.getMessage(), e);
    }
  }

  /**
   * The base backup to restore for a target: the one given, or the newest that ended before the
   * target (any, for a restore point, whose place in time is not known before replaying).
   */
  static Snapshot choose(Repository repo, String service, Target t, String snapshotId)
      throws IOException {
    if (snapshotId != null) {
      Snapshot s = repo.snapshot(snapshotId, service);
      if (s.postgres() == null) {
        throw new BackupException(
            "snapshot " + s.shortId() + " is not a PostgreSQL base backup (a plain copy of files)");
      }
      if (t.time() != null && Target.instant(t.time()).isBefore(s.postgres().stopTime())) {
        throw new BackupException(
            "base backup "
                + s.shortId()
                + " ended at "
                + s.postgres().stopTime()
                + ", after "
                + t.time()
                + "; choose an older --snapshot, or none");
      }
      return s;
    }
    Snapshot best = null;
    for (Snapshot s : repo.snapshots()) {
      if (!service.equals(s.service()) || s.postgres() == null) {
        continue;
      }
      boolean before =
          t.time() != null
              ? !Target.instant(t.time()).isBefore(s.postgres().stopTime())
              : t.lsn() == null
                  || WalArchive.lsn(s.postgres().stopLsn()) <= WalArchive.lsn(t.lsn());
      if (before && (best == null || s.postgres().stopTime().isAfter(best.postgres().stopTime()))) {
        best = s;
      }
    }
    if (best == null) {
      throw new BackupException(
          "no base backup of "
              + service
              + " ended before "
              + t.describe()
              + "; 'pilothouse backup list "
              + service
              + "' shows them");
    }
    return best;
  }

  /**
   * A service's archived WAL as a restore sees it: every name, and the timelines a recovery to the
   * target follows (read once, for the gap check and the staging).
   */
  record Wal(List<String> names, List<WalArchive.Span> lineage) {}

  static Wal follow(Repository repo, String service, Snapshot base, Target t) throws IOException {
    List<String> names = WalArchive.names(repo.backend(), service);
    int timeline = t.timeline() != null ? t.timeline() : WalArchive.newestTimeline(names);
    return new Wal(
        names, WalArchive.lineage(repo, service, timeline, base.postgres().segmentBytes()));
  }

  /**
   * Checks that the archive holds the WAL from the base backup's start to the target.
   *
   * @throws BackupException naming the first missing segment and the newest point reachable
   */
  static void checkWal(Repository repo, String service, Snapshot base, Target t, Wal wal)
      throws IOException {
    Snapshot.Postgres pg = base.postgres();
    long bytes = pg.segmentBytes();
    List<String> names = wal.names();
    List<WalArchive.Span> lineage = wal.lineage();
    long from = WalArchive.number(pg.startWal(), bytes);
    long through = t.lsn() != null ? WalArchive.lsn(t.lsn()) / bytes : -1;
    Optional<String> gap = WalArchive.firstGap(names, lineage, from, through, bytes);
    if (gap.isEmpty()) {
      return;
    }
    String missing = gap.get();
    long at = WalArchive.number(missing, bytes);
    if (at <= WalArchive.number(pg.stopWal(), bytes)) {
      throw new BackupException(
          "the WAL archive of "
              + service
              + " lacks "
              + missing
              + ", which base backup "
              + base.shortId()
              + " needs to be consistent: it cannot be restored; choose another --snapshot");
    }
    Instant reach = null;
    String before = null;
    for (String n : names) {
      if (n.length() == 24 && WalArchive.number(n, bytes) == at - 1) {
        Instant a = WalArchive.open(repo, WalArchive.object(service, n)).archived();
        if (reach == null || a.isAfter(reach)) {
          reach = a;
          before = n;
        }
      }
    }
    boolean reachable =
        (t.time() != null && reach != null && !Target.instant(t.time()).isAfter(reach))
            || Boolean.TRUE.equals(t.immediate());
    if (!reachable) {
      throw new BackupException(
          "the WAL archive of "
              + service
              + " has a gap: "
              + missing
              + " is missing, so a restore can reach only the end of "
              + (before == null ? "the segment before it" : before)
              + (reach == null ? "" : " (archived at " + reach + ")")
              + ", not "
              + t.describe()
              + "; restore to a --time or --lsn before it, and take a new base backup now");
    }
  }

  /**
   * Makes a restored data directory recover to the target when PostgreSQL starts: its backup_label,
   * the directories a base backup leaves empty, recovery.signal and the recovery settings.
   *
   * @param restoreCommand PostgreSQL's restore_command (fetching WAL from the archive)
   * @param archiveOff turn archiving off in this copy (a drill's, which must not archive)
   */
  static void prepare(
      Path dataDir, Snapshot base, Target t, String restoreCommand, boolean archiveOff)
      throws IOException {
    Owner owner = Owner.of(dataDir);
    owner.write(dataDir.resolve("backup_label"), base.postgres().label());
    for (String d : CONTENTS_SKIPPED) {
      owner.mkdir(dataDir.resolve(d));
    }
    owner.mkdir(dataDir.resolve("pg_wal").resolve("archive_status"));
    owner.write(dataDir.resolve("recovery.signal"), "");
    StringBuilder b = new StringBuilder();
    Path auto = dataDir.resolve(AUTO_CONF);
    if (Files.exists(auto)) {
      b.append(Files.readString(auto, StandardCharsets.UTF_8));
      if (!b.isEmpty() && b.charAt(b.length() - 1) != '\n') {
        b.append('\n');
      }
    }
    b.append(MARK).append(" (removed once it is done)\n");
    b.append("restore_command = ").append(quote(restoreCommand)).append('\n');
    if (t.time() != null) {
      // PostgreSQL reads neither ISO 8601's T nor its Z here
      String utc =
          java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS")
                  .format(Target.instant(t.time()).atOffset(java.time.ZoneOffset.UTC))
              + "+00";
      b.append("recovery_target_time = ").append(quote(utc)).append('\n');
    } else if (t.lsn() != null) {
      b.append("recovery_target_lsn = ").append(quote(t.lsn())).append('\n');
    } else if (t.name() != null) {
      b.append("recovery_target_name = ").append(quote(t.name())).append('\n');
    } else if (Boolean.TRUE.equals(t.immediate())) {
      b.append("recovery_target = 'immediate'\n");
    }
    b.append("recovery_target_action = 'promote'\n");
    b.append("recovery_target_timeline = ")
        .append(quote(t.timeline() == null ? "latest" : Integer.toString(t.timeline())))
        .append('\n');
    if (archiveOff) {
      // a command line's archive_mode=on wins over this file: no archive_command either
      b.append("archive_mode = 'off'\n");
      b.append("archive_command = ''\n");
    }
    owner.write(auto, b.toString());
  }

  /** Where a restore puts the WAL it fetched ahead of PostgreSQL, inside pg_wal. */
  static final String STAGED = "pilothouse-restore";

  /** How many WAL segments a restore fetches ahead (16 MiB each by default). */
  static final int STAGE_AHEAD = 32;

  /**
   * Fetches the first WAL segments a recovery will ask for (and the timeline history files) into
   * pg_wal/pilothouse-restore, with the list of every archived name: the restore_command then moves
   * a staged file in place, or answers "not archived" at once, and starts Pilothouse's CLI only for
   * the rest.
   *
   * @param ahead at most this many segments (a copy restored elsewhere gets all it needs: the CLI
   *     fetches only into the service's own data directory)
   * @return how many files were staged
   */
  static int stage(Repository repo, String service, Path dataDir, Snapshot base, Wal wal, int ahead)
      throws IOException {
    Owner owner = Owner.of(dataDir);
    Path dir = dataDir.resolve("pg_wal").resolve(STAGED);
    owner.mkdir(dir);
    long bytes = base.postgres().segmentBytes();
    List<String> names = wal.names();
    java.util.Set<String> have = new java.util.HashSet<>(names);
    List<WalArchive.Span> lineage = wal.lineage();
    List<String> wanted = new ArrayList<>();
    for (String n : names) {
      if (n.endsWith(".history")) {
        wanted.add(n); // PostgreSQL asks for them all when it picks a new timeline
      }
    }
    long k = WalArchive.number(base.postgres().startWal(), bytes);
    for (int staged = 0; staged < ahead; k++, staged++) {
      String found = null;
      for (int i = lineage.size() - 1; i >= 0 && found == null; i--) {
        WalArchive.Span sp = lineage.get(i);
        String name = WalArchive.segment(sp.timeline(), k, bytes);
        if (k >= sp.beginSegment() && k <= sp.endSegment() && have.contains(name)) {
          found = name;
        }
      }
      if (found == null) {
        break;
      }
      wanted.add(found);
    }
    for (String n : wanted) {
      owner.write(dir.resolve(n), WalArchive.open(repo, WalArchive.object(service, n)).data());
    }
    owner.write(dir.resolve("archived"), String.join("\n", names) + "\n");
    return wanted.size();
  }

  /** Removes what a restore staged once recovery is over. */
  static void unstage(Path dataDir) {
    Path dir = dataDir.resolve("pg_wal").resolve(STAGED);
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // left for the next restore, which empties it
    }
  }

  /**
   * PostgreSQL's restore_command: a staged file is copied in place (it may be asked for again); a
   * name the archive does not hold fails at once; anything else is fetched by the CLI.
   */
  static String restoreCommand(String fetch) {
    String d = "pg_wal/" + STAGED;
    return "if [ -f "
        + d
        + "/%f ]; then cp "
        + d
        + "/%f %p; elif [ -f "
        + d
        + "/archived ] && ! grep -qx %f "
        + d
        + "/archived; then exit 1; else "
        + fetch
        + "; fi";
  }

  static String quote(String s) {
    return "'" + s.replace("'", "''") + "'";
  }

  /**
   * Waits until the cluster has finished recovering (it accepts writes), then removes the recovery
   * settings.
   *
   * @throws BackupException when PostgreSQL stops, or recovery takes longer than limit
   */
  static void awaitRecovery(
      String service, BackupSpec.Postgres pg, String password, Path dataDir, Duration limit)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    long goneSince = -1;
    String last = "it did not answer";
    String postmaster = null;
    while (System.nanoTime() < deadline) {
      String now = postmasterPid(dataDir);
      if (postmaster == null) {
        postmaster = now;
      } else if (now != null && !now.equals(postmaster)) {
        throw stopped(service);
      }
      if (now == null) {
        if (goneSince < 0) {
          goneSince = System.nanoTime();
        } else if (System.nanoTime() - goneSince > Duration.ofSeconds(5).toNanos()) {
          throw stopped(service);
        }
      } else {
        goneSince = -1;
        try (PgCluster c = PgCluster.connect(pg, password)) {
          if (!c.inRecovery()) {
            unstage(dataDir);
            try {
              c.alterSystemReset(RECOVERY_SETTINGS);
            } catch (SQLException e) {
              // the settings are inert outside recovery; a superuser can remove them
              last = e.getMessage();
            }
            return;
          }
        } catch (BackupException | SQLException notYet) {
          last = notYet.getMessage();
        }
      }
      Thread.sleep(250);
    }
    throw new BackupException(
        "PostgreSQL of "
            + service
            + " did not finish recovering within "
            + limit.toMinutes()
            + " minutes ("
            + last
            + ")");
  }

  /**
   * Starts a service whose data directory was just prepared for recovery. When it does not come up
   * and recovery.signal is still there, PostgreSQL stopped before recovery finished (a target it
   * could not reach, or WAL it could not fetch), which says more than "keeps failing to start".
   */
  static void startRecovering(BackupService.Services services, String service, Path dataDir)
      throws Exception {
    try {
      services.start(service);
    } catch (BackupException e) {
      if (Files.exists(dataDir.resolve("recovery.signal"))) {
        throw stopped(service);
      }
      throw e;
    }
  }

  private static BackupException stopped(String service) {
    return new BackupException(
        "PostgreSQL stopped while recovering: a recovery target it could not reach (after an"
            + " earlier restore, the newest timeline may branch off before it: give --timeline,"
            + " see 'pilothouse wal status "
            + service
            + "'), or WAL it could not fetch; its log says which ('pilothouse logs "
            + service
            + "')");
  }

  /** The pid in postmaster.pid, or null when there is none. */
  private static String postmasterPid(Path dataDir) {
    try {
      List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
      return lines.isEmpty() ? null : lines.get(0).strip();
    } catch (IOException e) {
      return null;
    }
  }

  /** The age of the oldest WAL file waiting to be archived (zero when none waits). */
  static Duration archiveLag(Path dataDir, Instant now) {
    Path status = dataDir.resolve("pg_wal").resolve("archive_status");
    Instant oldest = null;
    try (var s = Files.newDirectoryStream(status, "*.ready")) {
      for (Path p : s) {
        Instant m = Files.getLastModifiedTime(p).toInstant();
        if (oldest == null || m.isBefore(oldest)) {
          oldest = m;
        }
      }
    } catch (IOException e) {
      return Duration.ZERO;
    }
    return oldest == null || oldest.isAfter(now) ? Duration.ZERO : Duration.between(oldest, now);
  }

  /** Files written into a data directory belong to its owner, and only they may read them. */
  record Owner(UserPrincipal user, GroupPrincipal group) {
    static Owner of(Path dir) throws IOException {
      var a = Files.getFileAttributeView(dir, PosixFileAttributeView.class).readAttributes();
      return new Owner(a.owner(), a.group());
    }

    void write(Path p, String text) throws IOException {
      write(p, text.getBytes(StandardCharsets.UTF_8));
    }

    void write(Path p, byte[] data) throws IOException {
      Path tmp = p.resolveSibling(p.getFileName() + ".pilothouse-tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.write(tmp, data, StandardOpenOption.TRUNCATE_EXISTING);
      own(tmp);
      Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    void mkdir(Path d) throws IOException {
      if (!Files.isDirectory(d)) {
        Files.createDirectories(
            d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        own(d);
      }
    }

    /** Gives p to the owner (user and group). */
    void own(Path p) throws IOException {
      PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class);
      if (!v.readAttributes().owner().equals(user)) {
        v.setOwner(user);
      }
      if (!v.readAttributes().group().equals(group)) {
        v.setGroup(group);
      }
    }
  }
}
