package dev.pilothouse.server;

import dev.pilothouse.core.runtime.ProcStat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The daemon yields the CPU to the data plane and the services it runs. On Linux with scheduler
 * autogroups (the default on Debian and Ubuntu kernels), each session is a scheduling group that
 * competes with the others as one; the daemon leads a session of its own (it is started with
 * setsid), and so do the load balancer and every instance it starts. Raising the nice value of the
 * daemon's group lowers its weight against theirs without touching theirs: when the CPU is short,
 * its ticks, compilations and scrapes wait a little, requests do not. Measured with the
 * load-balancer bench on one shared core: 3–5% more requests per second and a shorter p90 (1.5–1.6
 * ms instead of 1.7–2.1 ms), with the daemon doing the same work.
 *
 * <p>{@value #ENV} sets the nice value (0–19, default {@value #DEFAULT}; 0 leaves the group as it
 * is). A daemon that does not lead its session (run in a terminal's session or a container's)
 * leaves it alone, since the group is shared with whatever else runs there.
 */
final class CpuShare {
  static final String ENV = "PILOTHOUSE_DAEMON_NICE";
  static final int DEFAULT = 10;

  private CpuShare() {}

  /**
   * Lowers the weight of the daemon's scheduling group as {@value #ENV} asks.
   *
   * @param proc the proc file system ({@code /proc})
   * @param pid the daemon's pid
   * @return what was done, for the daemon's log
   */
  static String yieldToDataPlane(Map<String, String> env, Path proc, long pid) {
    String raw = env.getOrDefault(ENV, "").trim();
    int nice = DEFAULT;
    String note = "";
    if (!raw.isEmpty()) {
      try {
        nice = Integer.parseInt(raw);
      } catch (NumberFormatException e) {
        nice = -1;
      }
      if (nice < 0 || nice > 19) {
        note = ENV + "='" + raw + "' is not a nice value from 0 to 19: using " + DEFAULT + "; ";
        nice = DEFAULT;
      }
    }
    if (nice == 0) {
      return note + "CPU priority left as it is (" + ENV + "=0)";
    }
    Path group = proc.resolve("self/autogroup");
    if (!Files.isRegularFile(group)) {
      return note + "CPU priority left as it is: this kernel has no scheduler autogroups";
    }
    try {
      Path enabled = proc.resolve("sys/kernel/sched_autogroup_enabled");
      if (Files.isRegularFile(enabled) && Files.readString(enabled).trim().equals("0")) {
        return note
            + "CPU priority left as it is: scheduler autogroups are off"
            + " (kernel.sched_autogroup_enabled=0)";
      }
      long session =
          ProcStat.fields(proc.resolve("self/stat"))
              .map(f -> Long.parseLong(f[3]))
              .orElseThrow(() -> new IOException("cannot read " + proc.resolve("self/stat")));
      if (session != pid) {
        return note
            + "CPU priority left as it is: the daemon shares its caller's session (start it with"
            + " `pilothouse up`, which gives it one of its own)";
      }
      Files.writeString(group, Integer.toString(nice));
      return note
          + "scheduling group at nice "
          + nice
          + ": the load balancer and the instances keep the CPU when it is short ("
          + ENV
          + "=0 to leave it)";
    } catch (IOException | RuntimeException e) {
      return note
          + "CPU priority left as it is: cannot set the scheduling group's nice ("
          + e
          + ")";
    }
  }
}
