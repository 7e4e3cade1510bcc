package dev.pilothouse.spec;

import dev.pilothouse.core.security.SecretRecord;
import dev.pilothouse.core.spec.DeploySpec;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.StopPolicy;
import dev.pilothouse.core.spec.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One entry of {@code services:}: command, environment, probes, restart and stop policies,
 * resources; its route, strategy and deploy sections are read by their own readers.
 */
final class ServiceReader extends SectionReader {
  ServiceReader(SectionReader parent) {
    super(parent);
  }

  ServiceSpec service(String name, Fields f) {
    int before = problems.list().size();
    String image = f.string("image").orElse("");
    if (f.has("image") && !ServiceSpec.IMAGE.matcher(image).matches()) {
      problems.at(
          f.get("image").orElseThrow(),
          f.join("image"),
          "'" + image + "' is not a container image reference",
          "write e.g. 'image: registry.example.com/shop/web:1.4.2' (no spaces)");
    }
    // A container's image has its own entrypoint: command is then optional (it overrides it).
    // As in Compose and Kubernetes, command may be a list: the program, then its first arguments.
    List<String> args = new ArrayList<>();
    int problemsBefore = problems.list().size();
    String command;
    if (f.get("command").orElse(null) instanceof Node.ListNode ln) {
      List<String> parts = f.strings("command").orElse(List.of());
      for (int i = 0; i < parts.size(); i++) {
        args.add(interpolate(parts.get(i), ln.items().get(i), f.join("command") + "[" + i + "]"));
      }
      command = args.isEmpty() ? "" : args.remove(0);
    } else {
      command =
          (f.has("image")
                  ? f.get("command")
                  : f.require(
                      "command",
                      "give the program to run, e.g. 'command: ./server' (or an 'image:')"))
              .flatMap(n -> f.asString(n, f.join("command")))
              .map(s -> interpolate(s, f.get("command").orElseThrow(), f.join("command")))
              .orElse("");
    }
    if (command.isBlank() && f.has("command") && problems.list().size() == problemsBefore) {
      problems.at(
          f.get("command").orElseThrow(),
          f.join("command"),
          "must not be empty",
          "give the program to run");
    }
    f.strings("args")
        .ifPresent(
            list -> {
              Node.ListNode ln = (Node.ListNode) f.get("args").orElseThrow();
              for (int i = 0; i < list.size(); i++) {
                args.add(
                    interpolate(list.get(i), ln.items().get(i), f.join("args") + "[" + i + "]"));
              }
            });
    Map<String, SecretRef> secretEnv = new LinkedHashMap<>();
    Map<String, String> env = env(f, secretEnv);
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
    RouteSpec route = new RouteReader(this).route(f);
    Strategy strategy =
        f.object("strategy", STRATEGY)
            .map(sf -> new StrategyReader(this).strategy(sf, replicas))
            .orElse(null);
    if (strategy instanceof Strategy.Progressive && route == null) {
      problems.at(
          f.get("strategy").orElseThrow(),
          f.join("strategy"),
          "a " + strategy.kind().wire() + " strategy needs the service to have a route",
          "add 'route: /' (or another prefix) so that traffic can be split");
    }
    DeploySpec deploy =
        f.object("deploy", DEPLOY)
            .map(new DeployReader(this)::deploy)
            .orElse(DeploySpec.defaults());
    dev.pilothouse.core.spec.Autoscale autoscale =
        f.object("autoscale", AutoscaleReader.AUTOSCALE)
            .map(a -> new AutoscaleReader(this).autoscale(a, resources, route != null))
            .orElse(null);
    List<dev.pilothouse.core.spec.Remediation> remediation =
        new RemediationReader(this).remediation(f);
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
        strategy,
        deploy,
        inheritEnv(f),
        autoscale,
        remediation,
        secretEnv,
        image,
        f.strings("regions").orElse(List.of()));
  }

  /** {@code inheritEnv: true} (everything), or a list of variable names. */
  List<String> inheritEnv(Fields f) {
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

  /** A plain value under a name like these is probably a secret written in clear. */
  static final Pattern SECRET_LIKE =
      Pattern.compile(
          "(?i).*(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DSN).*");

  static final List<String> SECRET_REF = List.of("secret", "file");

  /**
   * A service's env: plain values (returned), and {@code {secret: NAME[, file: true]}} entries put
   * into secrets; where secrets is null (an experiment's variant) a secret reference is refused.
   */
  Map<String, String> env(Fields f, Map<String, SecretRef> secrets) {
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
        if (SECRET_LIKE.matcher(e.key()).matches() && !s.text().isBlank()) {
          problems.warn(
              s.line(),
              s.column(),
              p,
              "looks like a secret written in plain text (it is stored with every revision)",
              "store it with 'pilothouse secrets set NAME' and write '"
                  + e.key()
                  + ": {secret: NAME}'");
        }
      } else if (e.value() instanceof Node.MapNode rm && rm.entries().containsKey("secret")) {
        Fields rf = new Fields(rm, p, problems, SECRET_REF);
        if (secrets == null) {
          problems.at(
              rm,
              p,
              "a variant's env cannot name secrets",
              "declare the secret in the service's own env; variants inherit it");
          continue;
        }
        Optional<String> name = rf.string("secret");
        if (name.isEmpty()) {
          rf.require("secret", "write '{secret: NAME}' with the name given to 'secrets set'");
          continue;
        }
        if (!SecretRecord.NAME.matcher(name.get()).matches()) {
          problems.at(
              rf.get("secret").orElseThrow(),
              rf.join("secret"),
              "'" + name.get() + "' is not a secret name",
              "use 1 to 63 lowercase letters, digits, '.', '_' and '-'");
          continue;
        }
        secrets.put(e.key(), new SecretRef(name.get(), rf.bool("file").orElse(false)));
      } else {
        problems.at(
            e.value(),
            p,
            "must be a single value or {secret: NAME}, but is " + e.value().kind(),
            "quote the value, or name a secret with '{secret: NAME}'");
      }
    }
    return env;
  }

  Probe probe(Fields f) {
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

  RestartPolicy restart(Fields f) {
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

  RestartPolicy.Mode mode(Node n, String path) {
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

  StopPolicy stop(Fields f) {
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

  Resources resources(Fields f) {
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
}
