package dev.pilothouse.spec;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.spec.CanarySpec;
import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.core.spec.NotificationsSpec;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.ProxySpec;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a YAML spec file into a {@link Spec}, reporting every problem with its file:line:column,
 * the field path, what is wrong and how to fix it. Nothing partial is returned from an invalid
 * file.
 *
 * <p>{@code ${NAME}} in strings is replaced by the variable NAME from the given variables, except
 * {@code ${PORT}}, which is left for the instance's own port; {@code $${NAME}} is a literal.
 */
public final class SpecParser {
  /** Spec files larger than this are refused. */
  public static final int MAX_BYTES = 1 << 20;

  static final List<String> TOP =
      List.of("version", "proxy", "notifications", "metrics", "services");
  static final List<String> METRICS =
      List.of(
          "scrapeInterval",
          "scrapeTimeout",
          "retention",
          "retentionSize",
          "sampleLimit",
          "maxSeriesPerMetric",
          "hostMetrics",
          "queryTimeout",
          "queryMaxConcurrency",
          "futureTolerance",
          "labelLimit",
          "labelNameLengthLimit",
          "labelValueLengthLimit",
          "bodySizeLimit",
          "seriesPerRequest",
          "remoteWrite",
          "queryMaxSamples");
  static final List<String> ENDPOINT = List.of("path", "port");
  static final List<String> NOTIFICATIONS = List.of("webhooks", "slack", "email", "events");
  static final List<String> EMAIL = List.of("smtp", "from", "to");
  static final List<String> PROXY =
      List.of("host", "port", "tls", "idleTimeout", "accessLog", "trustedProxies", "bodyTimeout");
  static final List<String> TLS = List.of("cert", "key");
  static final List<String> ACCESS_LOG = List.of("sample", "maxSize", "keep");
  static final List<String> ROUTE =
      List.of(
          "host",
          "pathPrefix",
          "stripPrefix",
          "timeouts",
          "retries",
          "rateLimit",
          "loadBalancer",
          "limits",
          "outlierDetection",
          "faults");
  static final List<String> TIMEOUTS = List.of("connect", "request", "idle");
  static final List<String> RETRIES = List.of("attempts", "budget");
  static final List<String> RATE = List.of("requestsPerSecond", "burst");
  static final List<String> LIMITS = List.of("maxConnections", "maxPending", "maxRequests");
  static final List<String> OUTLIER =
      List.of("consecutiveFailures", "baseEjection", "maxEjectedPercent");
  static final List<String> FAULTS =
      List.of("delay", "delayPercent", "abortStatus", "abortPercent", "header");
  static final List<String> SERVICE =
      List.of(
          "command",
          "args",
          "env",
          "inheritEnv",
          "workdir",
          "version",
          "replicas",
          "liveness",
          "readiness",
          "restart",
          "stop",
          "resources",
          "route",
          "strategy",
          "deploy",
          "metrics");
  static final List<String> STRATEGY =
      List.of(
          "type",
          "canaryReplicas",
          "steps",
          "match",
          "progressDeadline",
          "maxAnalysisWait",
          "analysis",
          "maxSurge",
          "maxUnavailable",
          "smoke",
          "checks",
          "load",
          "validation",
          "sticky",
          "rollbackWindow");
  static final List<String> SMOKE = List.of("path", "method", "status", "body", "maxLatency");
  static final List<String> CHECK = List.of("name", "webhook", "command", "promql", "timeout");
  static final List<String> LOAD = List.of("rate", "path");
  static final List<String> DEPLOY =
      List.of(
          "artifact",
          "sha256",
          "dependsOn",
          "freeze",
          "minFreeDisk",
          "minFreeMemory",
          "dataPaths",
          "preDeploy",
          "preDeployTimeout",
          "keepBackups");
  static final List<String> FREEZE =
      List.of("start", "end", "days", "from", "to", "timezone", "reason");
  static final List<String> STEP = List.of("weight", "pause", "analysis");
  static final List<String> MATCH = List.of("header", "cookie", "value");
  static final List<String> ANALYSIS =
      List.of(
          "alpha",
          "minRequests",
          "maxErrorRateIncrease",
          "maxLatencyIncrease",
          "maxLatencyIncreaseRatio");
  static final List<String> PROBE =
      List.of(
          "http",
          "tcp",
          "exec",
          "port",
          "interval",
          "timeout",
          "failureThreshold",
          "successThreshold",
          "initialDelay");
  static final List<String> RESTART =
      List.of(
          "policy",
          "initialBackoff",
          "maxBackoff",
          "multiplier",
          "jitter",
          "resetAfter",
          "maxRestarts");
  static final List<String> STOP = List.of("signal", "timeout", "drainTimeout");
  static final List<String> RESOURCES = List.of("cpu", "memory");
  static final Set<String> SIGNALS =
      Set.of("TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "KILL", "WINCH");

  private static final Pattern AMOUNT = Pattern.compile("(\\d{1,4})(%)?");
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern VAR = Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

  private final String file;
  private final Path baseDir;
  private final Map<String, String> vars;
  private final Problems problems;
  private final ExpressionCheck promql;

  private SpecParser(String file, Path baseDir, Map<String, String> vars, ExpressionCheck promql) {
    this.file = file;
    this.baseDir = baseDir;
    this.vars = vars;
    this.problems = new Problems(file);
    this.promql = promql;
  }

  /**
   * Parses spec text.
   *
   * @param file the name shown in messages
   * @param baseDir the directory relative paths (workdir, command) are resolved against
   * @param vars values for {@code ${NAME}} references
   */
  public static ParsedSpec parse(String file, String text, Path baseDir, Map<String, String> vars) {
    return parse(file, text, baseDir, vars, ExpressionCheck.none());
  }

  /** Parses spec text, checking its PromQL expressions with promql. */
  public static ParsedSpec parse(
      String file, String text, Path baseDir, Map<String, String> vars, ExpressionCheck promql) {
    requireNonNull(file, "file");
    requireNonNull(text, "text");
    requireNonNull(baseDir, "baseDir");
    requireNonNull(vars, "vars");
    requireNonNull(promql, "promql");
    return new SpecParser(file, baseDir.toAbsolutePath().normalize(), vars, promql).run(text);
  }

  private ParsedSpec run(String text) {
    if (text.length() > MAX_BYTES) {
      problems.add(1, 1, "", "the file is larger than 1 MiB", "split it or remove unused parts");
      return new ParsedSpec(Optional.empty(), problems.list());
    }
    Node root = new YamlTree(problems).read(text);
    if (root == null) {
      return new ParsedSpec(Optional.empty(), problems.list());
    }
    Spec spec = null;
    if (root instanceof Node.MapNode m) {
      spec = top(new Fields(m, "", problems, TOP));
    } else {
      problems.at(
          root, "", "the top level must be a map, but is " + root.kind(), "start with 'services:'");
    }
    if (!problems.isEmpty() || spec == null) {
      return new ParsedSpec(Optional.empty(), problems.list());
    }
    return new ParsedSpec(Optional.of(spec), List.of());
  }

  private Spec top(Fields f) {
    f.get("version")
        .ifPresent(
            n -> {
              if (!(n instanceof Node.Scalar s) || !s.text().equals("1")) {
                problems.at(
                    n,
                    "version",
                    "unsupported spec version " + Fields.describe(n),
                    "write 'version: 1' or leave it out");
              }
            });
    Optional<Node> services =
        f.require("services", "declare 'services:' with at least one service");
    if (services.isEmpty()) {
      return null;
    }
    if (!(services.get() instanceof Node.MapNode sm)) {
      problems.at(
          services.get(),
          "services",
          "must be a map of service names to services, but is " + services.get().kind(),
          "write 'services:' then '  NAME:' indented below it");
      return null;
    }
    ProxySpec proxy = f.object("proxy", PROXY).map(this::proxy).orElse(ProxySpec.defaults());
    List<ServiceSpec> out = new ArrayList<>();
    Map<String, Fields> serviceFields = new LinkedHashMap<>();
    Map<String, String> routeOwners = new LinkedHashMap<>();
    for (Node.Entry e : sm.entries().values()) {
      String path = "services." + e.key();
      if (!NAME.matcher(e.key()).matches()) {
        problems.add(
            e.line(),
            e.column(),
            path,
            "invalid service name '" + e.key() + "'",
            "use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit");
      }
      if (!(e.value() instanceof Node.MapNode m)) {
        problems.at(
            e.value(),
            path,
            "must be a map of service fields, but is " + e.value().kind(),
            "give at least 'command:'");
        continue;
      }
      Fields sf = new Fields(m, path, problems, SERVICE);
      ServiceSpec s = service(e.key(), sf);
      if (s != null) {
        out.add(s);
        serviceFields.put(s.name(), sf);
        if (s.route() != null) {
          String key = s.route().host() + s.route().pathPrefix();
          String other = routeOwners.putIfAbsent(key, s.name());
          if (other != null) {
            problems.at(
                sf.get("route").orElseThrow(),
                path + ".route",
                "routes the same host and path prefix as services." + other + ".route",
                "give one of them another pathPrefix or host");
          }
        }
      }
    }
    for (ServiceSpec s : out) {
      List<String> deps = s.deploy().dependsOn();
      for (int i = 0; i < deps.size(); i++) {
        String dep = deps.get(i);
        if (dep.equals(s.name()) || serviceFields.get(dep) == null) {
          Fields df = serviceFields.get(s.name()).object("deploy", DEPLOY).orElseThrow();
          problems.at(
              ((Node.ListNode) df.get("dependsOn").orElseThrow()).items().get(i),
              df.join("dependsOn") + "[" + i + "]",
              dep.equals(s.name())
                  ? "a service cannot depend on itself"
                  : "no service named '" + dep + "'",
              "name another service of this spec: " + String.join(", ", serviceFields.keySet()));
        }
      }
    }
    NotificationsSpec notifications =
        f.object("notifications", NOTIFICATIONS)
            .map(this::notifications)
            .orElse(NotificationsSpec.none());
    MetricsSpec metrics =
        f.object("metrics", METRICS).map(this::metrics).orElse(MetricsSpec.defaults());
    Map<String, MetricsSpec.Endpoint> endpoints = new LinkedHashMap<>();
    serviceFields.forEach(
        (name, sf) ->
            sf.get("metrics").flatMap(n -> endpoint(sf, n)).ifPresent(e -> endpoints.put(name, e)));
    metrics = metrics.withEndpoints(endpoints);
    return problems.isEmpty() ? new Spec(proxy, out, notifications, metrics) : null;
  }

  private MetricsSpec metrics(Fields f) {
    MetricsSpec d = MetricsSpec.defaults();
    Duration interval = duration(f, "scrapeInterval", d.scrapeInterval(), false);
    Duration timeout = duration(f, "scrapeTimeout", d.scrapeTimeout(), false);
    if (timeout.compareTo(interval) > 0 && f.has("scrapeTimeout")) {
      problems.at(
          f.get("scrapeTimeout").orElseThrow(),
          f.join("scrapeTimeout"),
          "must not be longer than scrapeInterval (" + interval.toSeconds() + "s)",
          "shorten it or raise scrapeInterval");
    }
    Duration retention = duration(f, "retention", d.retention(), false);
    long size = memoryField(f, "retentionSize", 0);
    int limit =
        f.integer("sampleLimit", 0, 100_000_000).map(Long::intValue).orElse(d.sampleLimit());
    int perMetric =
        f.integer("maxSeriesPerMetric", 1, 100_000_000)
            .map(Long::intValue)
            .orElse(d.maxSeriesPerMetric());
    boolean host = f.bool("hostMetrics").orElse(true);
    List<String> remote = urls(f, "remoteWrite");
    long maxSamples =
        f.integer("queryMaxSamples", 1000, Long.MAX_VALUE).orElse(d.queryMaxSamples());
    MetricsSpec.Limits dl = MetricsSpec.Limits.DEFAULTS;
    Duration queryTimeout = duration(f, "queryTimeout", dl.queryTimeout(), false);
    int concurrency =
        f.integer("queryMaxConcurrency", 1, 10_000)
            .map(Long::intValue)
            .orElse(dl.queryMaxConcurrency());
    Duration future = duration(f, "futureTolerance", dl.futureTolerance(), true);
    int labels = f.integer("labelLimit", 1, 1_000).map(Long::intValue).orElse(dl.labelLimit());
    int nameLen =
        f.integer("labelNameLengthLimit", 1, 65_536)
            .map(Long::intValue)
            .orElse(dl.labelNameLengthLimit());
    int valueLen =
        f.integer("labelValueLengthLimit", 1, 1 << 20)
            .map(Long::intValue)
            .orElse(dl.labelValueLengthLimit());
    long body = memoryField(f, "bodySizeLimit", dl.bodySizeLimit());
    if (body < 4096 && f.has("bodySizeLimit")) {
      problems.at(
          f.get("bodySizeLimit").orElseThrow(),
          f.join("bodySizeLimit"),
          "must be at least 4Ki",
          "write e.g. 64Mi");
    }
    int perRequest =
        f.integer("seriesPerRequest", 1, 10_000_000)
            .map(Long::intValue)
            .orElse(dl.seriesPerRequest());
    return new MetricsSpec(
        interval,
        timeout,
        retention,
        size,
        limit,
        perMetric,
        host,
        remote,
        Map.of(),
        maxSamples,
        new MetricsSpec.Limits(
            queryTimeout, concurrency, future, labels, nameLen, valueLen, body, perRequest));
  }

  private Optional<MetricsSpec.Endpoint> endpoint(Fields sf, Node n) {
    String path = sf.join("metrics");
    if (n instanceof Node.Scalar s && s.type() != Node.Scalar.Type.NULL) {
      if (!s.text().startsWith("/")) {
        problems.at(n, path, "must be a path starting with '/'", "write e.g. 'metrics: /metrics'");
        return Optional.empty();
      }
      return Optional.of(new MetricsSpec.Endpoint(s.text(), 0));
    }
    if (n instanceof Node.MapNode m) {
      Fields ef = new Fields(m, path, problems, ENDPOINT);
      String p = ef.string("path").orElse("/metrics");
      if (!p.startsWith("/")) {
        problems.at(
            ef.get("path").orElseThrow(),
            ef.join("path"),
            "must start with '/'",
            "write e.g. /metrics");
      }
      int port = ef.integer("port", 1, 65535).map(Long::intValue).orElse(0);
      return Optional.of(new MetricsSpec.Endpoint(p, port));
    }
    problems.at(
        n,
        path,
        "must be a path or a map",
        "write e.g. 'metrics: /metrics' or '{path: /metrics, port: 9100}'");
    return Optional.empty();
  }

  private ServiceSpec service(String name, Fields f) {
    int before = problems.list().size();
    String command =
        f.require("command", "give the program to run, e.g. 'command: ./server'")
            .flatMap(n -> f.asString(n, f.join("command")))
            .map(s -> interpolate(s, f.get("command").orElseThrow(), f.join("command")))
            .orElse("");
    if (command.isBlank() && f.has("command")) {
      problems.at(
          f.get("command").orElseThrow(),
          f.join("command"),
          "must not be empty",
          "give the program to run");
    }
    List<String> args = new ArrayList<>();
    f.strings("args")
        .ifPresent(
            list -> {
              Node.ListNode ln = (Node.ListNode) f.get("args").orElseThrow();
              for (int i = 0; i < list.size(); i++) {
                args.add(
                    interpolate(list.get(i), ln.items().get(i), f.join("args") + "[" + i + "]"));
              }
            });
    Map<String, String> env = env(f);
    String workdir =
        f.string("workdir")
            .map(s -> interpolate(s, f.get("workdir").orElseThrow(), f.join("workdir")))
            .map(s -> baseDir.resolve(s).normalize().toString())
            .orElse(baseDir.toString());
    String version = f.string("version").orElse("");
    int replicas = f.integer("replicas", 0, 1000).map(Long::intValue).orElse(1);
    Probe liveness = f.object("liveness", PROBE).map(this::probe).orElse(null);
    Probe readiness = f.object("readiness", PROBE).map(this::probe).orElse(null);
    RestartPolicy restart = restart(f);
    StopPolicy stop = f.object("stop", STOP).map(this::stop).orElse(StopPolicy.defaults());
    Resources resources =
        f.object("resources", RESOURCES).map(this::resources).orElse(Resources.none());
    RouteSpec route = route(f);
    CanarySpec canary =
        f.object("strategy", STRATEGY).map(sf -> strategy(sf, replicas)).orElse(null);
    if (canary != null && canary.kind() != CanarySpec.Kind.ROLLING && route == null) {
      problems.at(
          f.get("strategy").orElseThrow(),
          f.join("strategy"),
          "a " + canary.kind().wire() + " strategy needs the service to have a route",
          "add 'route: /' (or another prefix) so that traffic can be split");
    }
    DeploySpec deploy = f.object("deploy", DEPLOY).map(this::deploy).orElse(DeploySpec.defaults());
    if (problems.list().size() != before) {
      return null;
    }
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        canary,
        deploy,
        inheritEnv(f));
  }

