package dev.pilothouse.spec;

import dev.pilothouse.core.spec.RouteSpec;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * A service's {@code route:}: host and path, timeouts, retries, limits, outlier ejection, faults.
 */
final class RouteReader extends SectionReader {
  RouteReader(SectionReader parent) {
    super(parent);
  }

  RouteSpec route(Fields service) {
    Optional<Node> on = service.get("route");
    if (on.isEmpty()) {
      return null;
    }
    if (on.get() instanceof Node.Scalar sc && sc.type() == Node.Scalar.Type.STRING) {
      String prefix = sc.text();
      if (!prefix.startsWith("/")) {
        problems.at(
            sc,
            service.join("route"),
            "a route given as a string is a path prefix and must start with '/'",
            "write e.g. 'route: /'");
      }
      return RouteSpec.defaults(prefix);
    }
    Optional<Fields> of = service.object("route", ROUTE);
    if (of.isEmpty()) {
      return null;
    }
    Fields f = of.get();
    RouteSpec d = RouteSpec.defaults("/");
    String host = f.string("host").orElse("");
    if (host.contains("/") || host.contains(" ")) {
      problems.at(
          f.get("host").orElseThrow(),
          f.join("host"),
          "invalid host '" + host + "'",
          "give a host name such as shop.example.com, without scheme or path");
    }
    String prefix = f.string("pathPrefix").orElse("/");
    if (!prefix.startsWith("/")) {
      problems.at(
          f.get("pathPrefix").orElseThrow(),
          f.join("pathPrefix"),
          "must start with '/', but is '" + prefix + "'",
          "write e.g. '/api'");
    }
    boolean strip = f.bool("stripPrefix").orElse(false);
    Duration connect = d.connectTimeout();
    Duration request = d.requestTimeout();
    Duration idle = d.idleTimeout();
    Optional<Fields> t = f.object("timeouts", TIMEOUTS);
    if (t.isPresent()) {
      connect = duration(t.get(), "connect", connect, false);
      request = duration(t.get(), "request", request, false);
      idle = duration(t.get(), "idle", idle, false);
    }
    int retries = d.retries();
    double budget = d.retryBudget();
    Optional<Fields> r = f.object("retries", RETRIES);
    if (r.isPresent()) {
      retries = r.get().integer("attempts", 0, 10).map(Long::intValue).orElse(retries);
      budget = r.get().number("budget", 0.0, 1.0, true).orElse(budget);
    }
    double rps = 0;
    long burst = 0;
    Optional<Fields> rl = f.object("rateLimit", RATE);
    if (rl.isPresent()) {
      rps =
          rl.get()
              .require("requestsPerSecond", "give e.g. requestsPerSecond: 100")
              .flatMap(n -> rl.get().number("requestsPerSecond", 0.001, 1e9, true))
              .orElse(0.0);
      burst = rl.get().integer("burst", 1, 1_000_000_000).orElse(0L);
    }
    String lb =
        f.string("loadBalancer").map(v -> v.toLowerCase(Locale.ROOT)).orElse(d.loadBalancer());
    if (!lb.equals("round-robin") && !lb.equals("least-request")) {
      problems.at(
          f.get("loadBalancer").orElseThrow(),
          f.join("loadBalancer"),
          "unknown load balancer '" + lb + "'",
          "use round-robin or least-request");
    }
    int maxConn = d.maxConnections();
    int maxPending = d.maxPending();
    int maxReq = d.maxRequests();
    Optional<Fields> lim = f.object("limits", LIMITS);
    if (lim.isPresent()) {
      maxConn =
          lim.get().integer("maxConnections", 1, 1_000_000).map(Long::intValue).orElse(maxConn);
      maxPending =
          lim.get().integer("maxPending", 1, 1_000_000).map(Long::intValue).orElse(maxPending);
      maxReq = lim.get().integer("maxRequests", 1, 1_000_000).map(Long::intValue).orElse(maxReq);
    }
    int outFailures = d.outlierFailures();
    Duration outEject = d.outlierEjection();
    int maxEjected = d.maxEjectedPercent();
    Optional<Fields> o = f.object("outlierDetection", OUTLIER);
    if (o.isPresent()) {
      outFailures =
          o.get().integer("consecutiveFailures", 0, 1000).map(Long::intValue).orElse(outFailures);
      outEject = duration(o.get(), "baseEjection", outEject, false);
      maxEjected =
          o.get().integer("maxEjectedPercent", 0, 100).map(Long::intValue).orElse(maxEjected);
    }
    RouteSpec.Faults faults = RouteSpec.Faults.none();
    Optional<Fields> fa = f.object("faults", FAULTS);
    if (fa.isPresent()) {
      Fields x = fa.get();
      faults =
          new RouteSpec.Faults(
              duration(x, "delay", Duration.ZERO, true),
              x.number("delayPercent", 0.0, 100.0, true).orElse(0.0),
              x.integer("abortStatus", 200, 599).map(Long::intValue).orElse(503),
              x.number("abortPercent", 0.0, 100.0, true).orElse(0.0),
              x.string("header").orElse(""));
      if (faults.delayPercent() > 0 && faults.delay().isZero()) {
        problems.at(
            x.node(),
            x.join("delay"),
            "delayPercent is set but delay is missing",
            "give e.g. delay: 200ms");
      }
    }
    return new RouteSpec(
        host,
        prefix,
        strip,
        connect,
        request,
        idle,
        retries,
        budget,
        rps,
        burst,
        lb,
        maxConn,
        maxPending,
        maxReq,
        outFailures,
        outEject,
        maxEjected,
        faults);
  }
}
