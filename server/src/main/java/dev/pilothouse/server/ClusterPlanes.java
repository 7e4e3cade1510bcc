package dev.pilothouse.server;

import dev.pilothouse.core.traffic.DataPlaneEndpoint;
import dev.pilothouse.proxy.ProxyOptions;
import dev.pilothouse.proxy.RouteTable;
import dev.pilothouse.proxy.control.Protocol;
import dev.pilothouse.proxy.control.RemoteProxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The proxies of Pilothouse's data planes in clusters, one {@link RemoteProxy} each. The reconcile
 * tick hands over what each should serve; a background thread pushes it (a proxy that does not
 * answer costs that thread its connect timeout, not the tick), and proxies whose pods are gone are
 * let go of. Their measurements join the built-in load balancer's for canary analysis and
 * autoscaling.
 */
final class ClusterPlanes implements AutoCloseable {
  /** What one cluster's proxies should serve. */
  record Wanted(List<DataPlaneEndpoint> endpoints, ProxyOptions options, RouteTable table) {}

  private record Target(DataPlaneEndpoint endpoint, ProxyOptions options, RouteTable table) {}

  private final Map<String, RemoteProxy> proxies = new LinkedHashMap<>();
  private final AtomicReference<List<Target>> wanted = new AtomicReference<>(List.of());
  private final AtomicBoolean pushing = new AtomicBoolean();
  private final ExecutorService pusher =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("cluster-data-planes").unstarted(r));

  /** Hands over what every cluster's proxies should serve now; pushed in the background. */
  void sync(List<Wanted> planes) {
    List<Target> targets = new ArrayList<>();
    for (Wanted w : planes) {
      for (DataPlaneEndpoint e : w.endpoints()) {
        targets.add(new Target(e, w.options(), w.table()));
      }
    }
    wanted.set(List.copyOf(targets));
    if (targets.isEmpty() && none()) {
      return; // no cluster, nothing to let go of: the pusher's thread is not woken every tick
    }
    if (pushing.compareAndSet(false, true)) {
      pusher.execute(
          () -> {
            try {
              push(wanted.get());
            } finally {
              pushing.set(false);
            }
          });
    }
  }

  private void push(List<Target> targets) {
    Set<String> live = new HashSet<>();
    for (Target t : targets) {
      DataPlaneEndpoint e = t.endpoint();
      String key = e.name() + "@" + e.address() + ":" + e.controlPort();
      live.add(key);
      RemoteProxy p;
      synchronized (this) {
        p =
            proxies.computeIfAbsent(
                key,
                k ->
                    new RemoteProxy(
                        e.address(), e.controlPort(), e.token().getBytes(StandardCharsets.UTF_8)));
      }
      p.sync(t.options(), t.table());
    }
    synchronized (this) {
      proxies
          .entrySet()
          .removeIf(
              en -> {
                if (live.contains(en.getKey())) {
                  return false;
                }
                en.getValue().close();
                return true;
              });
    }
  }

  private synchronized boolean none() {
    return proxies.isEmpty();
  }

  private synchronized List<RemoteProxy> all() {
    return List.copyOf(proxies.values());
  }

  /** Requests in flight to an instance through every cluster proxy. */
  int inFlight(String instanceId) {
    int sum = 0;
    for (RemoteProxy p : all()) {
      sum += p.inFlight(List.of(instanceId)).getOrDefault(instanceId, 0);
    }
    return sum;
  }

  /** Requests so far and in flight now, per instance, summed over the cluster proxies. */
  Optional<Protocol.Reply> load(Collection<String> instances) {
    Optional<Protocol.Reply> out = Optional.empty();
    for (RemoteProxy p : all()) {
      out = merge(out, p.load(instances));
    }
    return out;
  }

  /** Requests that ended within the last agoNanos, over the cluster proxies. */
  Optional<Protocol.Reply> window(Collection<String> instances, long agoNanos) {
    Optional<Protocol.Reply> out = Optional.empty();
    for (RemoteProxy p : all()) {
      out = merge(out, p.window(instances, agoNanos));
    }
    return out;
  }

  /** Each cluster proxy's address, pid, snapshot version and health. */
  List<RemoteProxy.Status> status() {
    return all().stream().map(RemoteProxy::status).toList();
  }

  /**
   * Two proxies' answers as one: request and failure counts added, latency samples joined, and
   * per-instance totals and in-flight counts added.
   */
  static Optional<Protocol.Reply> merge(Optional<Protocol.Reply> a, Optional<Protocol.Reply> b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    Protocol.Reply x = a.get();
    Protocol.Reply y = b.get();
    double[] lx = x.latenciesMs() == null ? new double[0] : x.latenciesMs();
    double[] ly = y.latenciesMs() == null ? new double[0] : y.latenciesMs();
    double[] latencies = java.util.Arrays.copyOf(lx, lx.length + ly.length);
    System.arraycopy(ly, 0, latencies, lx.length, ly.length);
    return Optional.of(
        new Protocol.Reply(
            x.ok() && y.ok(),
            x.error().isEmpty() ? y.error() : x.error(),
            x.pid(),
            x.protocol(),
            x.version(),
            x.port(),
            x.transport(),
            x.options(),
            sum(x.inFlight(), y.inFlight(), Integer::sum),
            x.text(),
            x.requests() + y.requests(),
            x.failures() + y.failures(),
            latencies,
            sum(x.requestTotals(), y.requestTotals(), Long::sum)));
  }

  private static <N> Map<String, N> sum(
      Map<String, N> x, Map<String, N> y, java.util.function.BinaryOperator<N> add) {
    if (x == null || y == null) {
      return x == null ? y : x;
    }
    Map<String, N> out = new HashMap<>(x);
    y.forEach((k, v) -> out.merge(k, v, add));
    return out;
  }

  @Override
  public void close() {
    pusher.shutdownNow();
    synchronized (this) {
      proxies.values().forEach(RemoteProxy::close);
      proxies.clear();
    }
  }
}