  /** {@code inheritEnv: true} (everything), or a list of variable names. */
  private List<String> inheritEnv(Fields f) {
    Optional<Node> on = f.get("inheritEnv");
    if (on.isEmpty()) {
      return List.of();
    }
    if (on.get() instanceof Node.Scalar sc && sc.type() == Node.Scalar.Type.BOOL) {
      return f.bool("inheritEnv").orElse(false) ? List.of("*") : List.of();
    }
    List<String> names = f.strings("inheritEnv").orElse(List.of());
    for (String n : names) {
      if (!n.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        problems.at(
            on.get(),
            f.join("inheritEnv"),
            "'" + n + "' is not an environment variable name",
            "write true, or a list of names such as [JAVA_HOME, AWS_REGION]");
      }
    }
    return names;
  }

  private Map<String, String> env(Fields f) {
    Map<String, String> env = new LinkedHashMap<>();
    Optional<Node> on = f.get("env");
    if (on.isEmpty()) {
      return env;
    }
    if (!(on.get() instanceof Node.MapNode m)) {
      problems.at(
          on.get(),
          f.join("env"),
          "must be a map of NAME: value, but is " + on.get().kind(),
          "write 'KEY: value' lines indented below 'env:'");
      return env;
    }
    for (Node.Entry e : m.entries().values()) {
      String p = f.join("env") + "." + e.key();
      if (!e.key().matches("[A-Za-z_][A-Za-z0-9_]*")) {
        problems.add(
            e.line(),
            e.column(),
            p,
            "invalid environment variable name '" + e.key() + "'",
            "use letters, digits and '_', not starting with a digit");
        continue;
      }
      if (e.value() instanceof Node.Scalar s) {
        env.put(e.key(), interpolate(s.text(), s, p));
      } else {
        problems.at(
            e.value(), p, "must be a single value, but is " + e.value().kind(), "quote the value");
      }
    }
    return env;
  }

