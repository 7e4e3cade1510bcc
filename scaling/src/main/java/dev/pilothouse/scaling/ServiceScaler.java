package dev.pilothouse.scaling;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Autoscale.Target;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One autoscaled service: its measurements over the last window, the proposal of each target, and
 * the limiter that turns the highest proposal into the next count.
 */
final class ServiceScaler {
  /** Rates and averages are taken over this window: long enough to smooth, short enough to act. */
  static final Duration WINDOW = Duration.ofSeconds(5);

  /** Latency percentiles need more requests than a rate does. */
  static final Duration LATENCY_WINDOW = Duration.ofSeconds(10);

  private record Sample(Instant at, double value) {}

  private final String service;
  private final Limiter limiter;
  private final Map<String, Deque<Sample>> requests = new HashMap<>();
  private final Map<String, Deque<Sample>> inFlight = new HashMap<>();
  private final Map<String, Deque<Sample>> cpu = new HashMap<>();
  private final Map<String, Instant> readySince = new HashMap<>();

  /** Instances this scaler saw starting: when one turns ready, its warmup starts then. */
  private final Set<String> seenStarting = new HashSet<>();

  private Instant unmeasuredSince;
  private Instant forecastAt;
  private long lastCold = -1;
  private boolean sawRequests;
  private Instant lastActivity;
  private Forecast.Result forecast;
  static final Duration FORECAST_EVERY = Duration.ofMinutes(1);
  private Map<String, Signals.Usage> usage = Map.of();

  ServiceScaler(String service, Instant now, int current) {
    this.service = service;
    this.limiter = new Limiter(now, current);
  }

