package dev.pilothouse.core.chaos;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * A chaos experiment as its YAML file declares it: what to hit, with which faults, for how long,
 * and the steady state that must hold before, during and after (Chaos Toolkit's hypothesis).
 *
 * @param duration how long the faults stay injected (a kill happens once, at the start)
 * @param interval how often the probes are evaluated while the faults are in and after
 * @param recovery how long after the rollback the steady state has to come back
 * @param expect events the run must cause
 */
public record ChaosExperiment(
    String name,
    String description,
    Target target,
    List<Fault> faults,
    List<Probe> probes,
    Duration duration,
    Duration interval,
    Duration recovery,
    Abort abort,
    List<Expect> expect) {

  public ChaosExperiment {
    requireNonNull(name, "name");
    requireNonNull(target, "target");
    faults = List.copyOf(faults);
    probes = List.copyOf(probes);
    requireNonNull(duration, "duration");
    requireNonNull(interval, "interval");
    requireNonNull(recovery, "recovery");
    requireNonNull(abort, "abort");
    expect = List.copyOf(expect);
  }

  /**
   * An event the run must cause (an alert firing, a scale-out), by type and a text its message
   * contains; the run fails when it does not come by the end of the recovery time.
   */
  public record Expect(String event, String contains) {
    public Expect {
      requireNonNull(event, "event");
      requireNonNull(contains, "contains");
    }

    public boolean matches(String type, String message) {
      return type.equals(event) && message.contains(contains);
    }

    @Override
    public String toString() {
      return event + (contains.isEmpty() ? "" : " containing '" + contains + "'");
    }
  }

  /**
   * Which instances of which service are hit.
   *
   * @param count how many instances (0 when percent is given)
   * @param percent this share of the ready instances, rounded up (0 when count is given)
   * @param version only instances of this version; empty for any
   */
  public record Target(String service, int count, int percent, String version) {
    public Target {
      requireNonNull(service, "service");
      requireNonNull(version, "version");
    }

    /** How many of n instances are hit: at least one when n is not zero. */
    public int of(int n) {
      if (n == 0) {
        return 0;
      }
      if (percent > 0) {
        return Math.max(1, (int) Math.ceil(n * percent / 100.0));
      }
      return Math.min(n, count);
    }
  }

  /** One fault; each undoes itself in its rollback (a kill has nothing to undo). */
  public sealed interface Fault
      permits Fault.Kill,
          Fault.Pause,
          Fault.Http,
          Fault.Toxic,
          Fault.Cpu,
          Fault.Memory,
          Fault.DiskFill,
          Fault.Fds,
          Fault.Partition,
          Fault.Clock {
    /** The kind's name as the YAML writes it. */
    String kind();

    /** Whether it acts on instances (else on the service's route). */
    default boolean perInstance() {
      return true;
    }

    /** Whether it acts on every ready instance of the service, whatever the target says. */
    default boolean everyInstance() {
      return false;
    }

    /** SIGKILL, or SIGTERM when graceful (the instance's stop policy then applies). */
    record Kill(boolean graceful) implements Fault {
      @Override
      public String kind() {
        return "kill";
      }
    }

    /** SIGSTOP for the experiment's duration, SIGCONT at rollback. */
    record Pause() implements Fault {
      @Override
      public String kind() {
        return "pause";
      }
    }

    /**
     * L7 faults on the service's route in the load balancer.
     *
     * @param header when not empty, only requests carrying this header are hit
     */
    record Http(Duration delay, int delayPercent, int abortStatus, int abortPercent, String header)
        implements Fault {
      @Override
      public String kind() {
        return "http";
      }

      @Override
      public boolean perInstance() {
        return false;
      }
    }

    /**
     * L4 toxics between the load balancer and the instance (Toxiproxy's toxics).
     *
     * @param latency added to each chunk of data (from the moment it arrived)
     * @param jitter latency varies by up to plus or minus this
     * @param bandwidth bytes per second at most; 0 for no limit
     * @param sliceBytes when above 0, data is cut into pieces of about this size …
     * @param sliceDelay … sent this far apart
     * @param timeout when not null, data stops flowing; the connection is closed after this long
     *     (zero: held open until the rollback)
     * @param resetPeer connections are reset (RST) on arrival
     * @param slowClose a closing side's close reaches the other this much later
     * @param toxicity the share of connections (0–100) the toxics apply to
     * @param direction downstream (instance → load balancer), upstream or both
     */
    record Toxic(
        Duration latency,
        Duration jitter,
        long bandwidth,
        int sliceBytes,
        Duration sliceDelay,
        Duration timeout,
        boolean resetPeer,
        Duration slowClose,
        int toxicity,
        String direction)
        implements Fault {
      @Override
      public String kind() {
        return "toxic";
      }
    }

    /** Burns this many cores, counted as the instance's own CPU (as a stressor in its cgroup). */
    record Cpu(int cores) implements Fault {
      @Override
      public String kind() {
        return "cpu";
      }
    }

    /** Holds this much resident memory, counted as the instance's own. */
    record Memory(long bytes) implements Fault {
      @Override
      public String kind() {
        return "memory";
      }
    }

    /** Writes a file of this size into the service's data path (relative to its workdir). */
    record DiskFill(long bytes, String path) implements Fault {
      @Override
      public String kind() {
        return "disk";
      }
    }

    /**
     * Cuts the service off from its callers through the load balancer: from every caller, or only
     * from the instances of the services in {@code from} (a partition between services). {@code
     * reject} answers 503 at once (a refused connection), {@code blackhole} lets connections in and
     * never answers (lost packets: callers see timeouts).
     */
    record Partition(String mode, List<String> from) implements Fault {
      public Partition {
        from = List.copyOf(from);
      }

      @Override
      public String kind() {
        return "partition";
      }

      /** A black hole for every caller is a proxy in front of each instance; else a route fault. */
      @Override
      public boolean perInstance() {
        return mode.equals("blackhole") && from.isEmpty();
      }

      @Override
      public boolean everyInstance() {
        return perInstance();
      }
    }

    /**
     * Moves the instance's wall clock by this much (ahead when positive); its monotonic clock is
     * left alone. Needs an instance started with libfaketime (the spec's {@code chaos.clock}).
     */
    record Clock(Duration offset) implements Fault {
      @Override
      public String kind() {
        return "clock";
      }
    }

    /** Holds this many connections open to the instance: its file descriptors run out. */
    record Fds(int count) implements Fault {
      @Override
      public String kind() {
        return "fds";
      }
    }
  }

  /** When a probe is evaluated. */
  public enum Phase {
    BEFORE,
    DURING,
    AFTER
  }

  /**
   * A steady-state probe: a PromQL value within tolerance, an HTTP answer, or the count of ready
   * instances.
   *
   * @param query PromQL for PROMQL, the URL for HTTP, the service for READY
   * @param min the lowest value in tolerance, or null (HTTP: the status wanted)
   * @param max the highest value in tolerance, or null
   * @param weight its share of the resilience score
   */
  public record Probe(
      String name,
      Kind kind,
      String query,
      Double min,
      Double max,
      double weight,
      Set<Phase> phases,
      Duration timeout) {
    /** The kinds of probe. */
    public enum Kind {
      PROMQL,
      HTTP,
      READY
    }

    public Probe {
      requireNonNull(name, "name");
      requireNonNull(kind, "kind");
      requireNonNull(query, "query");
      phases = Set.copyOf(phases);
      requireNonNull(timeout, "timeout");
    }

    /** Whether a value is within tolerance. */
    public boolean within(double v) {
      return !Double.isNaN(v) && (min == null || v >= min) && (max == null || v <= max);
    }

    /** The tolerance as text: {@code [0, 0.01]}, {@code >= 3}, {@code = 200}. */
    public String tolerance() {
      if (min != null && max != null) {
        return min.equals(max) ? "= " + fmt(min) : "[" + fmt(min) + ", " + fmt(max) + "]";
      }
      return min != null ? ">= " + fmt(min) : max != null ? "<= " + fmt(max) : "any";
    }

    private static String fmt(double d) {
      return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
  }

  /**
   * When the experiment stops early (its rollbacks still run).
   *
   * @param probes during-probes whose failure aborts; empty for none
   * @param after an out-of-tolerance probe aborts after failing this many times in a row
   */
  public record Abort(List<String> probes, int after) {
    public Abort {
      probes = List.copyOf(probes);
    }

    public static final Abort NEVER = new Abort(List.of(), 1);
  }
}
