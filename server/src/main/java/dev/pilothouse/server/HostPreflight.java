package dev.pilothouse.server;

import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * The checks a deploy must pass before anything starts: disk and memory headroom, free ports, the
 * artifact and its checksum, healthy dependencies and freeze windows. (The spec's validity and the
 * deploy lock are checked by core.deploy.Deployments.)
 */
final class HostPreflight implements dev.pilothouse.core.deploy.Preflight {

  /** One check's outcome; message says what was found and, on failure, how to fix it. */
  private final Path stateDir;

  private final Supplier<List<ServiceStatus>> status;
  private final Supplier<Optional<Integer>> proxyPort;
  private final Supplier<OptionalLong> memAvailable;

  HostPreflight(
      Path stateDir,
      Supplier<List<ServiceStatus>> status,
      Supplier<Optional<Integer>> proxyPort,
      Supplier<OptionalLong> memAvailable) {
    this.stateDir = stateDir;
    this.status = status;
    this.proxyPort = proxyPort;
    this.memAvailable = memAvailable;
  }

  /** MemAvailable from /proc/meminfo, if readable. */
  static OptionalLong procMemAvailable() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemAvailable:")) {
          String[] parts = line.trim().split("\\s+");
          return OptionalLong.of(Long.parseLong(parts[1]) * 1024);
        }
      }
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /** Every check for deploying next; ignoreFreeze skips the freeze windows (an emergency fix). */
  @Override
  public List<Result> check(ServiceSpec next, Instant now, boolean ignoreFreeze) {
    return check(next, now, ignoreFreeze, true);
  }

  /**
   * As {@link #check(ServiceSpec, Instant, boolean)}; a service the spec runs in a cluster skips
   * this machine's memory and ports (its pods run there, and its traffic enters there).
   */
  @Override
  public List<Result> check(
      dev.pilothouse.core.spec.Spec spec, ServiceSpec next, Instant now, boolean ignoreFreeze) {
    boolean here = !spec.runtime().kubernetes() && spec.placement(next).isEmpty();
    return check(next, now, ignoreFreeze, here);
  }

  private List<Result> check(ServiceSpec next, Instant now, boolean ignoreFreeze, boolean here) {
    DeploySpec d = next.deploy();
    List<Result> out = new ArrayList<>();
    int fresh = newInstances(next);
    out.add(disk(d));
    if (here) {
      out.add(memory(next, d, fresh));
      out.add(ports(next, fresh));
    }
    if (!d.artifact().isEmpty()) {
      out.add(artifact(d));
    }
    for (String dep : d.dependsOn()) {
      out.add(dependency(dep));
    }
    out.add(freeze(d, now, ignoreFreeze));
    return out;
  }

  /** How many instances the deploy starts beside the running ones. */
  static int newInstances(ServiceSpec s) {
    return switch (s.plan()) {
      case Strategy.Rolling r -> Math.max(1, r.maxSurge().resolve(s.replicas(), true));
      case Strategy.Progressive p -> p.canaryReplicas();
    };
  }

  private Result disk(DeploySpec d) {
    try {
      long free = Files.getFileStore(stateDir).getUsableSpace();
      boolean ok = free >= d.minFreeDisk();
      return new Result(
          "disk",
          ok,
          mib(free)
              + " free in "
              + stateDir
              + (ok
                  ? ""
                  : ", less than the required "
                      + mib(d.minFreeDisk())
                      + "; free some space or lower deploy.minFreeDisk"));
    } catch (IOException e) {
      return new Result("disk", false, "cannot read free space of " + stateDir + ": " + e);
    }
  }

  private Result memory(ServiceSpec s, DeploySpec d, int fresh) {
    long need = d.minFreeMemory() + s.resources().memoryBytes() * fresh;
    if (need == 0) {
      return new Result("memory", true, "no memory declared (resources.memory)");
    }
    OptionalLong avail = memAvailable.get();
    if (avail.isEmpty()) {
      return new Result("memory", true, "available memory unknown on this system; not checked");
    }
    boolean ok = avail.getAsLong() >= need;
    return new Result(
        "memory",
        ok,
        mib(avail.getAsLong())
            + " available"
            + (ok
                ? ""
                : ", less than the "
                    + mib(need)
                    + " needed for "
                    + fresh
                    + " new instance"
                    + (fresh == 1 ? "" : "s")
                    + "; free memory, or lower resources.memory or deploy.minFreeMemory"));
  }

  private Result ports(ServiceSpec s, int fresh) {
    if (s.plan() instanceof Strategy.Progressive && proxyPort.get().isEmpty()) {
      return new Result(
          "ports",
          false,
          "the load balancer is not listening, so the new version cannot be smoke-tested or get"
              + " traffic; see 'pilothouse events' for why, or use a rolling strategy");
    }
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < fresh; i++) {
        held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
      }
      return new Result("ports", true, fresh + " free port" + (fresh == 1 ? "" : "s"));
    } catch (IOException e) {
      return new Result(
          "ports",
          false,
          "only " + held.size() + " of " + fresh + " free ports on loopback: " + e.getMessage());
    } finally {
      for (ServerSocket ss : held) {
        try {
          ss.close();
        } catch (IOException e) {
          // closing a probe socket cannot lose anything
        }
      }
    }
  }

  private static Result artifact(DeploySpec d) {
    Path p = Path.of(d.artifact());
    if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
      return new Result(
          "artifact", false, d.artifact() + " is missing; build or download it before deploying");
    }
    if (d.sha256().isEmpty()) {
      return new Result("artifact", true, d.artifact() + " present (no checksum declared)");
    }
    try {
      String actual = sha256(p);
      boolean ok = actual.equals(d.sha256());
      return new Result(
          "artifact",
          ok,
          ok
              ? d.artifact() + " matches sha256 " + actual.substring(0, 12) + "…"
              : d.artifact()
                  + " has sha256 "
                  + actual
                  + ", but the spec expects "
                  + d.sha256()
                  + "; rebuild it or update deploy.sha256");
    } catch (IOException e) {
      return new Result("artifact", false, "cannot read " + d.artifact() + ": " + e.getMessage());
    }
  }

  static String sha256(Path p) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private Result dependency(String dep) {
    Optional<ServiceStatus> s = status.get().stream().filter(x -> x.name().equals(dep)).findFirst();
    if (s.isEmpty()) {
      return new Result("dependency " + dep, false, dep + " is not running; deploy it first");
    }
    boolean ok = s.get().readyReplicas() > 0;
    return new Result(
        "dependency " + dep,
        ok,
        dep
            + " has "
            + s.get().readyReplicas()
            + " ready instance"
            + (s.get().readyReplicas() == 1 ? "" : "s")
            + (ok ? "" : "; fix it first ('pilothouse status " + dep + "')"));
  }

  private static Result freeze(DeploySpec d, Instant now, boolean ignore) {
    for (DeploySpec.FreezeWindow w : d.freeze()) {
      if (w.covers(now)) {
        return ignore
            ? new Result("freeze", true, "in freeze window " + w.describe() + ", overridden")
            : new Result(
                "freeze",
                false,
                "deploys are frozen: "
                    + w.describe()
                    + "; wait, or pass --ignore-freeze for an emergency fix");
      }
    }
    return new Result("freeze", true, "no freeze window now");
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB";
  }
}