  /**
   * Measures and decides. current is the count the service runs; frozen holds it (a rollout is
   * under way) while measurements go on.
   */
  Decision decide(
      Instant now,
      ServiceSpec spec,
      List<InstanceStatus> instances,
      int current,
      boolean frozen,
      Signals signals) {
    Autoscale a = spec.autoscale();
    List<InstanceStatus> running =
        instances.stream().filter(i -> i.state().equals("running")).toList();
    // Started and not yet ready: in the count, not yet measured. As HPA treats a pod that is not
    // ready, each is an instance not trusted (idle when the service would grow, else left out).
    List<InstanceStatus> counted =
        instances.stream()
            .filter(i -> i.state().equals("running") || i.state().equals("starting"))
            .toList();
    measure(now, running, signals);
    Set<String> countedIds = new HashSet<>();
    counted.forEach(i -> countedIds.add(i.id()));
    seenStarting.retainAll(countedIds);
    List<String> readyIds = new ArrayList<>();
    for (InstanceStatus i : counted) {
      if (i.state().equals("starting")) {
        seenStarting.add(i.id());
      } else if (i.ready()) {
        readyIds.add(i.id());
        // Seen starting, it became ready now. First seen ready, it may have been ready long
        // before (adopted after a restart): its start is the earliest it can have become ready.
        boolean sawItStart = seenStarting.remove(i.id());
        readySince.putIfAbsent(i.id(), sawItStart ? now : earliest(now, i.startedAt()));
      } else {
        readySince.remove(i.id());
      }
    }
    List<Decision.Reading> readings = new ArrayList<>();
    for (Target t : a.targets()) {
      readings.add(reading(now, t, spec, running, counted, readyIds, current, signals));
    }
    int recommended = current;
    boolean anyMissing = false;
    boolean anyMeasured = false;
    String driver = "";
    for (Decision.Reading r : readings) {
      if (r.proposal() == null) {
        anyMissing = true;
        continue;
      }
      if (!anyMeasured || r.proposal() > recommended) {
        recommended = r.proposal();
        driver = describe(r);
      }
      anyMeasured = true;
    }
    if (!anyMeasured) {
      recommended = current;
    }
    if (anyMissing && recommended < current) {
      recommended = current; // missing measurements never scale a service down
      driver = "a target is not measured; never scaling down without it";
    }
    if (anyMeasured) {
      unmeasuredSince = null;
    } else if (unmeasuredSince == null) {
      unmeasuredSince = now;
    }
    Schedules.Bounds sched = Schedules.at(a, now);
    Decision.Prediction prediction = predict(now, a, signals);
    int floor = sched.floor();
    int cap = sched.cap();
    List<String> bounds = new ArrayList<>();
    if (!sched.why().isEmpty()) {
      bounds.add(sched.why());
    }
    if (prediction != null && prediction.mode().equals("on") && prediction.floor() > floor) {
      floor = Math.min(cap, prediction.floor());
      bounds.add(
          "forecast "
              + number(prediction.expected())
              + " req/s within "
              + prediction.lead()
              + " ("
              + prediction.basis()
              + ") min "
              + prediction.floor());
    }
    Autoscale.ScaleToZero zero = a.scaleToZero();
    if (zero != null) {
      // Awake (at least one instance) while requests come, and for cooldown after the last one.
      long cold = signals.coldRequests(service).orElse(lastCold);
      boolean woke = lastCold >= 0 && cold > lastCold;
      lastCold = cold;
      if (woke || sawRequests || lastActivity == null) {
        lastActivity = now;
      }
      boolean idle = !now.isBefore(lastActivity.plus(zero.cooldown()));
      if (current == 0) {
        boolean wake = woke && !frozen;
        return decision(
            now,
            a,
            0,
            wake ? Math.max(1, floor) : Math.max(0, floor),
            wake ? "waking" : floor > 0 ? "scaling" : "idle",
            readings,
            wake ? 1 : 0,
            "",
            wake
                ? "a request arrived while at zero: starting " + Math.max(1, floor)
                : floor > 0
                    ? "scale up: " + String.join("; ", bounds)
                    : "at zero: no request for "
                        + Duration.between(lastActivity, now).toSeconds()
                        + "s",
            floor,
            cap,
            String.join("; ", bounds),
            prediction);
      }
      if (!(current <= 1 && idle)) {
        floor = Math.max(floor, 1); // down to one first; to none only after the cooldown
      } else {
        // Idle: no request for the cooldown. As in KEDA, the last instance goes whatever its CPU
        // or memory say (an idle JVM still ticks; per-instance usage never proposes zero).
        String idleFor =
            "idle for "
                + Duration.between(lastActivity, now).toSeconds()
                + "s (cooldown "
                + zero.cooldown().toSeconds()
                + "s)";
        bounds.add(idleFor);
        if (floor == 0) {
          recommended = 0;
          driver = idleFor;
        }
      }
    }
    String boundsWhy = String.join("; ", bounds);
    if (frozen) {
      return decision(
          now,
          a,
          current,
          current,
          "frozen",
          readings,
          recommended,
          "a rollout is under way",
          "frozen while a rollout of " + service + " is under way",
          floor,
          cap,
          boundsWhy,
          prediction);
    }
    if (current < floor || current > cap) {
      // A schedule or the forecast moved the bounds: they hold at once, as min and max do.
      int to = current < floor ? floor : cap;
      return decision(
          now,
          a,
          current,
          to,
          "scaling",
          readings,
          Math.max(recommended, floor),
          boundsWhy.isEmpty() ? (to == floor ? "min " + floor : "max " + cap) : boundsWhy,
          (to > current ? "scale up: " : "scale down: ")
              + (boundsWhy.isEmpty() ? "held within min..max" : boundsWhy),
          floor,
          cap,
          boundsWhy,
          prediction);
    }
    if (!anyMeasured) {
      Autoscale.Fallback f = a.fallback();
      boolean fallback = f != null && !now.isBefore(unmeasuredSince.plus(f.after()));
      int desired = fallback ? Math.max(floor, Math.min(cap, f.replicas())) : current;
      return decision(
          now,
          a,
          current,
          desired,
          fallback ? "fallback" : "waiting",
          readings,
          current,
          "",
          fallback
              ? "no target measured for "
                  + Duration.between(unmeasuredSince, now).toSeconds()
                  + "s: fallback to "
                  + desired
              : "no target measured yet; holding " + current,
          floor,
          cap,
          boundsWhy,
          prediction);
    }
    Limiter.Result r = limiter.limit(now, current, recommended, a, floor, cap);
    String state = r.replicas() == current ? "stable" : "scaling";
    String limited = r.limitedBy();
    if (!boundsWhy.isEmpty()
        && (limited.equals("min " + floor) || limited.equals("max " + cap))
        && (floor != a.min() || cap != a.max())) {
      limited = limited + " (" + boundsWhy + ")";
    }
    String reason =
        r.replicas() == current
            ? (recommended == current
                ? "at target: " + driver
                : "held at " + current + ": " + limited)
            : (r.replicas() > current ? "scale up: " : "scale down: ")
                + driver
                + (limited.isEmpty() ? "" : "; limited by " + limited);
    return decision(
        now,
        a,
        current,
        r.replicas(),
        state,
        readings,
        recommended,
        limited,
        reason,
        floor,
        cap,
        boundsWhy,
        prediction);
  }

