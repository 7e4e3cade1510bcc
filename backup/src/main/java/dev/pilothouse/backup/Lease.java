package dev.pilothouse.backup;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A lease on a repository instead of a lock: backups take shared leases, prune an exclusive one. A
 * lease names its holder and expires two minutes after its last renewal (renewed every 30 s while
 * its holder lives), so a holder killed with {@code kill -9} never leaves a lock behind that
 * someone must remove by hand (restic#3219); on the same host a lease whose process is gone is void
 * at once.
 */
public final class Lease implements AutoCloseable {
  static final Duration TTL = Duration.ofMinutes(2);
  static final Duration RENEW = Duration.ofSeconds(30);

  /** A lease as stored in {@code locks/}. */
  public record Info(
      boolean exclusive, String purpose, String host, long pid, Instant created, Instant expires) {
    boolean live(Instant now) {
      if (expires == null || !expires.isAfter(now)) {
        return false;
      }
      return !Hosts.name().equals(host)
          || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    String describe() {
      return purpose
          + " (pid "
          + pid
          + " on "
          + host
          + ", since "
          + created
          + ", void after "
          + expires
          + " unless renewed)";
    }
  }

  private final Repository repo;
  private final String name = UUID.randomUUID().toString();
  private final Info base;
  private final ScheduledExecutorService renewer;

  private Lease(Repository repo, boolean exclusive, String purpose) {
    this.repo = repo;
    Instant now = repo.now();
    this.base =
        new Info(
            exclusive, purpose, Hosts.name(), ProcessHandle.current().pid(), now, now.plus(TTL));
    this.renewer =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("lease-renew").unstarted(r));
  }

  /**
   * Takes a lease.
   *
   * @throws BackupException when a live lease conflicts (an exclusive one with anything; any with
   *     an exclusive one), naming its holder
   */
  public static Lease take(Repository repo, boolean exclusive, String purpose) throws IOException {
    Lease l = new Lease(repo, exclusive, purpose);
    l.write(l.base);
    try {
      l.checkConflicts();
    } catch (RuntimeException | IOException e) {
      l.release();
      throw e;
    }
    l.renewer.scheduleAtFixedRate(
        l::renew, RENEW.toMillis(), RENEW.toMillis(), TimeUnit.MILLISECONDS);
    return l;
  }

  private void checkConflicts() throws IOException {
    Instant now = repo.now();
    for (Backend.Entry e : repo.backend().list(Backend.Kind.LOCK)) {
      if (e.name().equals(name)) {
        continue;
      }
      Info other;
      try {
        other =
            Repository.JSON.readValue(repo.backend().get(Backend.Kind.LOCK, e.name()), Info.class);
      } catch (NoSuchFileException gone) {
        continue;
      } catch (IOException unreadable) {
        continue;
      }
      if (!other.live(now)) {
        repo.backend().delete(Backend.Kind.LOCK, e.name());
        continue;
      }
      if (base.exclusive() || other.exclusive()) {
        throw new BackupException(
            "the repository at "
                + repo.backend().location()
                + " is in use by "
                + other.describe()
                + "; wait for it to finish");
      }
    }
  }

  private void write(Info info) throws IOException {
    repo.backend().put(Backend.Kind.LOCK, name, Repository.JSON.writeValueAsBytes(info));
  }

  private void renew() {
    try {
      write(
          new Info(
              base.exclusive(),
              base.purpose(),
              base.host(),
              base.pid(),
              base.created(),
              repo.now().plus(TTL)));
    } catch (IOException | RuntimeException e) {
      // the next renewal tries again; the lease holds for TTL after the last success
    }
  }

  private void release() {
    renewer.shutdownNow();
    try {
      repo.backend().delete(Backend.Kind.LOCK, name);
    } catch (IOException e) {
      // expires by itself
    }
  }

  @Override
  public void close() {
    release();
  }
}