  private Probe probe(Fields f) {
    int kinds = (f.has("http") ? 1 : 0) + (f.has("tcp") ? 1 : 0) + (f.has("exec") ? 1 : 0);
    if (kinds != 1) {
      problems.at(
          f.node(),
          f.path(),
          kinds == 0 ? "no check given" : "more than one check given",
          "give exactly one of 'http: /path', 'tcp: true' or 'exec: [cmd, args]'");
      return null;
    }
    Probe.Kind kind;
    String path = "";
    List<String> command = List.of();
    if (f.has("http")) {
      kind = Probe.Kind.HTTP;
      path = f.string("http").orElse("/");
      if (!path.startsWith("/")) {
        problems.at(
            f.get("http").orElseThrow(),
            f.join("http"),
            "HTTP path must start with '/', but is '" + path + "'",
            "write e.g. 'http: /healthz'");
      }
    } else if (f.has("tcp")) {
      kind = Probe.Kind.TCP;
      if (!f.bool("tcp").orElse(true)) {
        problems.at(
            f.get("tcp").orElseThrow(),
            f.join("tcp"),
            "tcp: false declares no check",
            "write 'tcp: true' or remove the check");
      }
    } else {
      kind = Probe.Kind.EXEC;
      Node n = f.get("exec").orElseThrow();
      if (n instanceof Node.Scalar s && s.type() == Node.Scalar.Type.STRING) {
        command = List.of("sh", "-c", s.text());
      } else {
        command = f.strings("exec").orElse(List.of());
        if (command.isEmpty() && n instanceof Node.ListNode) {
          problems.at(
              n,
              f.join("exec"),
              "must not be empty",
              "give a command, e.g. exec: [test, -f, ready]");
        }
      }
    }
    int port = f.integer("port", 1, 65535).map(Long::intValue).orElse(0);
    Duration interval = duration(f, "interval", Duration.ofSeconds(2), false);
    Duration timeout = duration(f, "timeout", Duration.ofSeconds(1), false);
    int failure = f.integer("failureThreshold", 1, 1000).map(Long::intValue).orElse(3);
    int success = f.integer("successThreshold", 1, 1000).map(Long::intValue).orElse(1);
    Duration delay = duration(f, "initialDelay", Duration.ZERO, true);
    if (interval.isZero() || timeout.isZero()) {
      return null;
    }
    return new Probe(kind, path, port, command, interval, timeout, failure, success, delay);
  }