  private Decision decision(
      Instant now,
      Autoscale a,
      int current,
      int desired,
      String state,
      List<Decision.Reading> readings,
      int recommended,
      String limitedBy,
      String reason,
      int floor,
      int cap,
      String bounds,
      Decision.Prediction prediction) {
    return new Decision(
        service,
        now,
        current,
        desired,
        a.min(),
        a.max(),
        state,
        readings,
        recommended,
        limitedBy,
        reason,
        floor,
        cap,
        bounds,
        prediction);
  }

  /** The forecast, refreshed once a minute (it reads weeks of history). */
  private Decision.Prediction predict(Instant now, Autoscale a, Signals signals) {
    Autoscale.Predictive p = a.predictive();
    Optional<Double> perInstance =
        a.targets().stream()
            .filter(t -> t instanceof Target.RequestsPerSecond)
            .map(Target::value)
            .findFirst();
    if (p == null || perInstance.isEmpty()) {
      return null;
    }
    if (forecastAt == null || !now.isBefore(forecastAt.plus(FORECAST_EVERY))) {
      forecastAt = now;
      forecast = Forecast.of(signals, service, now, p.lead()).orElse(null);
    }
    if (forecast == null) {
      return null;
    }
    int f = (int) Math.ceil(forecast.expected() / perInstance.get() - 1e-6);
    return new Decision.Prediction(
        p.apply() ? "on" : "forecast-only",
        forecast.expected(),
        forecast.basis(),
        forecast.samples(),
        dev.pilothouse.core.spec.SpecDiff.duration(p.lead()),
        Math.max(a.min(), Math.min(a.max(), f)));
  }

  /** The decision was carried out: the count changed from one to the other. */
  void changed(Instant now, int from, int to) {
    limiter.changed(now, from, to);
  }

  private static String describe(Decision.Reading r) {
    return r.target()
        + " "
        + number(r.value())
        + " "
        + r.unit()
        + " (target "
        + number(r.goal())
        + ") proposes "
        + r.proposal();
  }

  static String number(Double v) {
    if (v == null) {
      return "-";
    }
    return v == Math.rint(v) && Math.abs(v) < 1e15
        ? Long.toString(v.longValue())
        : String.format(Locale.ROOT, "%.2f", v);
  }

