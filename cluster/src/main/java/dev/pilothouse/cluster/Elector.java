package dev.pilothouse.cluster;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.cluster.LeaseStore;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon's part in electing the leader of the daemons that share a store (docs/scale-out.md).
 * Following, it tries to take the lease every {@code retry}; leading, it renews it every {@code
 * renew}. It stops acting — {@link Role#stepDown} — as soon as another holds the lease, and when no
 * renewal has succeeded for {@code stepDownAfter}, counted from the moment the last successful one
 * was <em>sent</em>: that renewal's lease, by the database's clock, cannot have ended sooner than
 * {@code lease} after it, so the old leader has stopped before any follower may take over, however
 * long the network or the database takes to answer. If stepping down itself has not finished by the
 * time the lease may end, the process halts (exit 75): a leader that cannot stop in time must not
 * act on.
 */
public final class Elector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Elector.class);

  /** Exit code of a daemon that halted because it could not step down in time. */
  public static final int HALTED = 75;

  /**
   * How long a lease runs, how often it is renewed and tried, and when a leader that cannot renew
   * stops. The defaults (a lease of 3 s, renewed every 750 ms, tried every 250 ms; a leader that
   * could not renew for 2.25 s stops) take over within 3.25 s of a leader's death, and leave a new
   * leader the rest of ten seconds to start (about 3.5 s here); client-go's (15 s, 10 s, 2 s) would
   * not.
   */
  public record Timing(Duration lease, Duration renew, Duration retry, Duration stepDownAfter) {
    public static final Timing DEFAULT =
        new Timing(
            Duration.ofSeconds(3),
            Duration.ofMillis(750),
            Duration.ofMillis(250),
            Duration.ofMillis(2250));

    public Timing {
      if (stepDownAfter.compareTo(lease) >= 0 || renew.compareTo(stepDownAfter) >= 0) {
        throw new IllegalArgumentException(
            "a leader must renew before it steps down, and step down before its lease ends");
      }
    }
  }

  /** What leading means to the daemon. */
  public interface Role {
    /**
     * Starts acting as the leader of term; returns once it does.
     *
     * @throws Exception when it cannot; the lease is released and taken again later
     */
    void lead(long term) throws Exception;

    /** Stops acting at once (without stopping what runs: the next leader adopts it). */
    void stepDown(String why);
  }

  private final LeaseStore leases;
  private final String id;
  private final String address;
  private final String site;
  private final Timing timing;
  private final Role role;
  private final LongSupplier nanos;
  private final Thread loop;
  private final Thread watchdog;
  private final CountDownLatch closed = new CountDownLatch(1);

  private volatile Optional<LeaseStore.Lease> known = Optional.empty();
  private volatile long term;
  private volatile boolean leading;
  private volatile long deadline; // System.nanoTime() by which a renewal must have succeeded
  private volatile String lastError = "";
  private volatile long backoffUntil;

  /**
   * An elector; {@link #start()} begins the loop.
   *
   * @param id this daemon's id (unique per process)
   * @param address where this daemon's API answers once it leads
   * @param site this daemon's host and state directory
   */
  public Elector(
      LeaseStore leases, String id, String address, String site, Timing timing, Role role) {
    this(leases, id, address, site, timing, role, System::nanoTime);
  }

  Elector(
      LeaseStore leases,
      String id,
      String address,
      String site,
      Timing timing,
      Role role,
      LongSupplier nanos) {
    this.leases = requireNonNull(leases, "leases");
    this.id = requireNonNull(id, "id");
    this.address = requireNonNull(address, "address");
    this.site = requireNonNull(site, "site");
    this.timing = requireNonNull(timing, "timing");
    this.role = requireNonNull(role, "role");
    this.nanos = nanos;
    this.backoffUntil = nanos.getAsLong();
    this.loop = Thread.ofPlatform().daemon().name("elector").unstarted(this::run);
    this.watchdog = Thread.ofPlatform().daemon().name("elector-watchdog").unstarted(this::watch);
  }

  public void start() {
    loop.start();
    watchdog.start();
  }

  /** The lease as this daemon last read it (empty before the first read, or if never held). */
  public Optional<LeaseStore.Lease> leader() {
    return known;
  }

  public boolean leading() {
    return leading;
  }

  /** The term this daemon leads, or last led. */
  public long term() {
    return term;
  }

  public String id() {
    return id;
  }

  /** Why the store could not be reached, the last time it could not (empty once it could). */
  public String lastError() {
    return lastError;
  }

  private void run() {
    while (closed.getCount() > 0) {
      try {
        if (leading) {
          renewOnce();
        } else {
          tryToLead();
        }
        lastError = "";
      } catch (LeaseStore.LeaseException e) {
        if (!e.getMessage().equals(lastError)) {
          log.warn("{}", e.getMessage());
        }
        lastError = e.getMessage();
      }
      pause(leading ? timing.renew() : timing.retry());
    }
  }

  private void tryToLead() {
    if (nanos.getAsLong() - backoffUntil < 0) {
      known = leases.current();
      return;
    }
    OptionalLong won = leases.acquire(id, address, site, timing.lease());
    long sent = nanos.getAsLong();
    if (won.isEmpty()) {
      known = leases.current();
      return;
    }
    term = won.getAsLong();
    deadline = sent + timing.stepDownAfter().toNanos();
    known = Optional.of(new LeaseStore.Lease(id, address, site, term, timing.lease()));
    leading = true;
    log.info("leading (term {}): starting every controller", term);
    long mine = term;
    // Started on a thread of its own: renewals go on while the daemon starts (which takes seconds).
    Thread.ofPlatform()
        .daemon()
        .name("lead-" + mine)
        .start(
            () -> {
              try {
                role.lead(mine);
              } catch (Exception e) {
                log.error(
                    "could not start leading (term {}): {}; letting the lease go",
                    mine,
                    e.toString());
                stop("starting failed");
                try {
                  leases.release(id, mine);
                } catch (LeaseStore.LeaseException ignored) {
                  // it runs out by itself
                }
                backoffUntil = nanos.getAsLong() + timing.lease().toNanos(); // another daemon first
              }
            });
  }

  private void renewOnce() {
    long sent = nanos.getAsLong();
    // A failure is reported by the loop; the watchdog steps down once the deadline passes.
    boolean ours = leases.renew(id, term, timing.lease());
    if (!ours) {
      stop("another daemon holds the lease now");
      return;
    }
    deadline = sent + timing.stepDownAfter().toNanos();
    known = Optional.of(new LeaseStore.Lease(id, address, site, term, timing.lease()));
  }

  private void watch() {
    while (closed.getCount() > 0) {
      if (leading && nanos.getAsLong() - deadline > 0) {
        stop(
            "the lease could not be renewed for "
                + human(timing.stepDownAfter())
                + (lastError.isEmpty() ? "" : " (" + lastError + ")"));
      }
      pause(Duration.ofMillis(100));
    }
  }

  /** Steps down, halting the process if that does not finish before the lease may end. */
  private synchronized void stop(String why) {
    if (!leading) {
      return;
    }
    leading = false;
    log.error("stepping down from term {}: {}", term, why);
    long grace = timing.lease().minus(timing.stepDownAfter()).toNanos();
    Thread t = Thread.ofPlatform().daemon().name("step-down").start(() -> role.stepDown(why));
    try {
      if (!t.join(Duration.ofNanos(grace))) {
        log.error(
            "stepping down did not finish within {} ms: halting, so that this daemon acts no"
                + " more",
            TimeUnit.NANOSECONDS.toMillis(grace));
        Runtime.getRuntime().halt(HALTED);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private void pause(Duration d) {
    try {
      closed.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the loop; a leader lets its lease go, so a follower takes over at once. Call it once the
   * role has stopped acting.
   */
  @Override
  public void close() {
    closed.countDown();
    if (leading) {
      leading = false;
      try {
        leases.release(id, term);
      } catch (LeaseStore.LeaseException e) {
        log.warn("could not let the lease go (it runs out by itself): {}", e.getMessage());
      }
    }
  }
}