  private RestartPolicy restart(Fields f) {
    RestartPolicy d = RestartPolicy.defaults();
    Optional<Node> on = f.get("restart");
    if (on.isEmpty()) {
      return d;
    }
    if (on.get() instanceof Node.Scalar s && s.type() == Node.Scalar.Type.STRING) {
      RestartPolicy.Mode mode = mode(s, f.join("restart"));
      return new RestartPolicy(
          mode,
          d.initialBackoff(),
          d.maxBackoff(),
          d.multiplier(),
          d.jitter(),
          d.resetAfter(),
          d.maxRestarts());
    }
    Optional<Fields> of = f.object("restart", RESTART);
    if (of.isEmpty()) {
      return d;
    }
    Fields r = of.get();
    RestartPolicy.Mode mode =
        r.get("policy").map(n -> mode(n, r.join("policy"))).orElse(RestartPolicy.Mode.ALWAYS);
    Duration initial = duration(r, "initialBackoff", d.initialBackoff(), true);
    Duration max = duration(r, "maxBackoff", d.maxBackoff(), true);
    if (max.compareTo(initial) < 0 && r.has("maxBackoff")) {
      problems.at(
          r.get("maxBackoff").orElseThrow(),
          r.join("maxBackoff"),
          "must not be shorter than initialBackoff (" + initial.toMillis() + "ms)",
          "raise maxBackoff or lower initialBackoff");
    }
    double multiplier = r.number("multiplier", 1.0, 10.0, true).orElse(d.multiplier());
    double jitter = r.number("jitter", 0.0, 1.0, false).orElse(d.jitter());
    Duration reset = duration(r, "resetAfter", d.resetAfter(), true);
    int maxRestarts =
        r.integer("maxRestarts", 0, 1_000_000).map(Long::intValue).orElse(d.maxRestarts());
    return new RestartPolicy(
        mode,
        initial,
        max.compareTo(initial) < 0 ? initial : max,
        multiplier,
        jitter,
        reset,
        maxRestarts);
  }

  private RestartPolicy.Mode mode(Node n, String path) {
    String text = n instanceof Node.Scalar s ? s.text().toLowerCase(Locale.ROOT) : "";
    return switch (text) {
      case "always" -> RestartPolicy.Mode.ALWAYS;
      case "on-failure", "on_failure", "onfailure" -> RestartPolicy.Mode.ON_FAILURE;
      case "never" -> RestartPolicy.Mode.NEVER;
      default -> {
        problems.at(
            n,
            path,
            "unknown restart policy " + Fields.describe(n),
            "use always, on-failure or never");
        yield RestartPolicy.Mode.ALWAYS;
      }
    };
  }

  private StopPolicy stop(Fields f) {
    String signal =
        f.string("signal")
            .map(s -> s.toUpperCase(Locale.ROOT).replaceFirst("^SIG", ""))
            .orElse("TERM");
    if (!SIGNALS.contains(signal)) {
      problems.at(
          f.get("signal").orElseThrow(),
          f.join("signal"),
          "unknown signal '" + signal + "'",
          "use one of " + String.join(", ", SIGNALS.stream().sorted().toList()));
    }
    Duration timeout = duration(f, "timeout", Duration.ofSeconds(10), true);
    if (timeout.compareTo(Duration.ofHours(1)) > 0) {
      problems.at(
          f.get("timeout").orElseThrow(),
          f.join("timeout"),
          "must be at most 1h",
          "lower the stop timeout");
    }
    Duration drain = duration(f, "drainTimeout", StopPolicy.defaults().drainTimeout(), true);
    if (drain.compareTo(Duration.ofHours(1)) > 0) {
      problems.at(
          f.get("drainTimeout").orElseThrow(),
          f.join("drainTimeout"),
          "must be at most 1h",
          "lower the drain timeout");
    }
    return new StopPolicy(signal, timeout, drain);
  }