  private Decision.Reading reading(
      Instant now,
      Target t,
      ServiceSpec spec,
      List<InstanceStatus> running,
      List<InstanceStatus> counted,
      List<String> readyIds,
      int current,
      Signals signals) {
    Autoscale a = spec.autoscale();
    Autoscale.Tolerance tol = a.tolerance();
    return switch (t) {
      case Target.RequestsPerSecond rps -> {
        OptionalDouble total = sumOfRates(requests, running);
        yield totalReading(t, total, rps.value(), current, tol, "req/s per instance", "requests");
      }
      case Target.InFlight f -> {
        OptionalDouble total = sumOfMeans(inFlight, running, now);
        yield totalReading(t, total, f.value(), current, tol, "in flight per instance", "requests");
      }
      case Target.Promql q -> {
        OptionalDouble total = signals.query(q.query(), now);
        yield totalReading(t, total, q.value(), current, tol, "per instance", "query results");
      }
      case Target.Cpu c -> {
        List<Proposals.Instance> each = new ArrayList<>();
        double sum = 0;
        int n = 0;
        int warming = 0;
        for (InstanceStatus i : counted) {
          if (!warm(i, now, a.warmup())) {
            each.add(Proposals.Instance.warming());
            warming++;
            continue;
          }
          // Only CPU used since the warmup ended: the window may still hold the start-up burn.
          OptionalDouble rate =
              rate(since(cpu.get(i.id()), readySince.get(i.id()).plus(a.warmup())), now);
          if (rate.isEmpty()) {
            each.add(Proposals.Instance.missing());
            continue;
          }
          double pct = rate.getAsDouble() / spec.resources().cpu() * 100;
          each.add(Proposals.Instance.of(pct));
          sum += pct;
          n++;
        }
        yield perInstanceReading(
            t, each, sum, n, warming, c.value(), current, tol, "% of resources.cpu");
      }
      case Target.Memory m -> {
        List<Proposals.Instance> each = new ArrayList<>();
        double sum = 0;
        int n = 0;
        int warming = 0;
        for (InstanceStatus i : counted) {
          Signals.Usage u = usage.get(i.id());
          if (!warm(i, now, a.warmup())) {
            each.add(Proposals.Instance.warming());
            warming++;
          } else if (u == null) {
            each.add(Proposals.Instance.missing());
          } else {
            double pct = (double) u.residentBytes() / spec.resources().memoryBytes() * 100;
            each.add(Proposals.Instance.of(pct));
            sum += pct;
            n++;
          }
        }
        yield perInstanceReading(
            t, each, sum, n, warming, m.value(), current, tol, "% of resources.memory");
      }
      case Target.LatencyP99 l -> {
        OptionalDouble p99 = signals.latencyP99Ms(new HashSet<>(readyIds), LATENCY_WINDOW);
        if (p99.isEmpty()) {
          yield new Decision.Reading(
              t.name(),
              null,
              l.value(),
              "ms",
              null,
              "no requests in the last " + LATENCY_WINDOW.toSeconds() + "s");
        }
        OptionalInt p =
            Proposals.value(p99.getAsDouble(), l.value(), readyIds.size(), current, tol);
        yield new Decision.Reading(t.name(), p99.getAsDouble(), l.value(), "ms", p.getAsInt(), "");
      }
    };
  }

  private static Decision.Reading totalReading(
      Target t,
      OptionalDouble total,
      double perInstance,
      int current,
      Autoscale.Tolerance tol,
      String unit,
      String what) {
    if (total.isEmpty()) {
      return new Decision.Reading(
          t.name(), null, perInstance, unit, null, "no " + what + " measured");
    }
    OptionalInt p = Proposals.total(total.getAsDouble(), perInstance, current, tol);
    return new Decision.Reading(
        t.name(),
        total.getAsDouble() / Math.max(1, current),
        perInstance,
        unit,
        p.getAsInt(),
        "total " + number(total.getAsDouble()));
  }

  private static Decision.Reading perInstanceReading(
      Target t,
      List<Proposals.Instance> each,
      double sum,
      int n,
      int warming,
      double goal,
      int current,
      Autoscale.Tolerance tol,
      String unit) {
    OptionalInt p = Proposals.perInstance(each, goal, current, tol);
    String note = warming == 0 ? "" : warming + " instance(s) not ready or warming up, not trusted";
    if (p.isEmpty()) {
      return new Decision.Reading(
          t.name(), null, goal, unit, null, note.isEmpty() ? "no instance measured" : note);
    }
    return new Decision.Reading(t.name(), sum / n, goal, unit, p.getAsInt(), note);
  }

  private boolean warm(InstanceStatus i, Instant now, Duration warmup) {
    Instant since = readySince.get(i.id());
    return since != null && !now.isBefore(since.plus(warmup));
  }

  private static Instant earliest(Instant now, Instant startedAt) {
    return startedAt != null && startedAt.isBefore(now) ? startedAt : now;
  }

