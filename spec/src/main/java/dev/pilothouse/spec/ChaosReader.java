package dev.pilothouse.spec;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A chaos experiment file ({@code chaos/*.yaml}): {@code name}, {@code target}, {@code faults},
 * {@code steadyState} probes, {@code duration}, {@code interval}, {@code recovery} and {@code
 * abort}; every problem with file:line:column (docs/chaos.md).
 */
public final class ChaosReader extends SectionReader {
  public static final int MAX_BYTES = 1 << 20;
  static final int MAX_FAULTS = 16;
  static final int MAX_PROBES = 32;
  static final List<String> TOP =
      List.of(
          "name",
          "description",
          "target",
          "faults",
          "steadyState",
          "duration",
          "interval",
          "recovery",
          "abort",
          "expect");
  static final List<String> EXPECT = List.of("event", "contains");
  static final List<String> TARGET = List.of("service", "count", "percent", "version");
  static final List<String> FAULT =
      List.of(
          "kill", "pause", "http", "toxic", "cpu", "memory", "disk", "fds", "partition", "clock");
  static final List<String> KILL = List.of("signal");
  static final List<String> HTTP =
      List.of("delay", "delayPercent", "abortStatus", "abortPercent", "header");
  static final List<String> TOXIC =
      List.of(
          "latency",
          "jitter",
          "bandwidth",
          "slicer",
          "timeout",
          "resetPeer",
          "slowClose",
          "toxicity",
          "direction");
  static final List<String> SLICER = List.of("size", "delay");
  static final List<String> PROBE =
      List.of("name", "promql", "http", "ready", "sloBurn", "tolerance", "weight", "when");
  static final List<String> PROBE_HTTP = List.of("url", "status", "timeout");
  static final List<String> READY = List.of("service", "min");
  static final List<String> SLO_BURN = List.of("service", "slo", "max");
  static final List<String> TOLERANCE = List.of("min", "max");
  static final List<String> ABORT = List.of("probes", "after");

  /** The experiment, or the problems that stopped it. */
  public record Parsed(Optional<ChaosExperiment> experiment, List<SpecError> errors) {}

  private ChaosReader(String file, ExpressionCheck promql) {
    super(file, Path.of("."), Map.of(), promql);
  }

  /** Reads an experiment file's text; promql checks its PromQL probes. */
  public static Parsed read(String file, String text, ExpressionCheck promql) {
    return new ChaosReader(file, promql).run(text);
  }

  private Parsed run(String text) {
    if (text.length() > MAX_BYTES) {
      problems.add(1, 1, "", "the file is larger than 1 MiB", "an experiment is a page of YAML");
      return new Parsed(Optional.empty(), problems.list());
    }
    Node root = new YamlTree(problems).read(text);
    if (!(root instanceof Node.MapNode m)) {
      if (root != null) {
        problems.at(root, "", "the top level must be a map", "start with 'name:'");
      }
      if (problems.isEmpty()) {
        problems.add(1, 1, "", "the file is empty", "start with 'name:' (docs/chaos.md)");
      }
      return new Parsed(Optional.empty(), problems.list());
    }
    Fields f = new Fields(m, "", problems, TOP);
    String name = f.string("name").orElse("");
    if (!f.has("name")) {
      problems.add(1, 1, "name", "missing", "name the experiment, e.g. 'name: kill-one-of-three'");
    } else if (!NAME.matcher(name).matches()) {
      problems.at(
          f.get("name").orElseThrow(),
          "name",
          "invalid name '" + name + "'",
          "use 1-63 lowercase letters, digits and '-'");
    }
    ChaosExperiment.Target target = target(f);
    List<Fault> faults = faults(f);
    List<Probe> probes = probes(f);
    Duration duration = bounded(f, "duration", Duration.ofSeconds(30), Duration.ofHours(24));
    Duration interval = bounded(f, "interval", Duration.ofSeconds(1), Duration.ofHours(1));
    if (interval.compareTo(Duration.ofMillis(100)) < 0) {
      problems.at(
          f.get("interval").orElseThrow(),
          "interval",
          "must be at least 100ms",
          "probes are evaluated at most ten times a second");
    }
    Duration recovery = bounded(f, "recovery", Duration.ofSeconds(60), Duration.ofHours(24));
    ChaosExperiment.Abort abort = abort(f, probes);
    List<ChaosExperiment.Expect> expect = new ArrayList<>();
    for (Fields x :
        objects(
            f, "expect", EXPECT, "write e.g. '- {event: AlertFiring, contains: DiskFull}'", 32)) {
      String event = x.string("event").orElse("");
      if (!event.matches("[A-Z][A-Za-z]{1,63}")) {
        problems.at(
            x.node(),
            x.join("event"),
            event.isEmpty() ? "missing" : "'" + event + "' is not an event type",
            "an event type as 'pilothouse events' shows it, e.g. AlertFiring or Scaled");
      }
      expect.add(new ChaosExperiment.Expect(event, x.string("contains").orElse("")));
    }
    if (!problems.isEmpty()) {
      return new Parsed(Optional.empty(), problems.list());
    }
    return new Parsed(
        Optional.of(
            new ChaosExperiment(
                name,
                f.string("description").orElse(""),
                target,
                faults,
                probes,
                duration,
                interval,
                recovery,
                abort,
                expect)),
        List.of());
  }

  private Duration bounded(Fields f, String field, Duration dflt, Duration max) {
    Duration d = duration(f, field, dflt, field.equals("recovery"));
    if (d.compareTo(max) > 0) {
      problems.at(
          f.get(field).orElseThrow(), f.join(field), "must be at most " + max.toHours() + "h", "");
      return dflt;
    }
    return d;
  }

  private ChaosExperiment.Target target(Fields f) {
    Optional<Fields> t = f.object("target", TARGET);
    if (t.isEmpty()) {
      if (!f.has("target")) {
        problems.add(1, 1, "target", "missing", "write e.g. 'target: {service: shop, count: 1}'");
      }
      return new ChaosExperiment.Target("", 0, 0, "");
    }
    Fields tf = t.get();
    String service = tf.string("service").orElse("");
    if (!tf.has("service")) {
      tf.require("service", "name the service whose instances are hit");
    } else if (!NAME.matcher(service).matches()) {
      problems.at(
          tf.get("service").orElseThrow(),
          tf.join("service"),
          "invalid service name '" + service + "'",
          "use the service's name from the spec");
    }
    int count = tf.integer("count", 1, 1000).map(Long::intValue).orElse(0);
    int percent = tf.integer("percent", 1, 100).map(Long::intValue).orElse(0);
    if (count > 0 && percent > 0) {
      problems.at(
          tf.get("percent").orElseThrow(),
          tf.join("percent"),
          "give count or percent, not both",
          "count: N instances, or percent: P of the ready ones");
    }
    if (count == 0 && percent == 0) {
      count = 1;
    }
    return new ChaosExperiment.Target(service, count, percent, tf.string("version").orElse(""));
  }

  private List<Fault> faults(Fields f) {
    List<Fault> out = new ArrayList<>();
    List<Fields> items =
        objects(f, "faults", FAULT, "write e.g. '- kill: {signal: SIGKILL}'", MAX_FAULTS);
    if (!f.has("faults")) {
      problems.add(1, 1, "faults", "missing", "give at least one fault, e.g. '- kill: {}'");
    }
    for (Fields item : items) {
      Set<String> kinds = new HashSet<>();
      for (String k : FAULT) {
        if (item.has(k)) {
          kinds.add(k);
        }
      }
      if (kinds.size() != 1) {
        problems.at(
            item.node(),
            item.path(),
            kinds.isEmpty() ? "names no fault" : "names " + kinds.size() + " faults",
            "one of " + String.join(", ", FAULT) + " per list entry");
        continue;
      }
      String kind = kinds.iterator().next();
      fault(item, kind).ifPresent(out::add);
    }
    // The load balancer holds one fault per route and one proxy per instance.
    long route =
        out.stream()
            .filter(
                x -> x instanceof Fault.Http || x instanceof Fault.Partition p && !p.perInstance())
            .count();
    long proxied =
        out.stream()
            .filter(
                x -> x instanceof Fault.Toxic || x instanceof Fault.Partition p && p.perInstance())
            .count();
    if (route > 1 || proxied > 1) {
      problems.at(
          f.get("faults").orElseThrow(),
          "faults",
          route > 1
              ? "has " + route + " route faults (http, partition reject or with 'from')"
              : "has " + proxied + " connection faults (toxic, partition blackhole from everyone)",
          "one of each kind per experiment: put several toxics' effects in one 'toxic:'");
    }
    return out;
  }

  private Optional<Fault> fault(Fields item, String kind) {
    Node n = item.get(kind).orElseThrow();
    Fields ff;
    List<String> known =
        switch (kind) {
          case "kill" -> KILL;
          case "http" -> HTTP;
          case "toxic" -> TOXIC;
          case "cpu" -> List.of("cores");
          case "memory", "disk" -> kind.equals("disk") ? List.of("size", "path") : List.of("size");
          case "fds" -> List.of("count");
          case "partition" -> List.of("mode", "from");
          case "clock" -> List.of("offset");
          default -> List.of();
        };
    if (n instanceof Node.MapNode m) {
      ff = new Fields(m, item.join(kind), problems, known);
    } else if (n instanceof Node.Scalar s
        && (s.type() == Node.Scalar.Type.NULL || s.text().isEmpty())) {
      ff =
          new Fields(
              new Node.MapNode(n.line(), n.column(), new java.util.LinkedHashMap<>()),
              item.join(kind),
              problems,
              known);
    } else {
      problems.at(n, item.join(kind), "must be a map", "write e.g. '" + kind + ": {}'");
      return Optional.empty();
    }
    return switch (kind) {
      case "kill" -> {
        String sig = ff.string("signal").orElse("SIGKILL");
        if (!sig.equals("SIGKILL") && !sig.equals("SIGTERM")) {
          problems.at(
              ff.get("signal").orElseThrow(),
              ff.join("signal"),
              "unknown signal '" + sig + "'",
              "SIGKILL (the default) or SIGTERM (a graceful stop)");
        }
        yield Optional.of(new Fault.Kill(sig.equals("SIGTERM")));
      }
      case "pause" -> Optional.of(new Fault.Pause());
      case "http" -> {
        Duration delay = duration(ff, "delay", Duration.ZERO, true);
        int delayPercent =
            ff.integer("delayPercent", 0, 100).map(Long::intValue).orElse(delay.isZero() ? 0 : 100);
        int abortPercent = ff.integer("abortPercent", 0, 100).map(Long::intValue).orElse(0);
        int abortStatus = ff.integer("abortStatus", 200, 599).map(Long::intValue).orElse(503);
        if (ff.has("abortStatus") && !ff.has("abortPercent")) {
          abortPercent = 100;
        }
        if ((delay.isZero() || delayPercent == 0) && abortPercent == 0) {
          problems.at(
              n,
              item.join(kind),
              "injects nothing",
              "give a delay (delay: 300ms) or aborts (abortStatus: 503, abortPercent: 10)");
        }
        yield Optional.of(
            new Fault.Http(
                delay, delayPercent, abortStatus, abortPercent, ff.string("header").orElse("")));
      }
      case "toxic" -> toxic(ff, n, item.join(kind));
      case "cpu" -> {
        int cores = ff.integer("cores", 1, 64).map(Long::intValue).orElse(1);
        yield Optional.of(new Fault.Cpu(cores));
      }
      case "memory" -> {
        long size = memoryField(ff, "size", 0);
        if (size <= 0 || size > 64L << 30) {
          problems.at(n, item.join(kind), "needs a size up to 64Gi", "write e.g. 'size: 256Mi'");
        }
        yield Optional.of(new Fault.Memory(size));
      }
      case "disk" -> {
        long size = memoryField(ff, "size", 0);
        if (size <= 0 || size > 1L << 40) {
          problems.at(n, item.join(kind), "needs a size up to 1Ti", "write e.g. 'size: 1Gi'");
        }
        String path = ff.string("path").orElse(".");
        if (Path.of(path).isAbsolute() || Path.of(path).normalize().startsWith("..")) {
          problems.at(
              ff.get("path").orElseThrow(),
              ff.join("path"),
              "'" + path + "' leaves the service's working directory",
              "give a path relative to the service's workdir, e.g. 'data'");
        }
        yield Optional.of(new Fault.DiskFill(size, path));
      }
      case "partition" -> {
        String mode = ff.string("mode").orElse("blackhole");
        if (!mode.equals("blackhole") && !mode.equals("reject")) {
          problems.at(
              ff.get("mode").orElseThrow(),
              ff.join("mode"),
              "unknown mode '" + mode + "'",
              "blackhole (callers time out, the default) or reject (503 at once)");
        }
        List<String> from = ff.strings("from").orElse(List.of());
        for (int i = 0; i < from.size(); i++) {
          if (!NAME.matcher(from.get(i)).matches()) {
            problems.at(
                ((Node.ListNode) ff.get("from").orElseThrow()).items().get(i),
                ff.join("from") + "[" + i + "]",
                "invalid service name '" + from.get(i) + "'",
                "name the services whose calls are cut off, e.g. 'from: [checkout]'");
          }
        }
        if (from.size() > 32) {
          problems.at(
              ff.get("from").orElseThrow(),
              ff.join("from"),
              from.size() + " services, at most 32",
              "cut off fewer callers per experiment");
        }
        yield Optional.of(new Fault.Partition(mode, from));
      }
      case "fds" -> {
        int count = ff.integer("count", 1, 100_000).map(Long::intValue).orElse(1000);
        yield Optional.of(new Fault.Fds(count));
      }
      case "clock" -> {
        String text = ff.string("offset").orElse("");
        if (!ff.has("offset")) {
          ff.require("offset", "how far to move the clock, e.g. '+10m' or '-1h'");
          yield Optional.empty();
        }
        boolean back = text.startsWith("-");
        Optional<Duration> d =
            Quantities.duration(
                text.startsWith("-") || text.startsWith("+") ? text.substring(1) : text);
        if (d.isEmpty() || d.get().isZero() || d.get().compareTo(Duration.ofDays(3650)) > 0) {
          problems.at(
              ff.get("offset").orElseThrow(),
              ff.join("offset"),
              d.isEmpty()
                  ? "'" + text + "' is not a duration"
                  : "must be non-zero and within 3650d",
              "a signed duration: '+10m' moves the clock ahead, '-1h' back");
          yield Optional.empty();
        }
        yield Optional.of(new Fault.Clock(back ? d.get().negated() : d.get()));
      }
      default -> Optional.empty();
    };
  }

  private Optional<Fault> toxic(Fields ff, Node n, String path) {
    Duration latency = duration(ff, "latency", Duration.ZERO, true);
    Duration jitter = duration(ff, "jitter", Duration.ZERO, true);
    long bandwidth = memoryField(ff, "bandwidth", 0);
    int sliceBytes = 0;
    Duration sliceDelay = Duration.ZERO;
    Optional<Fields> slicer = ff.object("slicer", SLICER);
    if (slicer.isPresent()) {
      sliceBytes = slicer.get().integer("size", 1, 1 << 20).map(Long::intValue).orElse(64);
      sliceDelay = duration(slicer.get(), "delay", Duration.ZERO, true);
    }
    Duration timeout = ff.has("timeout") ? duration(ff, "timeout", Duration.ZERO, true) : null;
    boolean reset = ff.bool("resetPeer").orElse(false);
    Duration slowClose = duration(ff, "slowClose", Duration.ZERO, true);
    int toxicity = ff.integer("toxicity", 1, 100).map(Long::intValue).orElse(100);
    String direction = ff.string("direction").orElse("downstream");
    if (!List.of("downstream", "upstream", "both").contains(direction)) {
      problems.at(
          ff.get("direction").orElseThrow(),
          ff.join("direction"),
          "unknown direction '" + direction + "'",
          "downstream (instance → load balancer), upstream or both");
    }
    if (latency.compareTo(Duration.ofMinutes(1)) > 0 || jitter.compareTo(latency) > 0) {
      problems.at(
          n, path, "latency is at most 1m and jitter at most the latency", "e.g. 300ms ± 50ms");
    }
    if (latency.isZero()
        && bandwidth == 0
        && sliceBytes == 0
        && timeout == null
        && !reset
        && slowClose.isZero()) {
      problems.at(
          n,
          path,
          "injects nothing",
          "give latency, bandwidth, slicer, timeout, resetPeer or slowClose");
    }
    return Optional.of(
        new Fault.Toxic(
            latency,
            jitter,
            bandwidth,
            sliceBytes,
            sliceDelay,
            timeout,
            reset,
            slowClose,
            toxicity,
            direction));
  }

  private List<Probe> probes(Fields f) {
    List<Probe> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Fields p :
        objects(
            f,
            "steadyState",
            PROBE,
            "write e.g. '- {name: errors, promql: ..., tolerance: {max: 0.01}}'",
            MAX_PROBES)) {
      String name = p.string("name").orElse("");
      if (!p.has("name")) {
        p.require("name", "name the probe");
      } else if (!names.add(name)) {
        problems.at(p.get("name").orElseThrow(), p.join("name"), "is used twice", "rename one");
      }
      List<String> kinds =
          List.of("promql", "http", "ready", "sloBurn").stream().filter(p::has).toList();
      if (kinds.size() != 1) {
        problems.at(
            p.node(),
            p.path(),
            kinds.isEmpty() ? "says nothing to measure" : "measures " + kinds.size() + " things",
            "one of promql, http, ready or sloBurn");
        continue;
      }
      Double min = null;
      Double max = null;
      Optional<Node> tol = p.get("tolerance");
      if (tol.isPresent() && tol.get() instanceof Node.Scalar) {
        min = p.number("tolerance", -1e300, 1e300, true).orElse(null);
        max = min;
      } else {
        Optional<Fields> t = p.object("tolerance", TOLERANCE);
        if (t.isPresent()) {
          min = t.get().number("min", -1e300, 1e300, true).orElse(null);
          max = t.get().number("max", -1e300, 1e300, true).orElse(null);
        }
      }
      double weight = p.number("weight", 0, 1000, true).orElse(1.0);
      Set<Phase> phases = EnumSet.noneOf(Phase.class);
      for (String w : p.strings("when").orElse(List.of("before", "during", "after"))) {
        try {
          phases.add(Phase.valueOf(w.toUpperCase(java.util.Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          problems.at(
              p.get("when").orElseThrow(),
              p.join("when"),
              "unknown phase '" + w + "'",
              "before, during and/or after");
        }
      }
      String kind = kinds.get(0);
      Probe.Kind k;
      String query;
      Duration timeout = Duration.ofSeconds(5);
      switch (kind) {
        case "promql" -> {
          k = Probe.Kind.PROMQL;
          query = p.string("promql").orElse("");
          String problem = query.isBlank() ? "is empty" : promql.problem(query);
          if (problem != null) {
            problems.at(
                p.get("promql").orElseThrow(),
                p.join("promql"),
                problem,
                "a PromQL expression with one value");
          }
        }
        case "http" -> {
          k = Probe.Kind.HTTP;
          Optional<Fields> h = p.object("http", PROBE_HTTP);
          query = h.flatMap(x -> x.string("url")).orElse("");
          if (!query.startsWith("http://") && !query.startsWith("https://")) {
            problems.at(
                p.get("http").orElseThrow(),
                p.join("http") + ".url",
                "needs an http(s) URL",
                "write e.g. 'url: http://127.0.0.1:8080/'");
          }
          int status =
              h.flatMap(x -> x.integer("status", 100, 599)).map(Long::intValue).orElse(200);
          min = (double) status;
          max = (double) status;
          timeout =
              h.map(x -> duration(x, "timeout", Duration.ofSeconds(5), false)).orElse(timeout);
        }
        case "ready" -> {
          k = Probe.Kind.READY;
          Optional<Fields> r = p.object("ready", READY);
          query = r.flatMap(x -> x.string("service")).orElse("");
          if (query.isEmpty()) {
            problems.at(p.get("ready").orElseThrow(), p.join("ready"), "names no service", "");
          }
          min = r.flatMap(x -> x.number("min", 0, 1000, true)).orElse(1.0);
        }
        default -> {
          k = Probe.Kind.PROMQL;
          Optional<Fields> s = p.object("sloBurn", SLO_BURN);
          String service = s.flatMap(x -> x.string("service")).orElse("");
          String slo = s.flatMap(x -> x.string("slo")).orElse("");
          if (service.isEmpty() || slo.isEmpty()) {
            problems.at(
                p.get("sloBurn").orElseThrow(),
                p.join("sloBurn"),
                "names no service and SLO",
                "write e.g. '{service: shop, slo: availability, max: 14.4}'");
          }
          // The SLO's recorded five-minute burn rate (alerting's SLO rules write it).
          query =
              "max(slo:current_burn_rate:ratio{service=\""
                  + service
                  + "\",slo=\""
                  + slo
                  + "\"}) or vector(0)";
          max = s.flatMap(x -> x.number("max", 0, 1e6, true)).orElse(1.0);
          min = null;
        }
      }
      out.add(new Probe(name, k, query, min, max, weight, phases, timeout));
    }
    return out;
  }

  private ChaosExperiment.Abort abort(Fields f, List<Probe> probes) {
    Optional<Fields> a = f.object("abort", ABORT);
    if (a.isEmpty()) {
      return ChaosExperiment.Abort.NEVER;
    }
    List<String> names = a.get().strings("probes").orElse(List.of());
    Set<String> known = new HashSet<>();
    probes.forEach(p -> known.add(p.name()));
    for (String n : names) {
      if (!known.contains(n)) {
        problems.at(
            a.get().get("probes").orElseThrow(),
            a.get().join("probes"),
            "no steady-state probe is named '" + n + "'",
            Suggest.nearest(n, List.copyOf(known))
                .map(s -> "did you mean '" + s + "'?")
                .orElse("name probes of steadyState"));
      }
    }
    int after = a.get().integer("after", 1, 1000).map(Long::intValue).orElse(1);
    return new ChaosExperiment.Abort(names, after);
  }
}
