package dev.pilothouse.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The per-request hot path of the data plane: route matching and backend selection. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RoutingBenchmark {
  @Param({"10", "200"})
  int routes;

  @Param({"3", "50"})
  int backends;

  RouteTable table;
  List<Backend> group;
  final Map<String, BackendState> states = new ConcurrentHashMap<>();
  final AtomicLong counter = new AtomicLong();
  String[] paths;
  int i;

  @Setup
  public void setup() {
    List<Route> list = new ArrayList<>();
    group = new ArrayList<>();
    for (int b = 0; b < backends; b++) {
      Backend be = Backend.of("svc-" + b, "svc", "v1", 20000 + b);
      group.add(be);
      states.put(be.id(), new BackendState(be.id()));
    }
    for (int r = 0; r < routes; r++) {
      list.add(Route.simple("r" + r, "/api/v1/service" + r, group, RoutePolicy.defaults()));
    }
    list.add(Route.simple("root", "/", group, RoutePolicy.defaults()));
    table = RouteTable.of(list);
    paths =
        new String[] {
          "/api/v1/service" + (routes / 2) + "/items/42", "/static/app.js", "/api/v1/service0"
        };
  }

  @Benchmark
  public Route matchRoute() {
    return table.match("shop.example.com", paths[i++ & 1]);
  }

  @Benchmark
  public Backend pickLeastRequest() {
    return Balancer.pick(
        group, RoutePolicy.Balancing.LEAST_REQUEST, counter, states, null, null, System.nanoTime());
  }

  @Benchmark
  public Backend pickRoundRobin() {
    return Balancer.pick(
        group, RoutePolicy.Balancing.ROUND_ROBIN, counter, states, null, null, System.nanoTime());
  }
}