  /** Adds this tick's samples and drops what fell out of the window. */
  private void measure(Instant now, List<InstanceStatus> running, Signals signals) {
    Set<String> ids = new HashSet<>();
    running.forEach(i -> ids.add(i.id()));
    Map<String, Signals.Load> load = signals.load(ids);
    sawRequests = false;
    for (Map.Entry<String, Signals.Load> e : load.entrySet()) {
      Deque<Sample> before = requests.get(e.getKey());
      double last = before == null || before.isEmpty() ? 0 : before.peekLast().value();
      sawRequests |= e.getValue().requests() > last || e.getValue().inFlight() > 0;
      add(requests, e.getKey(), now, e.getValue().requests());
      add(inFlight, e.getKey(), now, e.getValue().inFlight());
    }
    usage = signals.usage(running);
    for (Map.Entry<String, Signals.Usage> e : usage.entrySet()) {
      add(cpu, e.getKey(), now, e.getValue().cpuSeconds());
    }
    Instant from = now.minus(WINDOW);
    for (Map<String, Deque<Sample>> m : List.of(requests, inFlight, cpu)) {
      m.keySet().retainAll(ids);
      // No sample within the window (the load balancer or the host stopped reporting it): not
      // measured, rather than measured as it was before the gap.
      m.values().removeIf(d -> d.peekLast().at().isBefore(from));
      for (Deque<Sample> d : m.values()) {
        // Keep one sample at or before the window's start: a rate spans the whole window.
        while (d.size() > 2) {
          Sample first = d.removeFirst();
          if (d.peekFirst().at().isAfter(from)) {
            d.addFirst(first);
            break;
          }
        }
      }
    }
    readySince.keySet().retainAll(ids);
  }

  private static void add(Map<String, Deque<Sample>> m, String id, Instant now, double v) {
    m.computeIfAbsent(id, k -> new ArrayDeque<>()).addLast(new Sample(now, v));
  }

  /** The rate of a cumulative counter over its samples; empty with fewer than two. */
  /** The samples taken at or after from. */
  private static Deque<Sample> since(Deque<Sample> d, Instant from) {
    if (d == null) {
      return null;
    }
    Deque<Sample> out = new ArrayDeque<>();
    for (Sample x : d) {
      if (!x.at().isBefore(from)) {
        out.addLast(x);
      }
    }
    return out;
  }

  private static OptionalDouble rate(Deque<Sample> d, Instant now) {
    if (d == null || d.size() < 2) {
      return OptionalDouble.empty();
    }
    double seconds = span(d);
    return seconds <= 0 ? OptionalDouble.empty() : OptionalDouble.of(increase(d) / seconds);
  }

  /** Seconds from a counter's first sample to its last. */
  private static double span(Deque<Sample> d) {
    return Duration.between(d.peekFirst().at(), d.peekLast().at()).toNanos() / 1e9;
  }

  /** How much a counter grew from its first sample to its last. */
  private static double increase(Deque<Sample> d) {
    double first = d.peekFirst().value();
    double last = d.peekLast().value();
    // A counter that went backwards was reset (the load balancer restarted): count from zero.
    return last >= first ? last - first : last;
  }

  /**
   * The service's total rate: what every instance served, over the longest span measured. An
   * instance that joined within the window adds what it served since, not its own short-span rate:
   * summed with the others' window-long rates, that rate would count its share of the traffic twice
   * (once in the others' higher rate before it joined), and a scale-up would overshoot.
   */
  private static OptionalDouble sumOfRates(
      Map<String, Deque<Sample>> m, List<InstanceStatus> running) {
    double sum = 0;
    double seconds = 0;
    for (InstanceStatus i : running) {
      Deque<Sample> d = m.get(i.id());
      if (d != null && d.size() >= 2) {
        sum += increase(d);
        seconds = Math.max(seconds, span(d));
      }
    }
    return seconds > 0 ? OptionalDouble.of(sum / seconds) : OptionalDouble.empty();
  }

  private static OptionalDouble sumOfMeans(
      Map<String, Deque<Sample>> m, List<InstanceStatus> running, Instant now) {
    double sum = 0;
    boolean any = false;
    for (InstanceStatus i : running) {
      Deque<Sample> d = m.get(i.id());
      if (d == null || d.isEmpty()) {
        continue;
      }
      double s = 0;
      for (Sample x : d) {
        s += x.value();
      }
      sum += s / d.size();
      any = true;
    }
    return any ? OptionalDouble.of(sum) : OptionalDouble.empty();
  }
}
