package dev.pilothouse.spec;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import java.nio.file.Path;
import java.time.Duration;
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

  static final List<String> TOP = List.of("version", "services");
  static final List<String> SERVICE =
      List.of(
          "command",
          "args",
          "env",
          "workdir",
          "version",
          "replicas",
          "liveness",
          "readiness",
          "restart",
          "stop",
          "resources");
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
  static final List<String> STOP = List.of("signal", "timeout");
  static final List<String> RESOURCES = List.of("cpu", "memory");
  static final Set<String> SIGNALS =
      Set.of("TERM", "INT", "QUIT", "HUP", "USR1", "USR2", "KILL", "WINCH");

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final Pattern VAR = Pattern.compile("\\$\\$\\{|\\$\\{([A-Za-z_][A-Za-z0-9_]*)\\}");

  private final String file;
  private final Path baseDir;
  private final Map<String, String> vars;
  private final Problems problems;

  private SpecParser(String file, Path baseDir, Map<String, String> vars) {
    this.file = file;
    this.baseDir = baseDir;
    this.vars = vars;
    this.problems = new Problems(file);
  }

  /**
   * Parses spec text.
   *
   * @param file the name shown in messages
   * @param baseDir the directory relative paths (workdir, command) are resolved against
   * @param vars values for {@code ${NAME}} references
   */
  public static ParsedSpec parse(String file, String text, Path baseDir, Map<String, String> vars) {
    requireNonNull(file, "file");
    requireNonNull(text, "text");
    requireNonNull(baseDir, "baseDir");
    requireNonNull(vars, "vars");
    return new SpecParser(file, baseDir.toAbsolutePath().normalize(), vars).run(text);
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
    List<ServiceSpec> out = new ArrayList<>();
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
      ServiceSpec s = service(e.key(), new Fields(m, path, problems, SERVICE));
      if (s != null) {
        out.add(s);
      }
    }
    return problems.isEmpty() ? new Spec(out) : null;
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
    if (problems.list().size() != before) {
      return null;
    }
    return new ServiceSpec(
        name, command, args, env, workdir, version, replicas, liveness, readiness, restart, stop,
        resources);
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
    return new StopPolicy(signal, timeout);
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
