package dev.pilothouse.client;

import java.util.List;
import java.util.Map;

/** The JSON bodies of the Pilothouse API. */
public final class Wire {
  private Wire() {}

  /** {@code GET /api/v1/status}. */
  public record Status(
      long pid,
      String version,
      String stateDir,
      String api,
      long revision,
      String startedAt,
      Proxy proxy,
      List<Service> services,
      Leadership leadership,
      List<ClusterProxy> clusterProxies) {
    /** A status without the proxies of a data plane in a cluster. */
    public Status(
        long pid,
        String version,
        String stateDir,
        String api,
        long revision,
        String startedAt,
        Proxy proxy,
        List<Service> services,
        Leadership leadership) {
      this(
          pid, version, stateDir, api, revision, startedAt, proxy, services, leadership, List.of());
    }

    public Status {
      clusterProxies = clusterProxies == null ? List.of() : List.copyOf(clusterProxies);
    }

    /** A status without leadership (one daemon on its SQLite file). */
    public Status(
        long pid,
        String version,
        String stateDir,
        String api,
        long revision,
        String startedAt,
        Proxy proxy,
        List<Service> services) {
      this(pid, version, stateDir, api, revision, startedAt, proxy, services, null);
    }
  }

  /**
   * Who leads the daemons that share a PostgreSQL store ({@code GET /api/v1/leader}).
   *
   * @param self the answering daemon's id
   * @param role leader or follower
   * @param leader the lease's holder, or null when none is live
   * @param storeError why the answering daemon cannot reach the store, or empty
   */
  public record Leadership(String self, String role, Leader leader, String storeError) {}

  /** The holder of the leader's lease: its id, API address, host and state directory, term. */
  public record Leader(String id, String address, String site, long term) {}

  /** The built-in load balancer: whether it listens, on which port, or why not. */
  /**
   * The load balancer process.
   *
   * @param pid its process id, 0 when none runs
   * @param version the route snapshot it serves (rises with every change the daemon pushes)
   * @param health serving, connecting, starting, failing (see error) or down
   * @param transport io_uring, epoll or nio
   * @param standbyPid the warmed-up process that takes over if it dies, 0 when none is ready
   */
  public record Proxy(
      boolean listening,
      int port,
      String error,
      long pid,
      long version,
      String health,
      String transport,
      long standbyPid) {}

  /**
   * One proxy of Pilothouse's data plane in a cluster ({@code runtime.dataPlane}).
   *
   * @param address its pod's address and control port
   * @param pid its process id in its pod, 0 before it answered
   * @param version the route snapshot it serves
   * @param connected whether the daemon reaches it now
   * @param error why it does not serve (cannot be reached, wrong token, cannot listen), or empty
   */
  public record ClusterProxy(
      String address, long pid, long version, boolean connected, String error) {}

  /** One service in a status. */
  public record Service(
      String name,
      String version,
      String state,
      int desiredReplicas,
      int readyReplicas,
      int generation,
      List<Instance> instances,
      Autoscale autoscale) {
    /** A service's status without autoscaling. */
    public Service(
        String name,
        String version,
        String state,
        int desiredReplicas,
        int readyReplicas,
        int generation,
        List<Instance> instances) {
      this(name, version, state, desiredReplicas, readyReplicas, generation, instances, null);
    }
  }

  /**
   * The autoscaler's state for one service in a status: its bounds, the count it chose and why.
   *
   * @param state scaling, stable, frozen, fallback or waiting
   */
  public record Autoscale(int min, int max, int desired, String state, String reason) {}

  /** One instance in a status. */
  public record Instance(
      String id,
      int slot,
      long pid,
      int port,
      String state,
      boolean ready,
      String startedAt,
      int restarts,
      String version) {}

  /** One recorded event. */
  public record Event(
      long seq,
      String at,
      String type,
      String service,
      String instance,
      String message,
      Map<String, String> fields,
      String hash) {}

  /** {@code POST /api/v1/apply} and {@code /api/v1/validate}. */
  public record ApplyRequest(
      String file,
      String yaml,
      String baseDir,
      Map<String, String> vars,
      String commit,
      String commitTime,
      boolean ignoreFreeze) {
    /** A plain apply: no commit information, freeze windows respected. */
    public ApplyRequest(String file, String yaml, String baseDir, Map<String, String> vars) {
      this(file, yaml, baseDir, vars, null, null, false);
    }
  }

  /** The answer to an apply. */
  public record ApplyResponse(long revision, boolean changed, List<String> changes) {}

  /** {@code POST /api/v1/services/NAME/scale}. */
  public record ScaleRequest(int replicas) {}

  /**
   * One region of a multi-region spec: its share of the traffic, where the traffic enters, the
   * cluster, and the services placed there.
   */
  public record Region(
      String name, int weight, String endpoint, String namespace, List<String> services) {}

  /** {@code POST /api/v1/regions/failover}: all of from's traffic to to (empty: to the others). */
  public record FailoverRequest(String from, String to) {}

  /** {@code POST /api/v1/regions/weights}: regions' new weights, 0–100. */
  public record WeightsRequest(Map<String, Integer> weights) {}

  /** One problem in a spec. */
  public record Problem(
      String file, int line, int column, String path, String message, String hint) {
    /**
     * {@code file:line:column: path: message (hint)}; without the place it does not have (a problem
     * found in an API body has no file, one of a whole file no line).
     */
    public String render() {
      String where =
          file == null || file.isEmpty()
              ? ""
              : line > 0 ? file + ":" + line + ":" + column + ": " : file + ": ";
      return where
          + (path.isEmpty() ? "" : path + ": ")
          + message
          + (hint.isEmpty() ? "" : " (" + hint + ")");
    }
  }

  /** Every error answer: what failed, how to fix it, and spec problems if any. */
  public record Error(String error, String hint, List<Problem> problems) {}

  /**
   * A rollout: phase (Progressing, Paused, Promoted, RolledBack), why, where, verdicts.
   *
   * @param step the index of the current step (0-based; steps once all have passed)
   * @param plan what each step does ("weight 10%", "analysis 20s", "pause until promoted")
   */
  public record Rollout(
      String service,
      String phase,
      String reason,
      String fromVersion,
      String toVersion,
      int step,
      int steps,
      int weight,
      String startedAt,
      List<Verdict> verdicts,
      String strategy,
      String previewHeader,
      List<String> passedGates,
      Verdict live,
      List<String> plan) {}

  /** The outcome of {@code events verify}: the first event that does not verify, if any. */
  public record ChainCheck(long events, boolean intact, Long firstBroken, String reason) {}

  /** One metric's verdict at the latest analysis. */
  public record Verdict(
      String metric, String outcome, Double pValue, Double effect, String reason) {}

  /** A generic acknowledgement. */
  public record Ack(String message) {}
}
