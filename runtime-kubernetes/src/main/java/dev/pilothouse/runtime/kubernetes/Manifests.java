package dev.pilothouse.runtime.kubernetes;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Hashing;
import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.core.traffic.Split;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingPolicy;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HPAScalingRules;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricTarget;
import io.fabric8.kubernetes.api.model.autoscaling.v2.ResourceMetricSource;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.BackendObjectReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRequestMirrorFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteFilter;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a service becomes in a cluster: a Deployment per track (stable, canary), a Service in front
 * of both, and a Secret with its secret variables. Pure: builds objects, talks to nobody.
 */
final class Manifests {
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String PILOTHOUSE = "pilothouse";
  static final String NAME = "app.kubernetes.io/name";
  static final String VERSION = "app.kubernetes.io/version";
  static final String TRACK = "pilothouse.dev/track";
  static final String SERVING = "pilothouse.dev/serving";
  static final String TEMPLATE = "pilothouse.dev/template";
  static final String APPLIED = "pilothouse.dev/applied";
  static final String SUSPENDED = "pilothouse.dev/suspended";
  static final String RESTARTED_AT = "pilothouse.dev/restartedAt";
  static final String QUARANTINE_UNTIL = "pilothouse.dev/quarantine-until";
  static final String STABLE = "stable";
  static final String CANARY = "canary";
  static final String QUARANTINED = "quarantined";

  /** Containers listen on $PORT; in a pod it is this port. */
  static final int PORT = 8080;

  /** Where secret files are mounted in the container. */
  static final String SECRET_DIR = "/run/secrets/pilothouse";

  static final String CONTAINER = "app";

  private Manifests() {}

  static String deploymentName(String service, String track) {
    return track.equals(CANARY) ? service + "-canary" : service;
  }

  static String secretName(String service) {
    return service + "-secrets";
  }

  static Map<String, String> selector(String service, String track) {
    return Map.of(MANAGED_BY, PILOTHOUSE, NAME, service, TRACK, track);
  }

