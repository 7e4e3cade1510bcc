package dev.pilothouse.server;

import dev.pilothouse.backup.BackupService;
import dev.pilothouse.backup.Snapshot;
import dev.pilothouse.core.deploy.Backups;
import dev.pilothouse.core.spec.ServiceSpec;
import java.io.IOException;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * The backup before a deploy: for a service with a backup plan, first a snapshot of its data in its
 * repository (tagged {@code pre-deploy} and {@code revision=N}, so that {@code rollout undo
 * --with-data} can bring that data back), then what {@link HookBackups} does (the previous release,
 * declared data paths, the pre-deploy hook).
 */
final class SnapshotBackups implements Backups {
  private final HookBackups hooks;
  private final Supplier<BackupService> backups;

  SnapshotBackups(HookBackups hooks, Supplier<BackupService> backups) {
    this.hooks = hooks;
    this.backups = backups;
  }

  @Override
  public Result run(ServiceSpec previous, ServiceSpec next, long revision, Instant now) {
    BackupService b = backups.get();
    String snapshot = null;
    if (b != null && b.backups().plan(next.name()).isPresent()) {
      long t0 = System.nanoTime();
      try {
        Snapshot s = b.preDeploy(next.name(), revision);
        snapshot = s.shortId();
      } catch (IOException | RuntimeException e) {
        return new Result(
            false,
            "",
            0,
            0,
            null,
            (System.nanoTime() - t0) / 1_000_000,
            "the snapshot of " + next.name() + "'s data failed: " + e.getMessage());
      }
    }
    Result r = hooks.run(previous, next, revision, now);
    if (snapshot == null) {
      return r;
    }
    String also = "data in snapshot " + snapshot;
    if (r == null) {
      return new Result(true, "", 0, 0, null, 0, also);
    }
    return new Result(
        r.ok(),
        r.dir(),
        r.files(),
        r.bytes(),
        r.hookExit(),
        r.durationMs(),
        r.message() + "; " + also);
  }
}
