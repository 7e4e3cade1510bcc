package dev.pilothouse.spec;

import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code runtime:} section: {@code kind} (local or kubernetes), {@code namespace}, {@code
 * kubeconfig} (a file, relative to the spec) and {@code context}; and what the kind asks of the
 * services (kubernetes: an image each, names that fit a Deployment's).
 */
final class RuntimeReader extends SectionReader {
  static final List<String> RUNTIME =
      List.of("kind", "namespace", "kubeconfig", "context", "gateway", "autoscaler", "dataPlane");
  static final List<String> DATA_PLANE = List.of("image", "replicas", "service");
  static final List<String> REGION =
      List.of(
          "kind",
          "namespace",
          "kubeconfig",
          "context",
          "gateway",
          "autoscaler",
          "dataPlane",
          "endpoint",
          "weight");

  /** The most regions a spec may declare. */
  static final int MAX_REGIONS = 16;

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  /** Service names leave room for the canary Deployment's "-canary" and the pods' suffixes. */
  static final int MAX_SERVICE_NAME = 40;

  RuntimeReader(SectionReader parent) {
    super(parent);
  }

  RuntimeSpec runtime(Fields f) {
    return runtime(f, "local");
  }

  /** A runtime whose kind defaults to defaultKind. */
  RuntimeSpec runtime(Fields f, String defaultKind) {
    String kindText = f.string("kind").orElse(defaultKind);
    RuntimeSpec.Kind kind;
    try {
      kind = RuntimeSpec.Kind.valueOf(kindText.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      problems.at(
          f.get("kind").orElseThrow(),
          f.join("kind"),
          "unknown runtime kind '" + kindText + "'",
          "write 'kind: local' (processes on this machine) or 'kind: kubernetes'");
      return RuntimeSpec.local();
    }
    if (kind == RuntimeSpec.Kind.LOCAL) {
      for (String other :
          List.of("namespace", "kubeconfig", "context", "gateway", "autoscaler", "dataPlane")) {
        f.get(other)
            .ifPresent(
                n ->
                    problems.at(
                        n,
                        f.join(other),
                        "'" + other + "' applies to the kubernetes runtime only",
                        "remove it, or write 'kind: kubernetes'"));
      }
      return RuntimeSpec.local();
    }
    String namespace = f.string("namespace").orElse("default");
    if (!DNS_LABEL.matcher(namespace).matches()) {
      problems.at(
          f.get("namespace").orElseThrow(),
          f.join("namespace"),
          "'" + namespace + "' is not a Kubernetes namespace name",
          "use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit");
    }
    String kubeconfig =
        f.string("kubeconfig").map(s -> baseDir.resolve(s).normalize().toString()).orElse("");
    if (!kubeconfig.isEmpty() && !Files.isRegularFile(Path.of(kubeconfig))) {
      problems.at(
          f.get("kubeconfig").orElseThrow(),
          f.join("kubeconfig"),
          "no kubeconfig file at " + kubeconfig,
          "give the path of a kubeconfig file (relative to the spec), or leave 'kubeconfig' out"
              + " to use the pod's service account or $KUBECONFIG");
    }
    String gateway = f.string("gateway").orElse("");
    if (!gateway.isEmpty()) {
      String[] parts = gateway.split("/", -1);
      boolean ok = parts.length <= 2;
      for (String part : parts) {
        ok &= DNS_LABEL.matcher(part).matches();
      }
      if (!ok) {
        problems.at(
            f.get("gateway").orElseThrow(),
            f.join("gateway"),
            "'" + gateway + "' does not name a Gateway",
            "write the Gateway's NAME, or NAMESPACE/NAME when it lives in another namespace");
      }
    }
    String autoscaler = f.string("autoscaler").orElse("pilothouse");
    if (!autoscaler.equals("pilothouse") && !autoscaler.equals("hpa")) {
      problems.at(
          f.get("autoscaler").orElseThrow(),
          f.join("autoscaler"),
          "unknown autoscaler '" + autoscaler + "'",
          "write 'autoscaler: pilothouse' (the daemon scales, the default) or 'autoscaler: hpa'"
              + " (a HorizontalPodAutoscaler per autoscaled service)");
    }
    dev.pilothouse.core.spec.DataPlaneSpec dataPlane =
        f.object("dataPlane", DATA_PLANE).map(this::dataPlane).orElse(null);
    if (dataPlane != null && !gateway.isEmpty()) {
      problems.at(
          f.get("dataPlane").orElseThrow(),
          f.join("dataPlane"),
          "'dataPlane' and 'gateway' both route the cluster's traffic",
          "keep one: Pilothouse's proxies in the cluster ('dataPlane') or your Gateway's"
              + " HTTPRoutes ('gateway')");
    }
    return new RuntimeSpec(
        kind,
        namespace,
        kubeconfig,
        f.string("context").orElse(""),
        gateway,
        autoscaler.equals("hpa"),
        dataPlane);
  }

  /** {@code dataPlane: {image, replicas, service}}: Pilothouse's proxies in the cluster. */
  private dev.pilothouse.core.spec.DataPlaneSpec dataPlane(Fields d) {
    String image =
        d.require(
                "image",
                "give the Pilothouse image the proxies run (built from"
                    + " deploy/kubernetes/Dockerfile), e.g. 'image:"
                    + " registry.example.com/pilothouse:0.1.0'")
            .flatMap(n -> d.string("image"))
            .orElse("");
    int replicas = d.integer("replicas", 1, 100).map(Long::intValue).orElse(2);
    String type = d.string("service").orElse("ClusterIP");
    if (!dev.pilothouse.core.spec.DataPlaneSpec.SERVICE_TYPES.contains(type)) {
      problems.at(
          d.get("service").orElseThrow(),
          d.join("service"),
          "unknown Service type '" + type + "'",
          "write ClusterIP (the default: reach it through your ingress), NodePort or"
              + " LoadBalancer");
      type = "ClusterIP";
    }
    return new dev.pilothouse.core.spec.DataPlaneSpec(image, replicas, type);
  }

  /**
   * What a HorizontalPodAutoscaler can do of a service's autoscale: cpu and memory targets (of the
   * declared resources), min, max and the scale-up/down behaviours; nothing else.
   */
  private void hpaFits(ServiceSpec s, Fields sf) {
    Fields af = sf.object("autoscale", AutoscaleReader.AUTOSCALE).orElseThrow();
    String hint =
        "a HorizontalPodAutoscaler holds cpu and memory (of resources); use 'runtime.autoscaler:"
            + " pilothouse' for the rest";
    for (var t : s.autoscale().targets()) {
      if (!(t instanceof dev.pilothouse.core.spec.Autoscale.Target.Cpu
          || t instanceof dev.pilothouse.core.spec.Autoscale.Target.Memory)) {
        problems.at(
            af.get("targets").orElse(af.node()),
            af.join("targets"),
            "target '" + t.name() + "' has no HorizontalPodAutoscaler equivalent",
            hint);
      }
    }
    for (String field : List.of("schedules", "predictive", "fallback", "scaleToZero")) {
      af.get(field)
          .ifPresent(
              n ->
                  problems.at(
                      n,
                      af.join(field),
                      "'" + field + "' has no HorizontalPodAutoscaler equivalent",
                      hint));
    }
    if (s.autoscale().min() < 1) {
      problems.at(
          af.get("min").orElse(af.node()),
          af.join("min"),
          "a HorizontalPodAutoscaler runs at least one pod",
          "set 'min: 1' or more");
    }
  }

  /**
   * The {@code regions:} section: each region a Kubernetes runtime (the fields of {@code runtime:})
   * with the {@code endpoint} its traffic enters by ({@code http://HOST:PORT}) and its {@code
   * weight} (0–100, default 100 divided evenly); and each service's {@code regions:} placement.
   */
  List<dev.pilothouse.core.spec.RegionSpec> regions(
      Node node, String path, Map<String, Fields> services) {
    List<Fields> defs = new java.util.ArrayList<>();
    List<String> names = new java.util.ArrayList<>();
    named(
        node,
        path,
        "region",
        REGION,
        "write e.g. 'regions: {eu: {kind: kubernetes, kubeconfig: eu.yaml, endpoint:"
            + " http://eu.example.com:80}}'",
        (name, rf) -> {
          names.add(name);
          defs.add(rf);
        });
    if (defs.size() > MAX_REGIONS) {
      problems.at(node, path, "at most " + MAX_REGIONS + " regions", "merge some regions");
    }
    List<dev.pilothouse.core.spec.RegionSpec> out = new java.util.ArrayList<>();
    int even = defs.isEmpty() ? 0 : 100 / defs.size();
    for (int i = 0; i < defs.size(); i++) {
      Fields rf = defs.get(i);
      RuntimeSpec r = runtime(rf, "kubernetes");
      if (!r.kubernetes()) {
        problems.at(
            rf.node(),
            rf.join("kind"),
            "a region is a Kubernetes cluster",
            "write 'kind: kubernetes' (services on this machine need no region)");
      }
      java.net.URI endpoint = null;
      Optional<String> text =
          rf.require(
                  "endpoint",
                  "give the address the region's traffic enters by, e.g."
                      + " 'endpoint: http://eu.shop.example.com:80'")
              .flatMap(n -> rf.string("endpoint"));
      if (text.isPresent()) {
        try {
          endpoint = new java.net.URI(text.get());
        } catch (java.net.URISyntaxException e) {
          endpoint = null;
        }
        if (endpoint == null
            || !"http".equals(endpoint.getScheme())
            || endpoint.getHost() == null
            || (endpoint.getPath() != null
                && !endpoint.getPath().isEmpty()
                && !endpoint.getPath().equals("/"))) {
          problems.at(
              rf.get("endpoint").orElseThrow(),
              rf.join("endpoint"),
              "'" + text.get() + "' is not an http://HOST[:PORT] address",
              "give the region's Gateway or ingress as http://HOST:PORT (the built-in load"
                  + " balancer forwards plain HTTP to it)");
          endpoint = null;
        }
      }
      int weight = rf.integer("weight", 0, 100).map(Long::intValue).orElse(even);
      if (endpoint != null) {
        out.add(new dev.pilothouse.core.spec.RegionSpec(names.get(i), r, endpoint, weight));
      }
    }
    services.forEach(
        (service, sf) -> {
          List<String> placed = sf.strings("regions").orElse(List.of());
          for (int i = 0; i < placed.size(); i++) {
            if (!names.contains(placed.get(i))) {
              problems.at(
                  ((Node.ListNode) sf.get("regions").orElseThrow()).items().get(i),
                  sf.join("regions") + "[" + i + "]",
                  "no region named '" + placed.get(i) + "'",
                  "name a region of 'regions:': " + String.join(", ", names));
            }
          }
        });
    return out;
  }

  /** What the runtime asks of each service. */
  void check(RuntimeSpec runtime, List<ServiceSpec> services, Map<String, Fields> fields) {
    for (ServiceSpec s : services) {
      Fields sf = fields.get(s.name());
      if (sf == null) {
        continue;
      }
      if (runtime.kubernetes()) {
        if (s.image().isEmpty()) {
          problems.at(
              sf.node(),
              sf.join("image"),
              "the kubernetes runtime runs container images, and this service names none",
              "add e.g. 'image: registry.example.com/shop/" + s.name() + ":1.0'");
        }
        if (runtime.hpa() && s.autoscale() != null) {
          hpaFits(s, sf);
        }
        if (runtime.dataPlane() != null && s.name().startsWith("pilothouse-proxy")) {
          problems.at(
              sf.node(),
              sf.path(),
              "the names pilothouse-proxy… are the data plane's in the cluster",
              "choose another service name");
        }
        if (s.name().length() > MAX_SERVICE_NAME) {
          problems.at(
              sf.node(),
              sf.path(),
              "a service name on the kubernetes runtime has at most "
                  + MAX_SERVICE_NAME
                  + " characters (its canary Deployment and pods add suffixes)",
              "choose a shorter name");
        }
      } else if (s.command().isEmpty()) {
        problems.at(
            sf.node(),
            sf.join("command"),
            "the local runtime runs commands, and this service gives only an image",
            "add 'command:', or set 'runtime: {kind: kubernetes, namespace: …}'");
      }
    }
  }
}
