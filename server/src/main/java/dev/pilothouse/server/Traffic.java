package dev.pilothouse.server;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.TrafficGate;
import dev.pilothouse.core.spec.ProxySpec;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.core.traffic.TrafficSplitter;
import dev.pilothouse.proxy.Backend;
import dev.pilothouse.proxy.BackendGroup;
import dev.pilothouse.proxy.DataPlane;
import dev.pilothouse.proxy.Match;
import dev.pilothouse.proxy.ProxyMetrics;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RoutePolicy;
import dev.pilothouse.proxy.RouteTable;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the data plane in step with the desired spec and the observed instances: starts (or
 * restarts) the listener when the spec routes a service, and swaps in a new route table holding the
 * ready instances whenever they change. Runs on the reconcile thread after each tick.
 */
final class Traffic implements TrafficGate, TrafficSplitter, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Traffic.class);
  private static final Duration RETRY_LISTEN = Duration.ofSeconds(5);

  private final Path accessLog;
  private final EventSink events;
  private final InstantSource clock;
  private volatile DataPlane plane;
  private ProxySpec listening;
  private Instant nextListenAttempt = Instant.MIN;
  private volatile String error = "";
  private final Map<String, Split> splits = new java.util.concurrent.ConcurrentHashMap<>();

  @Override
  public void split(String service, Split split) {
    splits.put(service, split);
  }

  @Override
  public void clear(String service) {
    splits.remove(service);
  }

  Traffic(Path accessLog, EventSink events, InstantSource clock) {
    this.accessLog = accessLog;
    this.events = events;
    this.clock = clock;
  }

  /** Brings listener and routes in line with spec and status. */
  void sync(Spec spec, List<ServiceStatus> status) {
    if (!spec.routed()) {
      closePlane();
      return;
    }
    if (plane == null || !spec.proxy().equals(listening)) {
      listen(spec.proxy());
    }
    DataPlane p = plane;
    if (p != null) {
      RouteTable table = table(spec, status, splits);
      if (!table.equals(p.table())) {
        p.update(table);
      }
    }
  }

  private void listen(ProxySpec ps) {
    Instant now = clock.instant();
    if (now.isBefore(nextListenAttempt) && ps.equals(listening)) {
      return;
    }
    closePlane();
    listening = ps;
    try {
      plane =
          DataPlane.start(
              new ProxyOptions(
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
                  ps.bodyTimeout()));
      error = "";
      events.emit(
          new NewEvent(
              now,
              "ProxyListening",
              "",
              "",
              "load balancer listening on " + ps.host() + ":" + plane.port(),
              Map.of("port", Integer.toString(plane.port()))));
    } catch (RuntimeException e) {
      plane = null;
      nextListenAttempt = now.plus(RETRY_LISTEN);
      if (!e.getMessage().equals(error)) {
        error = e.getMessage();
        events.emit(new NewEvent(now, "ProxyFailed", "", "", error, Map.of()));
      }
      log.warn("load balancer: {}", e.getMessage());
    }
  }

  static RouteTable table(Spec spec, List<ServiceStatus> status, Map<String, Split> splits) {
    List<Route> routes = new ArrayList<>();
    for (ServiceSpec s : spec.services()) {
      RouteSpec r = s.route();
      if (r == null) {
        continue;
      }
      List<InstanceStatus> ready =
          status.stream()
              .filter(st -> st.name().equals(s.name()))
              .flatMap(st -> st.instances().stream())
              .filter(i -> i.ready() && i.state().equals("running"))
              .toList();
      Split split = splits.get(s.name());
      List<BackendGroup> groups;
      List<Match> matches = List.of();
      if (split == null) {
        groups = List.of(new BackendGroup("stable", 100, backends(s, ready, i -> true)));
      } else {
        groups =
            List.of(
                new BackendGroup(
                    "stable",
                    100 - split.canaryWeight(),
                    backends(s, ready, i -> !i.template().startsWith(split.canaryTemplate()))),
                new BackendGroup(
                    "canary",
                    split.canaryWeight(),
                    backends(s, ready, i -> i.template().startsWith(split.canaryTemplate()))));
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
                            "canary"))
                .toList();
      }
      String mirror = split != null && split.mirror() ? "canary" : "";
      routes.add(
          new Route(
              s.name(),
              r.host(),
              r.pathPrefix(),
              r.stripPrefix(),
              groups,
              matches,
              mirror,
              policy(r),
              split != null && split.sticky() ? "pilothouse-" + s.name() : ""));
    }
    return RouteTable.of(routes);
  }

  private static List<Backend> backends(
      ServiceSpec s,
      List<InstanceStatus> ready,
      java.util.function.Predicate<InstanceStatus> which) {
    return ready.stream()
        .filter(which)
        .map(i -> new Backend(i.id(), s.name(), i.version(), "127.0.0.1", i.port(), 1))
        .toList();
  }

  static RoutePolicy policy(RouteSpec r) {
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
            r.faults().header()));
  }

  @Override
  public int inFlight(String instanceId) {
    DataPlane p = plane;
    return p == null ? 0 : p.inFlight(instanceId);
  }

  /** The listening port, if the load balancer runs. */
  Optional<Integer> port() {
    DataPlane p = plane;
    return p == null ? Optional.empty() : Optional.of(p.port());
  }

  /** Why the load balancer is not listening, or empty. */
  String error() {
    return error;
  }

  /** RED metrics, if the load balancer runs. */
  Optional<ProxyMetrics> metrics() {
    DataPlane p = plane;
    return p == null ? Optional.empty() : Optional.of(p.metrics());
  }

  private void closePlane() {
    DataPlane p = plane;
    plane = null;
    listening = null;
    if (p != null) {
      p.close();
    }
  }

  @Override
  public void close() {
    closePlane();
  }
}
