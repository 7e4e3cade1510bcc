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
    Summary summary) {

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

  public Snapshot withId(String newId) {
    return new Snapshot(newId, time, service, host, paths, tree, parent, tags, summary);
  }

  public String shortId() {
    return id == null ? null : id.substring(0, 8);
  }

  public boolean hasTag(String tag) {
    return tags != null && tags.contains(tag);
  }
}
