package dev.pilothouse.core.deploy;

import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Instant;

/** The backup taken before each deploy (port; the host implements it). */
public interface Backups {

  /**
   * What a backup did.
   *
   * @param dir where it was written
   * @param hookExit the pre-deploy hook's exit code, or null without a hook
   * @param message what happened, and on failure how to fix it
   */
  record Result(
      boolean ok,
      String dir,
      int files,
      long bytes,
      Integer hookExit,
      long durationMs,
      String message) {}

  /**
   * Backs up what previous needs before next (revision number revision) replaces it.
   *
   * @return what the backup did, or null when none was taken (as {@link #none()})
   */
  Result run(ServiceSpec previous, ServiceSpec next, long revision, Instant now);

  /** No backups: nothing is taken and nothing is reported. */
  static Backups none() {
    return (previous, next, revision, now) -> null;
  }
}
