package dev.pilothouse.server;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.TrafficGate;
import dev.pilothouse.core.spec.ExperimentSpec;
import dev.pilothouse.core.spec.ProxySpec;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import dev.pilothouse.proxy.Backend;
import dev.pilothouse.proxy.BackendGroup;
import dev.pilothouse.proxy.Match;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RoutePolicy;
import dev.pilothouse.proxy.RouteTable;
import dev.pilothouse.proxy.control.ProxyHost;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Keeps the data plane in step with the desired spec and the observed instances: the load balancer
 * runs as its own process (see {@link ProxyHost}), and each reconcile tick pushes it a new snapshot
 * when the listener settings or the ready instances change. The proxy keeps serving its last
 * snapshot when this daemon dies; the next daemon re-adopts it.
 */
final class Traffic
    implements TrafficGate, TrafficSplitter, dev.pilothouse.core.chaos.RouteFaults, AutoCloseable {
  private final Path accessLog;
  private final ProxyHost host;
  private final Map<String, Split> splits = new java.util.concurrent.ConcurrentHashMap<>();
  // Chaos: faults on routes and instances sent through a toxic proxy; in memory only, so that a
  // restarted daemon's first table carries none of them.
  private final Map<String, Fault> chaosFaults = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, Integer> redirects = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean routed;
  // The last snapshot pushed and what it was made from (see sync).
  private Spec builtFrom;
  private List<ServiceStatus> builtStatus;
  private Overrides builtOverrides;
  private ProxyOptions builtOptions;
  private RouteTable builtTable;
  private final ClusterPlanes clusters = new ClusterPlanes();

  @Override
  public void split(String service, Split split) {
    splits.put(service, split);
  }

  @Override
  public void clear(String service) {
    splits.remove(service);
  }

  @Override
  public void routeFault(String service, Fault f) {
    if (!routed) {
      throw new IllegalStateException("no load balancer runs (the spec routes nothing)");
    }
    chaosFaults.put(service, f);
  }

  @Override
  public void clearRouteFault(String service) {
    chaosFaults.remove(service);
  }

  @Override
  public void redirect(String instanceId, int port) {
    if (!routed) {
      throw new IllegalStateException("no load balancer runs (the spec routes nothing)");
    }
    redirects.put(instanceId, port);
  }

  @Override
  public void clearRedirect(String instanceId) {
    redirects.remove(instanceId);
  }

  Traffic(Path stateDir, Path accessLog, EventSink events, InstantSource clock) {
    this(
        accessLog,
        new ProxyHost(
            stateDir.resolve("proxy.sock"),
            stateDir.resolve("proxy.pid"),
            accessLog.resolveSibling("proxy.log"),
            proxyCommand(),
            (type, message, fields) ->
                events.emit(new NewEvent(clock.instant(), type, "", "", message, fields)),
            // PILOTHOUSE_PROXY_STANDBY=0: no standby JVM (less memory, slower replacement).
            !"0".equals(System.getenv("PILOTHOUSE_PROXY_STANDBY"))));
  }

  /**
   * The proxy's command with a class-data archive of its own beside the jars (as the daemon's and
   * the CLI's): a proxy process starts on about two thirds of the CPU time, so a replaced one and
   * the standby are up sooner (0.73 s of CPU instead of 1.08 s here).
   */
  static java.util.List<String> proxyCommand() {
    java.util.List<String> cmd = new ArrayList<>(ProxyHost.javaCommand());
    cmd.addAll(
        1,
        dev.pilothouse.client.JvmOptions.classDataArchive(
            System.getProperty("java.class.path"), "proxy"));
    return cmd;
  }

  Traffic(Path accessLog, ProxyHost host) {
    this.accessLog = accessLog;
    this.host = host;
  }

  /** Brings the load balancer's listener and routes in line with spec and status. */
  synchronized void sync(Spec spec, List<ServiceStatus> status) {
    // A spec of one cluster runs nothing here: its traffic enters the cluster (its Service, its
    // Gateway or Pilothouse's own data plane there).
    if (!spec.routed() || spec.runtime().kubernetes() && spec.regions().isEmpty()) {
      if (routed) {
        host.stop();
        routed = false;
      }
      return;
    }
    routed = true;
    Overrides now =
        new Overrides(Map.copyOf(splits), Map.copyOf(chaosFaults), Map.copyOf(redirects));
    // The same spec (the same object: specs are immutable), instances and overrides make the
    // same snapshot: it is handed on as it was, not built and compared again on every tick.
    if (spec != builtFrom || !status.equals(builtStatus) || !now.equals(builtOverrides)) {
      builtOptions = options(spec.proxy());
      builtTable =
          withChaos(
              table(spec, status, now.splits()), faults(now.faults(), status), now.redirects());
      builtFrom = spec;
      builtStatus = status;
      builtOverrides = now;
    }
    host.sync(builtOptions, builtTable);
  }

  /** What rollouts and chaos lay over the spec's routes, as of one tick. */
  private record Overrides(
      Map<String, Split> splits, Map<String, Fault> faults, Map<String, Integer> redirects) {}

  private ProxyOptions options(ProxySpec ps) {
    return new ProxyOptions(
        ps.host(),
        ps.port(),
        0,
        ps.tlsCert().isEmpty() ? null : Path.of(ps.tlsCert()),
        ps.tlsKey().isEmpty() ? null : Path.of(ps.tlsKey()),
        ps.idleTimeout(),
        ps.accessLogSample() > 0 ? accessLog : null,
        ps.accessLogSample() > 0 ? ps.accessLogSample() : 1.0,
        ps.accessLogMaxSize(),
        ps.accessLogKeep(),
        ps.trustedProxies(),
        ps.bodyTimeout());
  }

  /**
   * Brings each cluster's Pilothouse data plane in line with the spec: the services placed in the
   * cluster routed to their pods, split as their rollouts say (pushed in the background, so a proxy
   * that does not answer never holds up the reconcile tick).
   */
  void syncClusters(Spec spec, List<dev.pilothouse.core.traffic.ClusterDataPlane> planes) {
    ProxyOptions o = clusterOptions(spec.proxy());
    clusters.sync(
        planes.stream()
            .map(
                p ->
                    new ClusterPlanes.Wanted(
                        p.endpoints(), o, table(p.spec(), p.status(), splits, false)))
            .toList());
  }

  /**
   * How a cluster's proxies listen: on every address of the pod at the traffic port, with the
   * spec's timeouts and trusted proxies; TLS ends at the cluster's load balancer or ingress, and
   * the access log is the daemon's own (the proxies' measurements come over the control channel).
   */
  private static ProxyOptions clusterOptions(ProxySpec ps) {
    return new ProxyOptions(
        "0.0.0.0",
        dev.pilothouse.core.traffic.DataPlaneEndpoint.LISTEN_PORT,
        0,
        null,
        null,
        ps.idleTimeout(),
        null,
        1.0,
        ps.accessLogMaxSize(),
        ps.accessLogKeep(),
        ps.trustedProxies(),
        ps.bodyTimeout());
  }

  static RouteTable table(Spec spec, List<ServiceStatus> status, Map<String, Split> splits) {
    return table(spec, status, splits, true);
  }

  /**
   * The routes of the spec's routed services; with regional, a service placed in regions is routed
   * to the regions' entries (the built-in load balancer), else to its instances (a region's own
   * data plane).
   */
  static RouteTable table(
      Spec spec, List<ServiceStatus> status, Map<String, Split> splits, boolean regional) {
    List<Route> routes = new ArrayList<>();
    for (ServiceSpec s : spec.services()) {
      RouteSpec r = s.route();
      if (r == null) {
        continue;
      }
      List<dev.pilothouse.core.spec.RegionSpec> placed = regional ? spec.placement(s) : List.of();
      if (!placed.isEmpty()) {
        // A service in regions: one group per region, its endpoint the one backend, weighted as
        // the spec (and a failover) say; each region splits further inside its cluster.
        routes.add(
            new Route(
                s.name(),
                r.host(),
                r.pathPrefix(),
                r.stripPrefix(),
                placed.stream()
                    .map(
                        g ->
                            new BackendGroup(
                                g.name(),
                                g.weight(),
                                List.of(
                                    new Backend(
                                        "region-" + g.name(),
                                        s.name(),
                                        s.version(),
                                        g.endpoint().getHost(),
                                        g.port(),
                                        1))))
                    .toList(),
                List.of(),
                "",
                policy(r, s),
                "",
                100));
        continue;
      }
      List<InstanceStatus> ready = ready(s.name(), status);
      Split split = splits.get(s.name());
      List<BackendGroup> groups;
      List<Match> matches = List.of();
      java.util.Optional<ExperimentSpec> experiment =
          spec.experiments().stream().filter(e -> e.service().equals(s.name())).findFirst();
      if (split == null && experiment.isPresent()) {
        // An A/B test: one group per variant, each of its own service's ready instances. (A
        // rollout of the service takes the route over until it ends.)
        ExperimentSpec e = experiment.get();
        routes.add(
            new Route(
                s.name(),
                r.host(),
                r.pathPrefix(),
                r.stripPrefix(),
                e.variants().stream()
                    .map(
                        v ->
                            new BackendGroup(
                                v.name(), v.weight(), variantBackends(e.serviceOf(v), status)))
                    .toList(),
                List.of(),
                "",
                policy(r, s),
                e.assignBy().isEmpty() ? "pilothouse-exp-" + e.name() : "",
                100,
                e.assignBy()));
        continue;
      }
      if (split == null) {
        groups = List.of(new BackendGroup("stable", 100, backends(s.name(), ready, i -> true)));
      } else {
        groups =
            new ArrayList<>(
                List.of(
                    new BackendGroup(
                        "stable",
                        100 - split.canaryWeight() - split.baselineWeight(),
                        backends(
                            s.name(),
                            ready,
                            i -> !i.template().startsWith(split.canaryTemplate()))),
                    new BackendGroup(
                        "canary",
                        split.canaryWeight(),
                        backends(
                            s.name(),
                            ready,
                            i -> i.template().startsWith(split.canaryTemplate())))));
        if (!split.baselineService().isEmpty()) {
          // Fresh stable instances taking as much traffic as the canary (Kayenta's baseline).
          groups.add(
              new BackendGroup(
                  "baseline",
                  split.baselineWeight(),
                  variantBackends(split.baselineService(), status)));
        }
        matches =
            split.rules().stream()
                .map(
                    rule ->
                        new Match(
                            rule.kind() == Split.Rule.Kind.HEADER
                                ? Match.Kind.HEADER
                                : Match.Kind.COOKIE,
                            rule.name(),
                            rule.value(),
                            "canary",
                            Match.Op.valueOf(rule.op().name())))
                .toList();
      }
      String mirror = split != null && split.mirrorPercent() > 0 ? "canary" : "";
      routes.add(
          new Route(
              s.name(),
              r.host(),
              r.pathPrefix(),
              r.stripPrefix(),
              groups,
              matches,
              mirror,
              policy(r, s),
              split != null && split.sticky() ? "pilothouse-" + s.name() : "",
              split == null ? 100 : Math.max(1, split.mirrorPercent())));
    }
    return RouteTable.of(routes);
  }

  /**
   * Chaos's route faults as the load balancer takes them: a fault's caller services become the
   * sessions of their instances now (each instance leads its own), so that a replaced caller is
   * still cut off with the next table.
   */
  static Map<String, RoutePolicy.Fault> faults(Map<String, Fault> faults, List<ServiceStatus> st) {
    Map<String, RoutePolicy.Fault> out = new java.util.HashMap<>();
    faults.forEach(
        (service, f) -> {
          List<Long> sessions =
              st.stream()
                  .filter(s -> f.callers().contains(s.name()))
                  .flatMap(s -> s.instances().stream())
                  .map(i -> i.pid())
                  .filter(pid -> pid > 0)
                  .sorted()
                  .toList();
          if (!f.callers().isEmpty() && sessions.isEmpty()) {
            return; // its callers run no instance now: nobody to cut off
          }
          out.put(
              service,
              new RoutePolicy.Fault(
                  f.delay(),
                  f.delayPercent(),
                  f.abortStatus(),
                  f.abortPercent(),
                  f.header(),
                  sessions,
                  f.silent()));
        });
    return out;
  }

  /**
   * The table with chaos's faults in place of the routes' own, and redirected instances' traffic
   * sent to their toxic proxies.
   */
  static RouteTable withChaos(
      RouteTable t, Map<String, RoutePolicy.Fault> faults, Map<String, Integer> redirects) {
    if (faults.isEmpty() && redirects.isEmpty()) {
      return t;
    }
    List<Route> routes = new ArrayList<>();
    for (Route r : t.routes()) {
      RoutePolicy p = r.policy();
      RoutePolicy.Fault f = faults.get(r.name());
      if (f != null) {
        p =
            new RoutePolicy(
                p.connectTimeout(),
                p.requestTimeout(),
                p.idleTimeout(),
                p.retries(),
                p.retryBudget(),
                p.minRetries(),
                p.balancing(),
                p.maxConnections(),
                p.maxPending(),
                p.maxRequests(),
                p.outlier(),
                p.rateLimit(),
                f,
                p.hold());
      }
      List<BackendGroup> groups =
          r.groups().stream()
              .map(
                  g ->
                      new BackendGroup(
                          g.name(),
                          g.weight(),
                          g.backends().stream()
                              .map(
                                  b ->
                                      redirects.containsKey(b.id())
                                          ? new Backend(
                                              b.id(),
                                              b.service(),
                                              b.version(),
                                              b.host(),
                                              redirects.get(b.id()),
                                              b.weight())
                                          : b)
                              .toList()))
              .toList();
      routes.add(
          new Route(
              r.name(),
              r.host(),
              r.pathPrefix(),
              r.stripPrefix(),
              groups,
              r.matches(),
              r.mirror(),
              p,
              r.stickyCookie(),
              r.mirrorPercent(),
              r.hashBy()));
    }
    return RouteTable.of(routes);
  }

  /** The ready, running instances of a service. */
  private static List<InstanceStatus> ready(String service, List<ServiceStatus> status) {
    return status.stream()
        .filter(st -> st.name().equals(service))
        .flatMap(st -> st.instances().stream())
        .filter(InstanceStatus::serving)
        .toList();
  }

  /** The ready instances of a companion service (a variant, a baseline), labelled as it. */
  private static List<Backend> variantBackends(String service, List<ServiceStatus> status) {
    return backends(service, ready(service, status), i -> true);
  }

  private static List<Backend> backends(
      String service,
      List<InstanceStatus> ready,
      java.util.function.Predicate<InstanceStatus> which) {
    return ready.stream()
        .filter(which)
        .map(i -> new Backend(i.id(), service, i.version(), i.host(), i.port(), 1))
        .toList();
  }

  /**
   * The load balancer's policy for a service's route; a service autoscaled down to zero has its
   * requests held while its first instance starts.
   */
  static RoutePolicy policy(RouteSpec r, ServiceSpec s) {
    var zero = s.autoscale() == null ? null : s.autoscale().scaleToZero();
    return new RoutePolicy(
        r.connectTimeout(),
        r.requestTimeout(),
        r.idleTimeout(),
        r.retries(),
        r.retryBudget(),
        3,
        r.loadBalancer().equals("round-robin")
            ? RoutePolicy.Balancing.ROUND_ROBIN
            : RoutePolicy.Balancing.LEAST_REQUEST,
        r.maxConnections(),
        r.maxPending(),
        r.maxRequests(),
        new RoutePolicy.Outlier(r.outlierFailures(), r.outlierEjection(), r.maxEjectedPercent()),
        new RoutePolicy.RateLimit(r.requestsPerSecond(), r.burst()),
        new RoutePolicy.Fault(
            r.faults().delay(),
            r.faults().delayPercent(),
            r.faults().abortStatus(),
            r.faults().abortPercent(),
            r.faults().header()),
        zero == null
            ? RoutePolicy.Hold.NONE
            : new RoutePolicy.Hold(zero.holdTimeout(), zero.maxHeld()));
  }

  @Override
  public int inFlight(String instanceId) {
    return (routed ? host.inFlight(List.of(instanceId)).getOrDefault(instanceId, 0) : 0)
        + clusters.inFlight(instanceId);
  }

  /** The listening port, if the load balancer runs. */
  Optional<Integer> port() {
    return routed ? host.port() : Optional.empty();
  }

  /** Why the load balancer is not listening, or empty. */
  String error() {
    return host.error();
  }

  /** The load balancer process: pid, snapshot version, health. */
  ProxyHost.Status status() {
    return host.status();
  }

  /** RED metrics in Prometheus text format; empty without a load balancer. */
  String metricsText() {
    return routed ? host.metricsText() : "";
  }

  /** Requests served so far and in flight now per instance; empty without a load balancer. */
  Optional<dev.pilothouse.proxy.control.Protocol.Reply> load(
      java.util.Collection<String> instances) {
    return ClusterPlanes.merge(
        routed ? host.load(instances) : Optional.empty(), clusters.load(instances));
  }

  /** Requests of these instances that ended within the last agoNanos. */
  Optional<dev.pilothouse.proxy.control.Protocol.Reply> window(
      java.util.Set<String> instances, long agoNanos) {
    return ClusterPlanes.merge(
        routed ? host.window(instances, agoNanos) : Optional.empty(),
        clusters.window(instances, agoNanos));
  }

  /** The clusters' proxies: address, pid, snapshot version, health. */
  List<dev.pilothouse.proxy.control.RemoteProxy.Status> clusterStatus() {
    return clusters.status();
  }

  /** Stops the load balancer process ({@code down}). */
  void stop() {
    host.stop();
  }

  /** Lets go of the load balancer; it keeps serving its last snapshot for the next daemon. */
  @Override
  public void close() {
    clusters.close();
    host.close();
  }
}
