package dev.pilothouse.server;

import dev.pilothouse.client.DaemonInfo;
import dev.pilothouse.client.Wire;
import dev.pilothouse.cluster.Elector;
import dev.pilothouse.cluster.FollowerApi;
import dev.pilothouse.core.cluster.LeaseStore;
import dev.pilothouse.store.PostgresLease;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon whose state is in PostgreSQL: one of possibly several sharing that database (and, with
 * instances run as local processes, this state directory). It follows — answering who leads and
 * forwarding every other API call to the leader — until it wins the lease; then it starts as the
 * daemon, its store fenced by its term; when it loses the lease it stops acting (instances and the
 * load balancer run on, for the next leader to adopt) and follows again (docs/scale-out.md).
 */
final class ClusterMode implements Elector.Role {
  private static final Logger log = LoggerFactory.getLogger(ClusterMode.class);

  private final Daemon.Options options;
  private final Daemon.StoreConfig store;
  private final String host;
  private final int port;
  private final Path followerFile;
  private final CountDownLatch done = new CountDownLatch(1);
  private Elector elector;
  private FollowerApi front;
  private Daemon daemon;
  private volatile boolean steppingDown;

  private ClusterMode(Daemon.Options options, Daemon.StoreConfig store, int port) {
    this.options = options;
    this.store = store;
    this.host = options.apiHost();
    this.port = port;
    this.followerFile =
        DaemonInfo.followersDir(options.stateDir())
            .resolve(ProcessHandle.current().pid() + ".json");
  }

  /**
   * Runs until stopped (SIGTERM, or {@code down} through the leader): follows, leads, follows.
   *
   * @throws Daemon.StartException when it cannot join (the API address is taken, or the lease is
   *     held by a daemon of another state directory)
   */
  static void run(Daemon.Options options, Daemon.StoreConfig store) throws InterruptedException {
    if (options.tls() != null) {
      throw new Daemon.StartException(
          2,
          "several daemons on PostgreSQL speak plain HTTP on loopback for now: a follower cannot"
              + " forward HTTPS yet; drop --tls/--tls-cert (docs/scale-out.md)",
          null);
    }
    FollowerApi front;
    try {
      try {
        front = FollowerApi.bind(options.apiHost(), options.apiPort());
      } catch (java.net.BindException e) {
        if (options.apiPortExplicit()) {
          throw e;
        }
        front = FollowerApi.bind(options.apiHost(), 0); // the default port is the leader's
      }
    } catch (IOException e) {
      throw new Daemon.StartException(
          3,
          "cannot listen on "
              + options.apiHost()
              + ":"
              + options.apiPort()
              + " ("
              + e.getMessage()
              + "); give another --api-port",
          e);
    }
    try { // a follower of its own state directory (another host) answers with that one's token
      StateDir dir = new StateDir(options.stateDir());
      dir.create();
      dir.token();
    } catch (IOException e) {
      front.close();
      throw new Daemon.StartException(
          3, "cannot write the API token in " + options.stateDir() + ": " + e.getMessage(), e);
    }
    ClusterMode m = new ClusterMode(options, store, front.port());
    m.front = front;
    String address = "http://" + hostForUrl(advertised(options.apiHost())) + ":" + front.port();
    String site = hostname() + ":" + options.stateDir().toAbsolutePath().normalize();
    PostgresLease leases =
        new PostgresLease(store.url(), store.user(), store.password(), Duration.ofSeconds(2));
    m.refuseOtherSite(leases, site);
    m.elector =
        new Elector(leases, UUID.randomUUID().toString(), address, site, Elector.Timing.DEFAULT, m);
    front.serve(m.elector, m::authorized);
    m.publish();
    log.info(
        "following at {} (site {}); the leader's lease is taken within seconds when free",
        address,
        site);
    Runtime.getRuntime().addShutdownHook(new Thread(m::shutdown, "shutdown"));
    m.elector.start();
    m.done.await();
    leases.close();
  }

