package dev.pilothouse.spec;

import dev.pilothouse.core.spec.AnalysisTemplate;
import dev.pilothouse.core.spec.Strategy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What every section reader shares: where the spec comes from, its problems, and field helpers. */
abstract class SectionReader {

  static final List<String> TOP =
      List.of(
          "version",
          "proxy",
          "notifications",
          "metrics",
          "services",
          "flags",
          "analysisTemplates",
          "experiments",
          "alerting",
          "oncall",
          "repositories",
          "secrets",
          "cost",
          "chaos",
          "runtime",
          "regions");
  static final List<String> TEMPLATE = List.of("args", "metrics");
  static final List<String> TEMPLATE_ARG = List.of("name", "value");
  static final List<String> TEMPLATE_METRIC =
      List.of(
          "name",
          "webhook",
          "command",
          "promql",
          "timeout",
          "interval",
          "count",
          "failureLimit",
          "inconclusiveLimit");
  static final List<String> TEMPLATE_USE = List.of("template", "args");
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
          "queryMaxSamples",
          "source");
  static final List<String> METRICS_SOURCE =
      List.of("url", "bearerTokenFile", "timeout", "headers");
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
          "image",
          "regions",
          "replicas",
          "liveness",
          "readiness",
          "restart",
          "stop",
          "resources",
          "route",
          "strategy",
          "deploy",
          "metrics",
          "slos",
          "autoscale",
          "remediation",
          "backup",
          "recovery");
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
          "rollbackWindow",
          "gates",
          "mirror",
          "baseline");
  static final List<String> GATE = List.of("name", "type", "url", "timeout");
  static final List<String> MIRROR = List.of("percent");
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
          "keepBackups",
          "scan");
  static final List<String> FREEZE =
      List.of("start", "end", "days", "from", "to", "timezone", "reason");
  static final List<String> STEP = List.of("weight", "pause", "analysis");
  static final List<String> MATCH = List.of("header", "cookie", "value", "prefix", "regex");
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

  static final Pattern AMOUNT = Pattern.compile("(\\d{1,4})(%)?");
  static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  static final Pattern VAR = Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

  final String file;
  final Path baseDir;
  final Map<String, String> vars;
  final Problems problems;
  final ExpressionCheck promql;

  /** The spec's analysis templates by name, read before the services that use them. */
  final Map<String, AnalysisTemplate> templates;

  SectionReader(String file, Path baseDir, Map<String, String> vars, ExpressionCheck promql) {
    this.file = file;
    this.baseDir = baseDir;
    this.vars = vars;
    this.problems = new Problems(file);
    this.promql = promql;
    this.templates = new java.util.LinkedHashMap<>();
  }

  /** A reader of another section of the same file, reporting into the same problems. */
  SectionReader(SectionReader parent) {
    this.file = parent.file;
    this.baseDir = parent.baseDir;
    this.vars = parent.vars;
    this.problems = parent.problems;
    this.promql = parent.promql;
    this.templates = parent.templates;
  }

  /**
   * A custom check or a template's metric: exactly one of webhook, command or promql. PromQL is
   * validated with {@code {{args.NAME}}} references filled in by example values (when one has none,
   * each use of the template is validated instead).
   */
  Optional<Strategy.Check> check(Fields cf, int i, Map<String, String> examples) {
    int kinds =
        (cf.has("webhook") ? 1 : 0) + (cf.has("command") ? 1 : 0) + (cf.has("promql") ? 1 : 0);
    if (kinds != 1) {
      problems.at(
          cf.node(),
          cf.path(),
          "give exactly one of 'webhook', 'command' or 'promql'",
          "write e.g. '{name: errors, webhook: http://127.0.0.1:9000/check}'");
      return Optional.empty();
    }
    String ck = cf.has("webhook") ? "webhook" : cf.has("command") ? "command" : "promql";
    String target = cf.string(ck).orElse("");
    String filled = AnalysisTemplate.fill(target, examples);
    String wrong =
        ck.equals("promql") && AnalysisTemplate.references(filled).isEmpty()
            ? promql.problem(filled)
            : null; // with references left, the uses that fill them are checked
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
    return Optional.of(
        new Strategy.Check(
            cf.string("name").orElse(ck + "-" + (i + 1)),
            ck,
            target,
            duration(cf, "timeout", Duration.ofSeconds(30), false)));
  }

  /**
   * The entries of a map of named definitions (templates, experiments): each name must be a valid
   * name and each definition a map; the good ones are handed on as Fields with their name.
   */
  void named(
      Node node,
      String path,
      String what,
      List<String> known,
      String example,
      java.util.function.BiConsumer<String, Fields> each) {
    if (!(node instanceof Node.MapNode m)) {
      problems.at(node, path, "must be a map of " + what + " names to " + what + "s", example);
      return;
    }
    for (Node.Entry e : m.entries().values()) {
      String at = path + "." + e.key();
      if (!NAME.matcher(e.key()).matches()) {
        problems.add(
            e.line(),
            e.column(),
            at,
            "invalid " + what + " name '" + e.key() + "'",
            "use 1-63 lowercase letters, digits and '-'");
      }
      if (!(e.value() instanceof Node.MapNode em)) {
        problems.at(e.value(), at, "must be a map", example);
        continue;
      }
      each.accept(e.key(), new Fields(em, at, problems, known));
    }
  }

  /** A custom check of a strategy (no template references). */
  Optional<Strategy.Check> check(Fields cf, int i) {
    return check(cf, i, Map.of());
  }

  List<String> urls(Fields f, String field) {
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

  String file(Fields f, String field) {
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

  /** The maps of a list field, each checked against known; a problem for anything else. */
  List<Fields> objects(Fields f, String field, List<String> known, String hint) {
    return objects(f, field, known, hint, Integer.MAX_VALUE);
  }

  /** As {@link #objects(Fields, String, List, String)}, refusing a list longer than max. */
  List<Fields> objects(Fields f, String field, List<String> known, String hint, int max) {
    List<Fields> out = new ArrayList<>();
    Optional<Node> on = f.get(field);
    if (on.isEmpty()) {
      return out;
    }
    if (!(on.get() instanceof Node.ListNode list)) {
      problems.at(on.get(), f.join(field), "must be a list", hint);
      return out;
    }
    if (list.items().size() > max) {
      problems.at(
          on.get(),
          f.join(field),
          "has " + list.items().size() + " entries; at most " + max + " are allowed",
          "keep the " + max + " that matter (docs/limits.md)");
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

  Duration duration(Fields f, String field, Duration dflt, boolean zeroAllowed) {
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

  String interpolate(String s, Node at, String path) {
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

  long memoryField(Fields f, String field, long dflt) {
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
}