  private ProxySpec proxy(Fields f) {
    ProxySpec d = ProxySpec.defaults();
    String host = f.string("host").orElse(d.host());
    int port = f.integer("port", 0, 65535).map(Long::intValue).orElse(d.port());
    String cert = "";
    String key = "";
    Optional<Fields> tls = f.object("tls", TLS);
    if (tls.isPresent()) {
      cert = file(tls.get(), "cert");
      key = file(tls.get(), "key");
    }
    Duration idle = duration(f, "idleTimeout", d.idleTimeout(), false);
    double sample = d.accessLogSample();
    long maxSize = d.accessLogMaxSize();
    int keep = d.accessLogKeep();
    Optional<Node> al = f.get("accessLog");
    if (al.isPresent()) {
      if (al.get() instanceof Node.Scalar sc && sc.type() == Node.Scalar.Type.BOOL) {
        sample = f.bool("accessLog").orElse(true) ? 1.0 : 0.0;
      } else {
        Optional<Fields> a = f.object("accessLog", ACCESS_LOG);
        sample = a.flatMap(x -> x.number("sample", 0.0, 1.0, true)).orElse(1.0);
        if (a.isPresent()) {
          maxSize = memoryField(a.get(), "maxSize", maxSize);
          if (maxSize < 4096) {
            problems.at(
                a.get().get("maxSize").orElseThrow(),
                a.get().join("maxSize"),
                "must be at least 4Ki",
                "write e.g. 100Mi");
            maxSize = d.accessLogMaxSize();
          }
          keep = a.get().integer("keep", 1, 1000).map(Long::intValue).orElse(keep);
        }
      }
    }
    List<String> trusted = f.strings("trustedProxies").orElse(List.of());
    for (int i = 0; i < trusted.size(); i++) {
      String t = trusted.get(i);
      if (!t.matches("[0-9a-fA-F:.]+(/\\d{1,3})?")) {
        problems.at(
            f.get("trustedProxies").orElseThrow(),
            f.join("trustedProxies") + "[" + i + "]",
            "'" + t + "' is not an IP address or CIDR block",
            "write e.g. 10.0.0.0/8 or 192.168.1.10");
      }
    }
    Duration body = duration(f, "bodyTimeout", d.bodyTimeout(), false);
    return new ProxySpec(host, port, cert, key, idle, sample, maxSize, keep, trusted, body);
  }

  private NotificationsSpec notifications(Fields f) {
    List<String> webhooks = urls(f, "webhooks");
    List<String> slack = urls(f, "slack");
    String smtp = "";
    String from = "";
    List<String> to = List.of();
    Optional<Fields> email = f.object("email", EMAIL);
    if (email.isPresent()) {
      Fields e = email.get();
      smtp =
          e.require("smtp", "give the SMTP server as host:port")
              .flatMap(n -> e.string("smtp"))
              .orElse("");
      if (!smtp.isEmpty() && !smtp.matches("[A-Za-z0-9.\\-]+:\\d{1,5}")) {
        problems.at(
            e.get("smtp").orElseThrow(),
            e.join("smtp"),
            "invalid SMTP server '" + smtp + "'",
            "write host:port, e.g. localhost:25");
      }
      from = e.string("from").orElse("pilothouse@localhost");
      to = e.strings("to").orElse(List.of());
      if (to.isEmpty()) {
        problems.at(
            e.node(),
            e.join("to"),
            "email needs at least one recipient",
            "write e.g. 'to: [oncall@example.com]'");
      }
    }
    List<String> events = f.strings("events").orElse(List.of());
    return new NotificationsSpec(webhooks, slack, smtp, from, to, events);
  }

  private List<String> urls(Fields f, String field) {
    List<String> list = f.strings(field).orElse(List.of());
    for (int i = 0; i < list.size(); i++) {
      String u = list.get(i);
      if (!u.startsWith("http://") && !u.startsWith("https://")) {
        Node at = ((Node.ListNode) f.get(field).orElseThrow()).items().get(i);
        problems.at(
            at,
            f.join(field) + "[" + i + "]",
            "'" + u + "' is not an http(s) URL",
            "write e.g. https://hooks.example.com/…");
      }
    }
    return list;
  }

  private String file(Fields f, String field) {
    Optional<String> v = f.string(field);
    if (v.isEmpty()) {
      f.require(field, "give the path of the PEM file");
      return "";
    }
    Path p = baseDir.resolve(v.get()).normalize();
    if (!java.nio.file.Files.isReadable(p)) {
      problems.at(
          f.get(field).orElseThrow(),
          f.join(field),
          "file " + p + " does not exist or is not readable",
          "give the path of a PEM file");
    }
    return p.toString();
  }