  /**
   * With local processes, every daemon of one database must share the leader's directory; with a
   * cluster runtime the workloads live in the cluster, and daemons on any host may lead.
   */
  private void refuseOtherSite(PostgresLease leases, String site) {
    Optional<LeaseStore.Lease> l;
    try {
      l = leases.current();
      if (l.isPresent() && leases.newestRuntime().kubernetes()) {
        return;
      }
    } catch (LeaseStore.LeaseException e) {
      return; // the elector reports it and tries again
    }
    if (l.isPresent() && l.get().live() && !l.get().site().equals(site)) {
      throw new Daemon.StartException(
          2,
          "the daemon leading on this database runs at "
              + l.get().site()
              + "; instances are local processes, so every daemon of one database shares that"
              + " host and state directory (start this one with --state-dir there)",
          null);
    }
  }

  @Override
  public synchronized void lead(long term) throws Exception {
    steppingDown = false;
    if (front != null) {
      front.close();
      front = null;
    }
    Files.deleteIfExists(followerFile);
    Daemon.Leading leading = new Daemon.Leading(term, store, () -> view("leader"));
    daemon = Daemon.start(options.leading(leading, port));
    Daemon d = daemon;
    Thread.ofPlatform()
        .daemon()
        .name("leader-" + term)
        .start(
            () -> {
              try {
                d.awaitStop();
              } catch (InterruptedException e) {
                return;
              }
              if (!steppingDown) { // stopped through its API ('down'): the process ends
                elector.close();
                done.countDown();
              }
            });
  }

  @Override
  public synchronized void stepDown(String why) {
    steppingDown = true;
    Daemon d = daemon;
    daemon = null;
    if (d != null) {
      d.abandon(); // instances and the load balancer run on: the next leader adopts them
    }
    try {
      front = FollowerApi.bind(host, port).serve(elector, this::authorized);
      publish();
    } catch (IOException e) {
      log.error("cannot follow at {}:{} again ({}); stopping", host, port, e.getMessage());
      done.countDown();
    }
  }

  private synchronized void shutdown() {
    steppingDown = true;
    if (daemon != null) {
      daemon.stop(false);
      daemon = null;
    }
    if (front != null) {
      front.close();
    }
    if (elector != null) {
      elector.close(); // lets the lease go: a follower takes over at once
    }
    try {
      Files.deleteIfExists(followerFile);
    } catch (IOException e) {
      log.warn("could not remove {}: {}", followerFile, e.toString());
    }
    done.countDown();
  }

  private Wire.Leadership view(String role) {
    Wire.Leader leader =
        elector
            .leader()
            .filter(LeaseStore.Lease::live)
            .map(l -> new Wire.Leader(l.holder(), l.address(), l.site(), l.term()))
            .orElse(null);
    return new Wire.Leadership(elector.id(), role, leader, elector.lastError());
  }

  /** The follower answers who leads with the state directory's API token. */
  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    try {
      String token = DaemonInfo.readToken(options.stateDir());
      return MessageDigest.isEqual(
          token.getBytes(StandardCharsets.UTF_8),
          header.substring(7).trim().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code STATE/followers/PID.json}: where {@code up --standby} and {@code down} find it. */
  private void publish() {
    try {
      Files.createDirectories(followerFile.getParent());
      Path tmp = followerFile.resolveSibling(followerFile.getFileName() + ".tmp");
      Files.writeString(
          tmp,
          Api.JSON.writeValueAsString(
              new DaemonInfo(
                  ProcessHandle.current().pid(),
                  "http://" + hostForUrl(host) + ":" + port,
                  Instant.now().toString())));
      Files.move(
          tmp, followerFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.warn("could not publish {}: {}", followerFile, e.toString());
    }
  }

  /** Where the other daemons reach this one (PILOTHOUSE_ADVERTISE_HOST, e.g. a pod's IP). */
  static final String ADVERTISE_ENV = "PILOTHOUSE_ADVERTISE_HOST";

  /**
   * The host other daemons forward to: PILOTHOUSE_ADVERTISE_HOST when set, the host name when the
   * API listens on every address, else the address it listens on.
   */
  private static String advertised(String apiHost) {
    String env = System.getenv(ADVERTISE_ENV);
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    return apiHost.equals("0.0.0.0") || apiHost.equals("::") ? hostname() : apiHost;
  }

  private static String hostForUrl(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }
}
