package dev.pilothouse.backup;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * A snapshot: the tree of what was backed up, when, for which service, and what it cost.
 *
 * @param id the snapshot file's name (SHA-256 of it); filled in when read, not stored
 * @param tree the root tree blob (hex): one node per backed-up path
 * @param parent the snapshot this one was taken against (unchanged files not read again)
 * @param tags free labels, such as {@code pre-deploy} or {@code revision=7}
 * @param postgres for a PostgreSQL base backup: where its write-ahead log begins and ends
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Snapshot(
    @JsonIgnore String id,
    Instant time,
    String service,
    String host,
    List<String> paths,
    String tree,
    String parent,
    List<String> tags,
    Summary summary,
    Postgres postgres) {

  /**
   * What a backup did.
   *
   * @param bytes the size of every file in the snapshot
   * @param bytesAdded new data stored (after deduplication and compression, before encryption)
   * @param bytesRead what was read from disk (unchanged files are not read)
   */
  public record Summary(
      long files,
      long dirs,
      long bytes,
      long bytesRead,
      long bytesAdded,
      long blobsAdded,
      long durationMs) {}

  /**
   * A PostgreSQL base backup: restorable once the write-ahead log from startWal through stopLsn is
   * replayed.
   *
   * @param timeline the cluster's timeline when the backup began
   * @param startWal the first WAL segment the backup needs
   * @param stopWal the segment holding stopLsn
   * @param segmentBytes the cluster's WAL segment size
   * @param label the backup_label pg_backup_stop returned (written back on restore)
   * @param stopTime when pg_backup_stop returned: the earliest time a restore can reach
   */
  public record Postgres(
      int timeline,
      String startLsn,
      String stopLsn,
      String startWal,
      String stopWal,
      long segmentBytes,
      String label,
      Instant stopTime) {}

  public Snapshot withId(String newId) {
    return new Snapshot(newId, time, service, host, paths, tree, parent, tags, summary, postgres);
  }

  public Snapshot withPostgres(Postgres pg) {
    return new Snapshot(id, time, service, host, paths, tree, parent, tags, summary, pg);
  }

  public String shortId() {
    return id == null ? null : id.substring(0, 8);
  }

  public boolean hasTag(String tag) {
    return tags != null && tags.contains(tag);
  }
}