  private RouteSpec route(Fields service) {
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

  private CanarySpec strategy(Fields f, int serviceReplicas) {
    String type = f.string("type").orElse("rolling");
    CanarySpec.Kind kind =
        switch (Fields.norm(type)) {
          case "rolling" -> CanarySpec.Kind.ROLLING;
          case "canary" -> CanarySpec.Kind.CANARY;
          case "bluegreen" -> CanarySpec.Kind.BLUE_GREEN;
          default -> null;
        };
    if (kind == null) {
      problems.at(
          f.get("type").orElseThrow(),
          f.join("type"),
          "unknown strategy '" + type + "'",
          "use rolling, canary or blueGreen");
      return null;
    }
    List<String> notFor =
        switch (kind) {
          case ROLLING ->
              List.of(
                  "canaryReplicas",
                  "steps",
                  "match",
                  "analysis",
                  "smoke",
                  "checks",
                  "load",
                  "sticky",
                  "rollbackWindow",
                  "validation",
                  "maxAnalysisWait");
          case CANARY -> List.of("maxSurge", "maxUnavailable", "rollbackWindow");
          case BLUE_GREEN -> List.of("maxSurge", "maxUnavailable", "steps", "sticky");
        };
    for (String field : notFor) {
      f.get(field)
          .ifPresent(
              n ->
                  problems.at(
                      n,
                      f.join(field),
                      "'" + field + "' does not apply to a " + kind.wire() + " strategy",
                      "remove it, or choose another strategy type"));
    }
    CanarySpec.Amount surge = amount(f, "maxSurge", CanarySpec.Amount.of(1));
    CanarySpec.Amount unavailable = amount(f, "maxUnavailable", CanarySpec.Amount.of(0));
    if (kind == CanarySpec.Kind.ROLLING && surge.value() == 0 && unavailable.value() == 0) {
      problems.at(
          f.get("maxSurge").or(() -> f.get("maxUnavailable")).orElseThrow(),
          f.join("maxSurge"),
          "maxSurge and maxUnavailable are both 0, so no instance could ever be replaced",
          "allow at least one: e.g. 'maxSurge: 1' (start the new one first)");
    }
    List<CanarySpec.Step> steps =
        new ArrayList<>(
            List.of(
                CanarySpec.Step.weight(10),
                CanarySpec.Step.analysis(Duration.ofSeconds(30)),
                CanarySpec.Step.weight(50),
                CanarySpec.Step.analysis(Duration.ofSeconds(30))));
    Optional<Node> sn = f.get("steps");
    if (sn.isPresent()) {
      steps.clear();
      if (!(sn.get() instanceof Node.ListNode list) || list.items().isEmpty()) {
        problems.at(
            sn.get(),
            f.join("steps"),
            "must be a non-empty list of steps",
            "write e.g. '- weight: 10' then '- analysis: 30s'");
      } else {
        for (int i = 0; i < list.items().size(); i++) {
          step(list.items().get(i), f.join("steps") + "[" + i + "]").ifPresent(steps::add);
        }
      }
    }
    List<CanarySpec.MatchRule> match = new ArrayList<>();
    Optional<Node> mn = f.get("match");
    if (mn.isPresent()) {
      if (!(mn.get() instanceof Node.ListNode list)) {
        problems.at(
            mn.get(),
            f.join("match"),
            "must be a list",
            "write e.g. '- {header: x-canary, value: \"1\"}'");
      } else {
        for (int i = 0; i < list.items().size(); i++) {
          Node item = list.items().get(i);
          String path = f.join("match") + "[" + i + "]";
          if (!(item instanceof Node.MapNode m)) {
            problems.at(
                item, path, "must be a map", "write e.g. '{header: x-canary, value: \"1\"}'");
            continue;
          }
          Fields mf = new Fields(m, path, problems, MATCH);
          if (mf.has("header") == mf.has("cookie")) {
            problems.at(
                item,
                path,
                "give exactly one of 'header' or 'cookie'",
                "write e.g. '{cookie: canary, value: yes}'");
            continue;
          }
          String on = mf.has("header") ? "header" : "cookie";
          String name = mf.string(on).orElse("");
          match.add(new CanarySpec.MatchRule(on, name, mf.string("value").orElse("*")));
        }
      }
    }
    int replicas =
        f.integer("canaryReplicas", 1, 1000)
            .map(Long::intValue)
            .orElse(kind == CanarySpec.Kind.BLUE_GREEN ? Math.max(1, serviceReplicas) : 1);
    Duration deadline = duration(f, "progressDeadline", Duration.ofMinutes(10), false);
    Duration maxWait = duration(f, "maxAnalysisWait", Duration.ofMinutes(5), true);
    double alpha = 0.05;
    int minRequests = 50;
    double maxErr = 0.01;
    double maxLatMs = 5;
    double maxLatRatio = 0.10;
    Optional<Fields> a = f.object("analysis", ANALYSIS);
    if (a.isPresent()) {
      Fields af = a.get();
      alpha = af.number("alpha", 0.0001, 0.5, true).orElse(alpha);
      minRequests =
          af.integer("minRequests", 1, 10_000_000).map(Long::intValue).orElse(minRequests);
      maxErr = af.number("maxErrorRateIncrease", 0.0, 1.0, true).orElse(maxErr);
      maxLatMs = duration(af, "maxLatencyIncrease", Duration.ofMillis(5), true).toNanos() / 1e6;
      maxLatRatio = af.number("maxLatencyIncreaseRatio", 0.0, 100.0, true).orElse(maxLatRatio);
    }
    List<CanarySpec.SmokeTest> smoke = new ArrayList<>();
    for (Fields sf : objects(f, "smoke", SMOKE, "write e.g. '- {path: /health, status: 200}'")) {
      String p =
          sf.require("path", "give the request path, e.g. 'path: /health'").isPresent()
              ? sf.string("path").orElse("/")
              : "/";
      if (!p.startsWith("/")) {
        problems.at(
            sf.get("path").orElseThrow(),
            sf.join("path"),
            "must start with '/'",
            "write e.g. /health");
      }
      smoke.add(
          new CanarySpec.SmokeTest(
              sf.string("method").orElse("GET").toUpperCase(Locale.ROOT),
              p,
              sf.integer("status", 100, 599).map(Long::intValue).orElse(200),
              sf.string("body").orElse(""),
              duration(sf, "maxLatency", Duration.ofSeconds(2), false)));
    }
    List<CanarySpec.Check> checks = new ArrayList<>();
    List<Fields> checkFields =
        objects(f, "checks", CHECK, "write e.g. '- {name: db, command: ./check-db.sh}'");
    for (int i = 0; i < checkFields.size(); i++) {
      Fields cf = checkFields.get(i);
      int kinds =
          (cf.has("webhook") ? 1 : 0) + (cf.has("command") ? 1 : 0) + (cf.has("promql") ? 1 : 0);
      if (kinds != 1) {
        problems.at(
            cf.node(),
            cf.path(),
            "give exactly one of 'webhook', 'command' or 'promql'",
            "write e.g. '{name: errors, webhook: http://127.0.0.1:9000/check}'");
        continue;
      }
      String ck = cf.has("webhook") ? "webhook" : cf.has("command") ? "command" : "promql";
      String target = cf.string(ck).orElse("");
      String wrong = ck.equals("promql") ? promql.problem(target) : null;
      if (wrong != null) {
        problems.at(
            cf.get(ck).orElseThrow(),
            cf.join(ck),
            "invalid PromQL: " + wrong,
            "write an expression that is true (non-zero) while the new version is healthy,"
                + " e.g. 'sum(rate(errors_total{version=\"v2\"}[1m])) < 1'");
      }
      if (ck.equals("webhook") && !target.startsWith("http://") && !target.startsWith("https://")) {
        problems.at(
            cf.get(ck).orElseThrow(),
            cf.join(ck),
            "must be an http:// or https:// URL",
            "write e.g. http://127.0.0.1:9000/check");
      }
      checks.add(
          new CanarySpec.Check(
              cf.string("name").orElse(ck + "-" + (i + 1)),
              ck,
              target,
              duration(cf, "timeout", Duration.ofSeconds(30), false)));
    }
    CanarySpec.Load load =
        f.object("load", LOAD)
            .map(
                lf ->
                    new CanarySpec.Load(
                        lf.number("rate", 0.001, 100_000, true).orElse(10.0),
                        lf.string("path").orElse("/")))
            .orElse(null);
    Duration rollbackWindow =
        duration(
            f,
            "rollbackWindow",
            kind == CanarySpec.Kind.BLUE_GREEN ? Duration.ofMinutes(1) : Duration.ZERO,
            true);
    Duration validation =
        duration(
            f,
            "validation",
            kind == CanarySpec.Kind.BLUE_GREEN ? rollbackWindow : Duration.ZERO,
            true);
    boolean sticky = f.bool("sticky").orElse(false);
    return new CanarySpec(
        kind == CanarySpec.Kind.CANARY ? steps : List.of(),
        replicas,
        match,
        deadline,
        maxWait,
        alpha,
        minRequests,
        maxErr,
        maxLatMs,
        maxLatRatio,
        kind,
        surge,
        unavailable,
        smoke,
        checks,
        load,
        validation,
        sticky,
        rollbackWindow);
  }

  /** The maps of a list field, each checked against known; a problem for anything else. */
  private List<Fields> objects(Fields f, String field, List<String> known, String hint) {
    List<Fields> out = new ArrayList<>();
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return out;
    }
    if (!(on.get() instanceof Node.ListNode list)) {
      problems.at(on.get(), f.join(field), "must be a list", hint);
      return out;
    }
    for (int i = 0; i < list.items().size(); i++) {
      Node item = list.items().get(i);
      String path = f.join(field) + "[" + i + "]";
      if (item instanceof Node.MapNode m) {
        out.add(new Fields(m, path, problems, known));
      } else {
        problems.at(item, path, "must be a map", hint);
      }
    }
    return out;
  }