  /** A label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric. */
  static String labelValue(String s) {
    String v = s.replaceAll("[^A-Za-z0-9._-]", "_");
    v = v.length() > 63 ? v.substring(0, 63) : v;
    return v.replaceAll("^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "");
  }

  /**
   * The Deployment of one track of a service.
   *
   * @param replicas its replica count; null when a HorizontalPodAutoscaler owns it (the applied
   *     hash is then taken without it, and the caller writes the live count)
   * @param template the template label its pods carry
   * @param restartedAt when a rolling restart was last asked for, or empty
   * @param suspendedFor why the service is suspended (0 replicas), or empty
   */
  static Deployment deployment(
      String namespace,
      ServiceSpec spec,
      String track,
      Integer replicas,
      String template,
      String restartedAt,
      String suspendedFor) {
    Map<String, String> podLabels = new TreeMap<>(selector(spec.name(), track));
    podLabels.put(VERSION, labelValue(spec.version()));
    podLabels.put(TEMPLATE, labelValue(template));
    podLabels.put(SERVING, "true");
    Map<String, String> podAnnotations = new TreeMap<>();
    if (!restartedAt.isEmpty()) {
      podAnnotations.put(RESTARTED_AT, restartedAt);
    }
    Strategy.Rolling rolling =
        spec.plan() instanceof Strategy.Rolling r ? r : Strategy.Rolling.DEFAULT;
    Deployment d =
        new DeploymentBuilder()
            .withNewMetadata()
            .withName(deploymentName(spec.name(), track))
            .withNamespace(namespace)
            .withLabels(new TreeMap<>(selector(spec.name(), track)))
            .endMetadata()
            .withNewSpec()
            .withReplicas(suspendedFor.isEmpty() ? replicas : Integer.valueOf(0))
            .withNewSelector()
            .withMatchLabels(new TreeMap<>(selector(spec.name(), track)))
            .endSelector()
            .withNewStrategy()
            .withType("RollingUpdate")
            .withNewRollingUpdate()
            .withMaxSurge(amount(rolling.maxSurge()))
            .withMaxUnavailable(amount(rolling.maxUnavailable()))
            .endRollingUpdate()
            .endStrategy()
            .withProgressDeadlineSeconds((int) rolling.progressDeadline().toSeconds())
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(podLabels)
            .withAnnotations(podAnnotations)
            .endMetadata()
            .withNewSpec()
            .withTerminationGracePeriodSeconds(Math.max(1, spec.stop().timeout().toSeconds()))
            .withContainers(container(spec))
            .addAllToVolumes(secretVolume(spec))
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    Map<String, String> annotations = new TreeMap<>();
    annotations.put(APPLIED, hash(d));
    if (!suspendedFor.isEmpty()) {
      annotations.put(SUSPENDED, suspendedFor);
    }
    d.getMetadata().setAnnotations(annotations);
    return d;
  }

  private static IntOrString amount(Strategy.Amount a) {
    return a.percent() ? new IntOrString(a.value() + "%") : new IntOrString(a.value());
  }

  private static Container container(ServiceSpec spec) {
    String port = Integer.toString(PORT);
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVar("PORT", port, null));
    spec.env().forEach((k, v) -> env.add(new EnvVar(k, v.replace("${PORT}", port), null)));
    spec.secretEnv()
        .forEach(
            (k, ref) ->
                env.add(
                    ref.file()
                        ? new EnvVar(k, SECRET_DIR + "/" + k, null)
                        : new EnvVarBuilder()
                            .withName(k)
                            .withNewValueFrom()
                            .withNewSecretKeyRef(k, secretName(spec.name()), false)
                            .endValueFrom()
                            .build()));
    ContainerBuilder c =
        new ContainerBuilder()
            .withName(CONTAINER)
            .withImage(spec.image())
            .withArgs(spec.args().stream().map(a -> a.replace("${PORT}", port)).toList())
            .withEnv(env)
            .addNewPort()
            .withName("http")
            .withContainerPort(PORT)
            .endPort();
    if (!spec.command().isEmpty()) {
      c.withCommand(spec.command());
    }
    if (spec.readiness() != null) {
      c.withReadinessProbe(probe(spec.readiness(), false));
    }
    if (spec.liveness() != null) {
      c.withLivenessProbe(probe(spec.liveness(), true));
    }
    if (spec.resources().cpu() > 0 || spec.resources().memoryBytes() > 0) {
      Map<String, Quantity> q = new TreeMap<>();
      if (spec.resources().cpu() > 0) {
        q.put("cpu", new Quantity(Math.round(spec.resources().cpu() * 1000) + "m"));
      }
      if (spec.resources().memoryBytes() > 0) {
        q.put("memory", new Quantity(Long.toString(spec.resources().memoryBytes())));
      }
      c.withResources(new ResourceRequirementsBuilder().withRequests(q).withLimits(q).build());
    }
    if (spec.secretEnv().values().stream().anyMatch(SecretRef::file)) {
      c.addNewVolumeMount()
          .withName("secrets")
          .withMountPath(SECRET_DIR)
          .withReadOnly()
          .endVolumeMount();
    }
    return c.build();
  }

  private static List<io.fabric8.kubernetes.api.model.Volume> secretVolume(ServiceSpec spec) {
    if (spec.secretEnv().values().stream().noneMatch(SecretRef::file)) {
      return List.of();
    }
    var items =
        spec.secretEnv().entrySet().stream()
            .filter(e -> e.getValue().file())
            .map(
                e ->
                    new io.fabric8.kubernetes.api.model.KeyToPathBuilder()
                        .withKey(e.getKey())
                        .withPath(e.getKey())
                        .withMode(0400)
                        .build())
            .toList();
    return List.of(
        new io.fabric8.kubernetes.api.model.VolumeBuilder()
            .withName("secrets")
            .withNewSecret()
            .withSecretName(secretName(spec.name()))
            .withItems(items)
            .endSecret()
            .build());
  }

