package dev.pilothouse.core.spec;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Backups: the repositories declared once at the top level ({@code repositories:}) and each
 * service's plan ({@code backup:} and {@code recovery:} under the service). Not part of any
 * service's revision: changing a schedule or a retention policy never redeploys.
 *
 * @param repositories by name
 * @param plans one per service that declares {@code backup:}
 */
public record BackupSpec(Map<String, Repository> repositories, List<Plan> plans) {

  public BackupSpec {
    repositories = repositories == null ? Map.of() : Map.copyOf(repositories);
    plans = plans == null ? List.of() : List.copyOf(plans);
  }

  public static BackupSpec none() {
    return new BackupSpec(Map.of(), List.of());
  }

  public Optional<Plan> plan(String service) {
    return plans.stream().filter(p -> p.service().equals(service)).findFirst();
  }

  /**
   * A repository: where (a directory, or an S3-compatible bucket) and what opens it (a password
   * from a file or an environment variable of the daemon, or a key file). Secrets are never in the
   * spec itself, only where to read them.
   *
   * @param replicas repositories every snapshot is copied to after each backup ("another region")
   */
  public record Repository(
      String name,
      String path,
      S3 s3,
      String passwordFile,
      String passwordEnv,
      String keyFile,
      List<String> replicas) {
    public Repository {
      replicas = replicas == null ? List.of() : List.copyOf(replicas);
    }

    /** Where it is, for people: the directory or s3://bucket/prefix. */
    public String location() {
      return path != null
          ? path
          : "s3://" + s3.bucket() + "/" + (s3.prefix() == null ? "" : s3.prefix());
    }
  }

  /**
   * An S3-compatible bucket.
   *
   * @param endpoint the service's URL; empty for AWS itself
   * @param accessKeyEnv the daemon's environment variable holding the access key id
   * @param secretKeyEnv the daemon's environment variable holding the secret key
   * @param pathStyle address the bucket in the path (MinIO, s3proxy, Ceph) rather than the host
   */
  public record S3(
      String endpoint,
      String region,
      String bucket,
      String prefix,
      String accessKeyEnv,
      String secretKeyEnv,
      boolean pathStyle) {}

  /**
   * How many snapshots to keep (restic's forget policy); all zero keeps every snapshot.
   *
   * @param last the newest N
   * @param daily the newest of each of the last N days that have one
   */
  public record Keep(int last, int daily, int weekly, int monthly) {
    public static final Keep ALL = new Keep(0, 0, 0, 0);
  }

  /**
   * A service's backups.
   *
   * @param paths files and directories to back up (absolute, or relative to the service's workdir)
   * @param schedule a Unix cron expression in the daemon's time zone; null: only on demand
   * @param before a shell command run before (in the service's workdir; a failure aborts the
   *     backup), e.g. a database dump or a freeze
   * @param after a shell command run after, whatever happened (a thaw)
   * @param repository the name of a declared repository
   * @param rto the recovery time objective: a drill slower than this raises an alert; null: none
   * @param rpo the recovery point objective: newest restorable data older than this raises an
   *     alert; null: none
   * @param drill a Unix cron expression: when to run a disaster-recovery drill; null: on demand
   * @param postgres a PostgreSQL cluster backed up with base backups and archived WAL (paths is
   *     then its data directory); null: plain files
   */
  public record Plan(
      String service,
      List<String> paths,
      String schedule,
      Keep keep,
      String before,
      String after,
      String repository,
      Duration rto,
      Duration rpo,
      String drill,
      Postgres postgres) {
    public Plan {
      paths = List.copyOf(paths);
      keep = keep == null ? Keep.ALL : keep;
    }
  }

  /**
   * A PostgreSQL cluster on this host as a backup source: base backups of its data directory
   * (between {@code pg_backup_start} and {@code pg_backup_stop}, deduplicated against the previous
   * one) and its write-ahead log archived continuously by an {@code archive_command} that calls
   * Pilothouse, for point-in-time recovery.
   *
   * @param dataDir the cluster's data directory
   * @param host a host name or address, or the directory of its Unix socket
   * @param user a role allowed to run pg_backup_start/stop (a superuser also lets Pilothouse set
   *     archive_command itself)
   * @param passwordEnv the daemon's environment variable holding the role's password; null: none
   * @param maxArchiveLag WAL waiting longer than this to be archived raises an alert
   */
  public record Postgres(
      String dataDir,
      String host,
      int port,
      String user,
      String database,
      String passwordEnv,
      Duration maxArchiveLag) {
    public static final Duration DEFAULT_MAX_ARCHIVE_LAG = Duration.ofMinutes(5);
  }
}
