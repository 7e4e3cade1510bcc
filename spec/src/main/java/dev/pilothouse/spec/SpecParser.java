package dev.pilothouse.spec;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.spec.MetricsSpec;
import dev.pilothouse.core.spec.NotificationsSpec;
import dev.pilothouse.core.spec.ProxySpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Reads a YAML spec file into a {@link Spec}, reporting every problem with its file:line:column,
 * the field path, what is wrong and how to fix it. Nothing partial is returned from an invalid
 * file.
 *
 * <p>{@code ${NAME}} in strings is replaced by the variable NAME from the given variables, except
 * {@code ${PORT}}, which is left for the instance's own port; {@code $${NAME}} is a literal.
 */
public final class SpecParser extends SectionReader {
  /** Spec files larger than this are refused. */
  public static final int MAX_BYTES = 1 << 20;

  private SpecParser(String file, Path baseDir, Map<String, String> vars, ExpressionCheck promql) {
    super(file, baseDir, vars, promql);
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
    return new ParsedSpec(Optional.of(spec), List.of(), problems.warnings());
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
    f.get("analysisTemplates")
        .ifPresent(n -> new TemplatesReader(this).templates(n, "analysisTemplates"));
    ProxySpec proxy =
        f.object("proxy", PROXY).map(new ProxyReader(this)::proxy).orElse(ProxySpec.defaults());
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
      } else if (e.key().contains("--")) {
        problems.add(
            e.line(),
            e.column(),
            path,
            "service name '" + e.key() + "' contains '--'",
            "'--' is reserved for the services Pilothouse runs for experiments and baselines"
                + " (SERVICE--VARIANT, SERVICE--baseline); use a single '-'");
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
      // Every declared service, also one with problems: what names it (dependsOn, cost, chaos) is
      // not told that it does not exist, and its other sections are checked all the same.
      serviceFields.put(e.key(), sf);
      ServiceSpec s = new ServiceReader(this).service(e.key(), sf);
      if (s != null) {
        out.add(s);
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
            .map(new NotificationsReader(this)::notifications)
            .orElse(NotificationsSpec.none());
    MetricsSpec metrics =
        f.object("metrics", METRICS)
            .map(new MetricsReader(this)::metrics)
            .orElse(MetricsSpec.defaults());
    Map<String, MetricsSpec.Endpoint> endpoints = new LinkedHashMap<>();
    serviceFields.forEach(
        (name, sf) ->
            sf.get("metrics")
                .flatMap(n -> new MetricsReader(this).endpoint(sf, n))
                .ifPresent(e -> endpoints.put(name, e)));
    metrics = metrics.withEndpoints(endpoints);
    List<dev.pilothouse.core.flags.Flag> flags =
        f.get("flags").map(n -> new FlagsReader(this).flags(n, f.join("flags"))).orElse(List.of());
    List<dev.pilothouse.core.spec.ExperimentSpec> experiments =
        f.get("experiments")
            .map(n -> new ExperimentsReader(this).experiments(n, f.join("experiments"), out))
            .orElse(List.of());
    dev.pilothouse.core.spec.AlertingSpec alerting =
        f.object("alerting", AlertingReader.ALERTING)
            .map(new AlertingReader(this)::alerting)
            .orElse(dev.pilothouse.core.spec.AlertingSpec.none());
    List<dev.pilothouse.core.slo.Slo> slos = new ArrayList<>();
    Map<String, ServiceSpec> read = new LinkedHashMap<>();
    out.forEach(s -> read.put(s.name(), s));
    // A service with problems elsewhere has its SLOs checked too: every problem is reported at
    // once.
    serviceFields.forEach(
        (name, sf) -> {
          ServiceSpec s = read.get(name);
          List<dev.pilothouse.core.slo.Slo> of =
              new SloReader(this).slos(name, sf, s != null ? s.route() != null : sf.has("route"));
          if (s != null) {
            slos.addAll(of);
          }
        });
    alerting = alerting.withSlos(slos);
    final boolean smtp = !notifications.smtp().isEmpty();
    alerting =
        alerting.withOnCall(
            f.object("oncall", OnCallReader.ONCALL)
                .map(of -> new OnCallReader(this).oncall(of, smtp))
                .orElse(dev.pilothouse.core.incident.OnCall.none()));
    BackupReader backups = new BackupReader(this);
    Map<String, dev.pilothouse.core.spec.BackupSpec.Repository> repositories =
        backups.repositories(f);
    List<dev.pilothouse.core.spec.BackupSpec.Plan> plans = new ArrayList<>();
    for (ServiceSpec s : out) {
      backups
          .plan(s.name(), s.workdir(), serviceFields.get(s.name()), repositories)
          .ifPresent(plans::add);
    }
    dev.pilothouse.core.spec.SecretsSpec secrets =
        f.get("secrets")
            .map(n -> new SecretsReader(this).secrets(n, out))
            .orElse(dev.pilothouse.core.spec.SecretsSpec.none());
    dev.pilothouse.core.spec.CostSpec cost =
        f.object("cost", CostReader.COST)
            .map(cf -> new CostReader(this).cost(cf, serviceFields.keySet()))
            .orElse(dev.pilothouse.core.spec.CostSpec.none());
    dev.pilothouse.core.spec.ChaosSpec chaos =
        f.object("chaos", ChaosSectionReader.CHAOS)
            .map(cf -> new ChaosSectionReader(this).chaos(cf, serviceFields.keySet()))
            .orElse(dev.pilothouse.core.spec.ChaosSpec.none());
    RuntimeReader runtimes = new RuntimeReader(this);
    dev.pilothouse.core.spec.RuntimeSpec runtime =
        f.object("runtime", RuntimeReader.RUNTIME)
            .map(runtimes::runtime)
            .orElse(dev.pilothouse.core.spec.RuntimeSpec.local());
    List<dev.pilothouse.core.spec.RegionSpec> regions =
        f.get("regions")
            .map(n -> runtimes.regions(n, f.join("regions"), serviceFields))
            .orElse(List.of());
    boolean regional = f.has("regions");
    if (regional && f.has("runtime")) {
      problems.at(
          f.get("runtime").orElseThrow(),
          f.join("runtime"),
          "'runtime' and 'regions' exclude each other",
          "give each region its runtime under 'regions:', and remove 'runtime:'");
    }
    if (!regional) {
      serviceFields.forEach(
          (name, sf) ->
              sf.get("regions")
                  .ifPresent(
                      n ->
                          problems.at(
                              n,
                              sf.join("regions"),
                              "the spec declares no regions",
                              "declare them under the top-level 'regions:', or remove this")));
    }
    for (dev.pilothouse.core.spec.RegionSpec r : regions) { // each region's cluster asks the same
      runtimes.check(r.runtime(), out, serviceFields);
    }
    if (!regional) {
      runtimes.check(runtime, out, serviceFields);
    }
    return problems.isEmpty()
        ? new Spec(
            proxy,
            out,
            notifications,
            metrics,
            flags,
            experiments,
            alerting,
            new dev.pilothouse.core.spec.BackupSpec(repositories, plans),
            secrets,
            cost,
            chaos,
            runtime,
            regions)
        : null;
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