  private static io.fabric8.kubernetes.api.model.Probe probe(Probe p, boolean liveness) {
    ProbeBuilder b =
        new ProbeBuilder()
            .withPeriodSeconds((int) Math.max(1, p.interval().toSeconds()))
            .withTimeoutSeconds((int) Math.max(1, p.timeout().toSeconds()))
            .withFailureThreshold(p.failureThreshold())
            .withSuccessThreshold(liveness ? 1 : p.successThreshold()) // liveness must be 1
            .withInitialDelaySeconds((int) p.initialDelay().toSeconds());
    int port = p.port() == 0 ? PORT : p.port();
    switch (p.kind()) {
      case HTTP ->
          b.withNewHttpGet().withPath(p.path()).withPort(new IntOrString(port)).endHttpGet();
      case TCP -> b.withNewTcpSocket().withPort(new IntOrString(port)).endTcpSocket();
      case EXEC -> b.withNewExec().withCommand(p.command()).endExec();
    }
    return b.build();
  }

  /** The Service in front of both tracks: port 80 to the containers' port. */
  static Service service(String namespace, ServiceSpec spec) {
    return service(
        namespace,
        spec.name(),
        Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name()),
        Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name(), SERVING, "true"));
  }

  /** A ClusterIP Service: port 80 to the containers' port, over the pods that selector picks. */
  private static Service service(
      String namespace, String name, Map<String, String> labels, Map<String, String> selector) {
    Service s =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(labels)
            .endMetadata()
            .withNewSpec()
            .withSelector(selector)
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withTargetPort(new IntOrString(PORT))
            .endPort()
            .endSpec()
            .build();
    s.getMetadata().setAnnotations(Map.of(APPLIED, hash(s)));
    return s;
  }

  /**
   * The HorizontalPodAutoscaler of an autoscaled service (runtime.autoscaler: hpa): its min and
   * max, cpu and memory targets as average utilization of the requests, and the scale-up and
   * scale-down behaviours as written (stabilization, policies, which policy applies).
   */
  static HorizontalPodAutoscaler hpa(String namespace, ServiceSpec spec) {
    Autoscale a = spec.autoscale();
    CrossVersionObjectReference target = new CrossVersionObjectReference();
    target.setApiVersion("apps/v1");
    target.setKind("Deployment");
    target.setName(deploymentName(spec.name(), STABLE));
    List<MetricSpec> metrics = new ArrayList<>();
    for (Autoscale.Target t : a.targets()) {
      String resource =
          t instanceof Autoscale.Target.Cpu
              ? "cpu"
              : t instanceof Autoscale.Target.Memory ? "memory" : null;
      if (resource == null) {
        continue; // refused by the spec reader
      }
      MetricTarget mt = new MetricTarget();
      mt.setType("Utilization");
      mt.setAverageUtilization((int) Math.round(t.value()));
      ResourceMetricSource rs = new ResourceMetricSource();
      rs.setName(resource);
      rs.setTarget(mt);
      MetricSpec m = new MetricSpec();
      m.setType("Resource");
      m.setResource(rs);
      metrics.add(m);
    }
    HorizontalPodAutoscalerBehavior behavior = new HorizontalPodAutoscalerBehavior();
    behavior.setScaleUp(rules(a.scaleUp()));
    behavior.setScaleDown(rules(a.scaleDown()));
    HorizontalPodAutoscalerSpec hs = new HorizontalPodAutoscalerSpec();
    hs.setScaleTargetRef(target);
    hs.setMinReplicas(Math.max(1, a.min()));
    hs.setMaxReplicas(a.max());
    hs.setMetrics(metrics);
    hs.setBehavior(behavior);
    HorizontalPodAutoscaler h = new HorizontalPodAutoscaler();
    h.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(spec.name())
            .withNamespace(namespace)
            .withLabels(Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name()))
            .build());
    h.setSpec(hs);
    h.getMetadata().setAnnotations(Map.of(APPLIED, hash(h)));
    return h;
  }

  private static HPAScalingRules rules(Autoscale.Behavior b) {
    HPAScalingRules r = new HPAScalingRules();
    r.setStabilizationWindowSeconds((int) b.stabilization().toSeconds());
    r.setSelectPolicy(
        switch (b.select()) {
          case MAX -> "Max";
          case MIN -> "Min";
          case DISABLED -> "Disabled";
        });
    List<HPAScalingPolicy> policies = new ArrayList<>();
    for (Autoscale.Policy p : b.policies()) {
      HPAScalingPolicy hp = new HPAScalingPolicy();
      hp.setType(p.kind() == Autoscale.Policy.Kind.PERCENT ? "Percent" : "Pods");
      hp.setValue((int) Math.max(1, Math.round(p.value())));
      hp.setPeriodSeconds((int) Math.max(1, p.period().toSeconds()));
      policies.add(hp);
    }
    r.setPolicies(policies);
    return r;
  }

  /** A Service in front of one track only (a backend of the service's HTTPRoute). */
  static Service trackService(String namespace, ServiceSpec spec, String track) {
    return service(
        namespace,
        spec.name() + "-" + track,
        Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name(), TRACK, track),
        Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name(), TRACK, track, SERVING, "true"));
  }

  /**
   * The HTTPRoute of a routed service on the Gateway: its host and path prefix to the stable
   * Service, and while a split is on, the canary's weight to the canary Service; header rules send
   * matching requests to the canary, cookie rules match the Cookie header, and a mirror copies a
   * percentage of requests to the canary. Sticky sessions have no stable Gateway API field: not
   * written.
   */
  static HTTPRoute httpRoute(
      String namespace, ServiceSpec spec, String gateway, Optional<Split> split) {
    String stable = spec.name() + "-" + STABLE;
    String canary = spec.name() + "-" + CANARY;
    ParentReference parent = new ParentReference();
    int slash = gateway.indexOf('/');
    parent.setName(slash < 0 ? gateway : gateway.substring(slash + 1));
    if (slash > 0) {
      parent.setNamespace(gateway.substring(0, slash));
    }
    HTTPPathMatch path = new HTTPPathMatch("PathPrefix", spec.route().pathPrefix());
    List<HTTPRouteRule> rules = new ArrayList<>();
    int weight = split.map(Split::canaryWeight).orElse(0);
    if (split.isPresent()) {
      for (Split.Rule r : split.get().rules()) {
        HTTPHeaderMatch h = new HTTPHeaderMatch();
        if (r.kind() == Split.Rule.Kind.COOKIE) {
          h.setName("Cookie");
          h.setType("RegularExpression");
          h.setValue(
              "(^|.*; )"
                  + java.util.regex.Pattern.quote(r.name())
                  + "="
                  + (r.value().equals("*") ? "[^;]*" : cookieValue(r))
                  + "(;.*|$)");
        } else {
          h.setName(r.name());
          h.setType(
              r.op() == Split.Rule.Op.EXACT && !r.value().equals("*")
                  ? "Exact"
                  : "RegularExpression");
          h.setValue(
              r.value().equals("*")
                  ? ".*"
                  : switch (r.op()) {
                    case EXACT -> r.value();
                    case PREFIX -> java.util.regex.Pattern.quote(r.value()) + ".*";
                    case REGEX -> r.value();
                  });
        }
        HTTPRouteMatch m = new HTTPRouteMatch();
        m.setPath(path);
        m.setHeaders(List.of(h));
        rules.add(rule(List.of(m), List.of(backend(canary, 1)), List.of()));
      }
    }
    HTTPRouteMatch all = new HTTPRouteMatch();
    all.setPath(path);
    List<HTTPBackendRef> backends = new ArrayList<>();
    backends.add(backend(stable, 100 - weight));
    if (weight > 0) {
      backends.add(backend(canary, weight));
    }
    List<HTTPRouteFilter> filters = new ArrayList<>();
    if (split.isPresent() && split.get().mirrorPercent() > 0) {
      HTTPRequestMirrorFilter mirror = new HTTPRequestMirrorFilter();
      BackendObjectReference to = new BackendObjectReference();
      to.setName(canary);
      to.setPort(80);
      mirror.setBackendRef(to);
      mirror.setPercent(split.get().mirrorPercent());
      HTTPRouteFilter f = new HTTPRouteFilter();
      f.setType("RequestMirror");
      f.setRequestMirror(mirror);
      filters.add(f);
    }
    rules.add(rule(List.of(all), backends, filters));
    HTTPRoute route = new HTTPRoute();
    route.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
            .withName(spec.name())
            .withNamespace(namespace)
            .withLabels(Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name()))
            .build());
    HTTPRouteSpec rs = new HTTPRouteSpec();
    rs.setParentRefs(List.of(parent));
    if (!spec.route().host().isEmpty()) {
      rs.setHostnames(List.of(spec.route().host()));
    }
    rs.setRules(rules);
    route.setSpec(rs);
    route.getMetadata().setAnnotations(Map.of(APPLIED, hash(route)));
    return route;
  }

  private static String cookieValue(Split.Rule r) {
    return switch (r.op()) {
      case EXACT -> java.util.regex.Pattern.quote(r.value());
      case PREFIX -> java.util.regex.Pattern.quote(r.value()) + "[^;]*";
      case REGEX -> r.value();
    };
  }

  private static HTTPRouteRule rule(
      List<HTTPRouteMatch> matches, List<HTTPBackendRef> backends, List<HTTPRouteFilter> filters) {
    HTTPRouteRule rule = new HTTPRouteRule();
    rule.setMatches(matches);
    rule.setBackendRefs(backends);
    if (!filters.isEmpty()) {
      rule.setFilters(filters);
    }
    return rule;
  }

  private static HTTPBackendRef backend(String service, int weight) {
    HTTPBackendRef b = new HTTPBackendRef();
    b.setName(service);
    b.setPort(80);
    b.setWeight(weight);
    return b;
  }

  /**
   * The Secret with the service's secret variables, resolved now; empty when it names none or a
   * secret is not set (the error names it).
   */
  static Optional<Secret> secret(
      String namespace, ServiceSpec spec, Function<String, Optional<String>> values) {
    if (spec.secretEnv().isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> data = new LinkedHashMap<>();
    for (Map.Entry<String, SecretRef> e : spec.secretEnv().entrySet()) {
      String value =
          values
              .apply(e.getValue().secret())
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "secret '"
                              + e.getValue().secret()
                              + "' of "
                              + spec.name()
                              + " is not set; set it with 'pilothouse secrets set "
                              + e.getValue().secret()
                              + "'"));
      data.put(e.getKey(), value);
    }
    Secret s =
        new SecretBuilder()
            .withNewMetadata()
            .withName(secretName(spec.name()))
            .withNamespace(namespace)
            .withLabels(Map.of(MANAGED_BY, PILOTHOUSE, NAME, spec.name()))
            .endMetadata()
            .withType("Opaque")
            .withStringData(data)
            .build();
    // The hash of the values tells a change without keeping the values anywhere but the Secret.
    s.getMetadata().setAnnotations(Map.of(APPLIED, hash(s)));
    return Optional.of(s);
  }

  /** A short hash of an object as built (before the applied annotation is set). */
  static String hash(Object o) {
    return Hashing.sha256Hex(Serialization.asJson(o)).substring(0, 16);
  }
}