  private CanarySpec.Amount amount(Fields f, String field, CanarySpec.Amount dflt) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return dflt;
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    Matcher m = AMOUNT.matcher(text);
    if (!m.matches() || (m.group(2) != null && Integer.parseInt(m.group(1)) > 100)) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid amount " + Fields.describe(on.get()),
          "write a count of instances, e.g. 1, or a percentage up to 100%, e.g. 25%");
      return dflt;
    }
    return new CanarySpec.Amount(Integer.parseInt(m.group(1)), m.group(2) != null);
  }

  private DeploySpec deploy(Fields f) {
    DeploySpec d = DeploySpec.defaults();
    String artifact =
        f.string("artifact").map(a -> baseDir.resolve(a).normalize().toString()).orElse("");
    String sha = f.string("sha256").map(x -> x.toLowerCase(Locale.ROOT)).orElse("");
    if (!sha.isEmpty() && !sha.matches("[0-9a-f]{64}")) {
      problems.at(
          f.get("sha256").orElseThrow(),
          f.join("sha256"),
          "must be 64 hex digits",
          "write the output of 'sha256sum FILE'");
    }
    if (!sha.isEmpty() && artifact.isEmpty()) {
      problems.at(
          f.get("sha256").orElseThrow(),
          f.join("sha256"),
          "a checksum needs an artifact",
          "add 'artifact: PATH' naming the file to check");
    }
    List<String> dependsOn = f.strings("dependsOn").orElse(List.of());
    List<DeploySpec.FreezeWindow> freeze = new ArrayList<>();
    for (Fields ff :
        objects(f, "freeze", FREEZE, "write e.g. '- {days: [sat, sun], reason: weekend}'")) {
      freeze(ff).ifPresent(freeze::add);
    }
    long minDisk = memoryField(f, "minFreeDisk", d.minFreeDisk());
    long minMem = memoryField(f, "minFreeMemory", d.minFreeMemory());
    List<String> data =
        f.strings("dataPaths").orElse(List.of()).stream()
            .map(p -> baseDir.resolve(p).normalize().toString())
            .toList();
    String hook = f.string("preDeploy").orElse("");
    Duration hookTimeout = duration(f, "preDeployTimeout", d.preDeployTimeout(), false);
    int keep = f.integer("keepBackups", 1, 1000).map(Long::intValue).orElse(d.keepBackups());
    return new DeploySpec(
        artifact, sha, dependsOn, freeze, minDisk, minMem, data, hook, hookTimeout, keep);
  }

  private Optional<DeploySpec.FreezeWindow> freeze(Fields f) {
    String reason = f.string("reason").orElse("");
    if (f.has("start") || f.has("end")) {
      Optional<Instant> start = instant(f, "start");
      Optional<Instant> end = instant(f, "end");
      if (start.isEmpty() || end.isEmpty()) {
        if (!f.has("start") || !f.has("end")) {
          problems.at(
              f.node(),
              f.path(),
              "an absolute freeze window needs both 'start' and 'end'",
              "write e.g. '{start: 2026-12-24T00:00:00Z, end: 2026-12-27T00:00:00Z}'");
        }
        return Optional.empty();
      }
      if (!end.get().isAfter(start.get())) {
        problems.at(f.get("end").orElseThrow(), f.join("end"), "must be after start", "swap them");
        return Optional.empty();
      }
      return Optional.of(
          new DeploySpec.FreezeWindow(start.get(), end.get(), null, null, null, "UTC", reason));
    }
    List<String> dayNames = f.strings("days").orElse(List.of());
    if (dayNames.isEmpty()) {
      problems.at(
          f.node(),
          f.path(),
          "a freeze window needs 'start' and 'end', or weekly 'days'",
          "write e.g. '{days: [fri, sat, sun], from: \"16:00\", to: \"23:59\"}'");
      return Optional.empty();
    }
    java.util.Set<java.time.DayOfWeek> days = new java.util.HashSet<>();
    for (int i = 0; i < dayNames.size(); i++) {
      Optional<java.time.DayOfWeek> day = day(dayNames.get(i));
      if (day.isEmpty()) {
        problems.at(
            ((Node.ListNode) f.get("days").orElseThrow()).items().get(i),
            f.join("days") + "[" + i + "]",
            "unknown day '" + dayNames.get(i) + "'",
            "use mon, tue, wed, thu, fri, sat or sun");
      } else {
        days.add(day.get());
      }
    }
    java.time.LocalTime from = time(f, "from");
    java.time.LocalTime to = time(f, "to");
    String zone = f.string("timezone").orElse("UTC");
    try {
      java.time.ZoneId.of(zone);
    } catch (java.time.DateTimeException e) {
      problems.at(
          f.get("timezone").orElseThrow(),
          f.join("timezone"),
          "unknown time zone '" + zone + "'",
          "write an IANA zone such as Europe/Berlin, or UTC");
      return Optional.empty();
    }
    return Optional.of(new DeploySpec.FreezeWindow(null, null, days, from, to, zone, reason));
  }

  private static Optional<java.time.DayOfWeek> day(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    for (java.time.DayOfWeek d : java.time.DayOfWeek.values()) {
      String full = d.toString().toLowerCase(Locale.ROOT);
      if (n.length() >= 3 && full.startsWith(n)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  private java.time.LocalTime time(Fields f, String field) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return null;
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    if (text.equals("24:00")) {
      return null;
    }
    try {
      return java.time.LocalTime.parse(text.length() == 4 ? "0" + text : text);
    } catch (java.time.format.DateTimeParseException e) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid time of day " + Fields.describe(on.get()),
          "write HH:MM in quotes, e.g. \"16:00\"");
      return null;
    }
  }

  private Optional<Instant> instant(Fields f, String field) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return Optional.empty();
    }
    String text = on.get() instanceof Node.Scalar sc ? sc.text().trim() : "";
    try {
      return Optional.of(java.time.OffsetDateTime.parse(text).toInstant());
    } catch (java.time.format.DateTimeParseException e) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid time " + Fields.describe(on.get()),
          "write an ISO 8601 time with offset, e.g. 2026-12-24T00:00:00Z");
      return Optional.empty();
    }
  }

  private long memoryField(Fields f, String field, long dflt) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return dflt;
    }
    Optional<Long> v =
        on.get() instanceof Node.Scalar sc ? Quantities.memory(sc.text()) : Optional.empty();
    if (v.isEmpty()) {
      problems.at(
          on.get(),
          f.join(field),
          "invalid size " + Fields.describe(on.get()),
          "write e.g. 512Mi or 2Gi");
      return dflt;
    }
    return v.get();
  }

  private Optional<CanarySpec.Step> step(Node item, String path) {
    if (!(item instanceof Node.MapNode m) || m.entries().size() != 1) {
      problems.at(
          item,
          path,
          "each step is one of 'weight: N', 'pause: DURATION', 'pause: manual' or 'analysis: DURATION'",
          "write e.g. '- weight: 10'");
      return Optional.empty();
    }
    Fields sf = new Fields(m, path, problems, STEP);
    if (sf.has("weight")) {
      return sf.integer("weight", 0, 100).map(w -> CanarySpec.Step.weight(w.intValue()));
    }
    if (sf.has("analysis")) {
      return Optional.of(
          CanarySpec.Step.analysis(duration(sf, "analysis", Duration.ofSeconds(30), false)));
    }
    if (sf.has("pause")) {
      Node p = sf.get("pause").orElseThrow();
      if (p instanceof Node.Scalar sc && sc.text().equalsIgnoreCase("manual")) {
        return Optional.of(CanarySpec.Step.pause(null));
      }
      return Optional.of(
          CanarySpec.Step.pause(duration(sf, "pause", Duration.ofSeconds(30), false)));
    }
    return Optional.empty();
  }

  private Resources resources(Fields f) {
    double cpu = 0;
    long memory = 0;
    Optional<Node> c = f.get("cpu");
    if (c.isPresent()) {
      Optional<Double> v =
          c.get() instanceof Node.Scalar s ? Quantities.cpu(s.text()) : Optional.empty();
      if (v.isEmpty() || v.get() <= 0 || v.get() > 1024 || v.get().isNaN()) {
        problems.at(
            c.get(),
            f.join("cpu"),
            "invalid CPU amount " + Fields.describe(c.get()),
            "write cores, e.g. 0.5, or millicores, e.g. 500m");
      } else {
        cpu = v.get();
      }
    }
    Optional<Node> m = f.get("memory");
    if (m.isPresent()) {
      Optional<Long> v =
          m.get() instanceof Node.Scalar s ? Quantities.memory(s.text()) : Optional.empty();
      if (v.isEmpty() || v.get() <= 0) {
        problems.at(
            m.get(),
            f.join("memory"),
            "invalid memory size " + Fields.describe(m.get()),
            "write e.g. 256Mi, 1Gi or 512M");
      } else {
        memory = v.get();
      }
    }
    return new Resources(cpu, memory);
  }

  private Duration duration(Fields f, String field, Duration dflt, boolean zeroAllowed) {
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return dflt;
    }
    Node n = on.get();
    String text = n instanceof Node.Scalar s ? s.text() : "";
    if (n instanceof Node.Scalar s
        && (s.type() == Node.Scalar.Type.INT || s.type() == Node.Scalar.Type.FLOAT)) {
      problems.at(
          n,
          f.join(field),
          "duration " + s.text() + " has no unit",
          "write e.g. '" + s.text() + "s' or '" + s.text() + "ms'");
      return dflt;
    }
    Optional<Duration> d = Quantities.duration(text);
    if (d.isEmpty()) {
      problems.at(
          n,
          f.join(field),
          "invalid duration " + Fields.describe(n),
          "write e.g. 500ms, 10s, 5m or 1h30m");
      return dflt;
    }
    if (d.get().isZero() && !zeroAllowed) {
      problems.at(n, f.join(field), "must be longer than zero", "write e.g. 1s");
      return dflt;
    }
    return d.get();
  }

  private String interpolate(String s, Node at, String path) {
    Matcher m = VAR.matcher(s);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement;
      if (m.group(1) == null) {
        replacement = "${";
      } else if (m.group(1).equals("PORT")) {
        replacement = "${PORT}";
      } else if (vars.containsKey(m.group(1))) {
        replacement = vars.get(m.group(1));
      } else {
        problems.at(
            at,
            path,
            "variable ${" + m.group(1) + "} is not set",
            "export "
                + m.group(1)
                + " before running pilothouse, or write $${"
                + m.group(1)
                + "} for a literal");
        replacement = "";
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Names of the variables a spec text refers to, so a client can send just those. */
  public static Set<String> referencedVariables(String text) {
    Set<String> names = new java.util.TreeSet<>();
    Matcher m = VAR.matcher(text);
    while (m.find()) {
      if (m.group(1) != null && !m.group(1).equals("PORT")) {
        names.add(m.group(1));
      }
    }
    return names;
  }
}
