package dev.pilothouse.runtime.kubernetes;

import static dev.pilothouse.runtime.kubernetes.Manifests.APPLIED;
import static dev.pilothouse.runtime.kubernetes.Manifests.CANARY;
import static dev.pilothouse.runtime.kubernetes.Manifests.MANAGED_BY;
import static dev.pilothouse.runtime.kubernetes.Manifests.NAME;
import static dev.pilothouse.runtime.kubernetes.Manifests.PILOTHOUSE;
import static dev.pilothouse.runtime.kubernetes.Manifests.QUARANTINED;
import static dev.pilothouse.runtime.kubernetes.Manifests.QUARANTINE_UNTIL;
import static dev.pilothouse.runtime.kubernetes.Manifests.RESTARTED_AT;
import static dev.pilothouse.runtime.kubernetes.Manifests.STABLE;
import static dev.pilothouse.runtime.kubernetes.Manifests.SUSPENDED;
import static dev.pilothouse.runtime.kubernetes.Manifests.TEMPLATE;
import static dev.pilothouse.runtime.kubernetes.Manifests.TRACK;
import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.SecretSource;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.WorkloadRuntime;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services as Deployments in one namespace: {@link #apply} sets the desired state, each {@link
 * #tick} writes what differs from the cluster (create or update, compared by a hash of what was
 * applied) and reads the pods back as instances. The cluster's own controllers do the work: the
 * Deployment's rolling update replaces pods, the kubelet restarts crashed containers and runs the
 * probes. A canary is a second Deployment ({@code NAME-canary}) behind the same Service, so traffic
 * splits by instance count. Everything it owns carries {@code app.kubernetes.io/managed-by:
 * pilothouse}; what it owns and the spec no longer names is deleted.
 */
public final class KubernetesWorkloads implements WorkloadRuntime {
  private static final Logger log = LoggerFactory.getLogger(KubernetesWorkloads.class);

  private final KubernetesClient client;
  private final String namespace;
  private final EventSink events;
  private final SecretSource secrets;
  private final InstantSource clock;
  private final PodLogs logs;
  private final ClusterWarnings warnings;
  private final String gateway;
  private final boolean hpa;
  private final dev.pilothouse.core.spec.DataPlaneSpec dataPlane;
  private final Map<String, Split> splits = new HashMap<>();
  private String dataPlaneToken = "";
  private List<dev.pilothouse.core.traffic.DataPlaneEndpoint> dataPlaneEndpoints = List.of();

  private final Map<String, ServiceSpec> desired = new LinkedHashMap<>();
  private final Map<String, Canary> canaries = new HashMap<>();
  private final Set<String> promoting = new HashSet<>();
  private final Map<String, String> suspended = new HashMap<>();
  private final Map<String, String> restartedAt = new HashMap<>();

  // What the last tick saw, and what earlier ticks saw of each pod (for events).
  private List<ServiceStatus> status = List.of();
  private final Map<String, Integer> restartsSeen = new HashMap<>();
  private final Set<String> readySeen = new HashSet<>();
  private final Set<String> crashLoopSeen = new HashSet<>();
  private final Map<String, Deployment> deployments = new HashMap<>();
  private boolean unreachable;

  private record Canary(ServiceSpec spec, int count) {}

  /**
   * Waiting reasons of a container that will not start however long it waits (a bad image, a
   * missing Secret or ConfigMap): like a crash loop, a reason to roll a new version back.
   */
  static final Set<String> CANNOT_START =
      Set.of(
          "ErrImagePull",
          "ImagePullBackOff",
          "InvalidImageName",
          "CreateContainerConfigError",
          "CreateContainerError");

  private KubernetesWorkloads(
      KubernetesClient client,
      String namespace,
      String gateway,
      boolean hpa,
      dev.pilothouse.core.spec.DataPlaneSpec dataPlane,
      EventSink events,
      SecretSource secrets,
      InstantSource clock) {
    this.client = requireNonNull(client, "client");
    this.namespace = requireNonNull(namespace, "namespace");
    this.gateway = requireNonNull(gateway, "gateway");
    this.hpa = hpa;
    this.dataPlane = dataPlane;
    this.events = requireNonNull(events, "events");
    this.secrets = requireNonNull(secrets, "secrets");
    this.clock = requireNonNull(clock, "clock");
    this.logs = new PodLogs(client, namespace);
    this.warnings = new ClusterWarnings(client, namespace, clock);
  }

  /** Workloads in namespace through client (which this then owns and closes). */
  public static KubernetesWorkloads create(
      KubernetesClient client,
      String namespace,
      EventSink events,
      SecretSource secrets,
      InstantSource clock) {
    return new KubernetesWorkloads(client, namespace, "", false, null, events, secrets, clock);
  }

  /**
   * Workloads in namespace whose routed services get an HTTPRoute on gateway ({@code NAME} or
   * {@code NAMESPACE/NAME}; empty for none), through which canaries split traffic by weight.
   */
  public static KubernetesWorkloads create(
      KubernetesClient client,
      String namespace,
      String gateway,
      EventSink events,
      SecretSource secrets,
      InstantSource clock) {
    return new KubernetesWorkloads(client, namespace, gateway, false, null, events, secrets, clock);
  }

  /**
   * Workloads in namespace; with hpa, each autoscaled service gets a HorizontalPodAutoscaler, which
   * owns its Deployment's replica count.
   */
  public static KubernetesWorkloads create(
      KubernetesClient client,
      String namespace,
      String gateway,
      boolean hpa,
      EventSink events,
      SecretSource secrets,
      InstantSource clock) {
    return new KubernetesWorkloads(client, namespace, gateway, hpa, null, events, secrets, clock);
  }

  /** Workloads as a runtime spec says (its namespace, Gateway, autoscaler and data plane). */
  public static KubernetesWorkloads create(
      KubernetesClient client,
      dev.pilothouse.core.spec.RuntimeSpec spec,
      EventSink events,
      SecretSource secrets,
      InstantSource clock) {
    return new KubernetesWorkloads(
        client,
        spec.namespace(),
        spec.gateway(),
        spec.hpa(),
        spec.dataPlane(),
        events,
        secrets,
        clock);
  }

  /** Whether a HorizontalPodAutoscaler owns the service's replica count. */
  private boolean hpaOwns(String service) {
    return hpa && desired.containsKey(service) && desired.get(service).autoscale() != null;
  }

  @Override
  public synchronized void recover() {
    // Nothing to re-adopt by hand: the cluster kept running. Learn what a previous daemon left:
    // suspended services and their reasons, rolling-restart marks.
    try {
      for (Deployment d : ownedDeployments()) {
        String service = d.getMetadata().getLabels().get(NAME);
        String reason = annotation(d, SUSPENDED);
        if (!reason.isEmpty()) {
          suspended.put(service, reason);
        }
        String restarted =
            Optional.ofNullable(d.getSpec().getTemplate().getMetadata().getAnnotations())
                .map(a -> a.getOrDefault(RESTARTED_AT, ""))
                .orElse("");
        if (!restarted.isEmpty() && STABLE.equals(d.getMetadata().getLabels().get(TRACK))) {
          restartedAt.put(service, restarted);
        }
      }
      observe(clock.instant(), true);
    } catch (KubernetesClientException e) {
      unreachable(e);
    }
  }

  @Override
  public synchronized void apply(Spec spec) {
    Map<String, ServiceSpec> next = new LinkedHashMap<>();
    for (ServiceSpec s : spec.services()) {
      next.put(s.name(), s);
    }
    desired.keySet().retainAll(next.keySet());
    desired.putAll(next);
    canaries.keySet().retainAll(next.keySet());
  }

  @Override
  public synchronized void tick() {
    Instant now = clock.instant();
    try {
      converge(now);
      observe(now, false);
      for (ClusterWarnings.Warning w : warnings.poll(this::ownerOf)) {
        emit(
            "ClusterWarning",
            w.service(),
            w.pod(),
            (w.service().isEmpty() ? "data plane: " : "")
                + w.reason()
                + ": "
                + w.message()
                + (w.count() > 1 ? " (" + w.count() + " times)" : ""),
            ClusterWarnings.fields(w));
      }
      if (unreachable) {
        unreachable = false;
        emit("RuntimeReachable", "", "", "the Kubernetes API answers again", Map.of());
      }
    } catch (KubernetesClientException | IllegalStateException e) {
      unreachable(e);
    }
  }

  private void unreachable(RuntimeException e) {
    if (!unreachable) {
      unreachable = true;
      log.warn("Kubernetes namespace {}: {}", namespace, e.getMessage());
      emit(
          "RuntimeUnreachable",
          "",
          "",
          "the Kubernetes API failed: " + e.getMessage() + "; retrying every tick",
          Map.of("namespace", namespace));
    }
  }

  /** Writes what differs between the desired state and the cluster. */
  private void converge(Instant now) {
    Map<String, Deployment> live = new HashMap<>();
    for (Deployment d : ownedDeployments()) {
      live.put(d.getMetadata().getName(), d);
    }
    Set<String> wanted = new HashSet<>();
    for (ServiceSpec s : desired.values()) {
      String reason = suspended.getOrDefault(s.name(), "");
      String restart = restartedAt.getOrDefault(s.name(), "");
      boolean scaledByHpa = hpaOwns(s.name());
      Deployment stable =
          Manifests.deployment(
              namespace,
              s,
              STABLE,
              scaledByHpa ? null : s.replicas(),
              s.template(),
              restart,
              reason);
      Deployment liveStable = live.get(stable.getMetadata().getName());
      if (stable.getSpec().getReplicas() == null) { // the HPA's count stands
        stable
            .getSpec()
            .setReplicas(liveStable == null ? s.replicas() : liveStable.getSpec().getReplicas());
      }
      write(stable, liveStable);
      if (scaledByHpa) {
        write(
            Manifests.hpa(namespace, s),
            client
                .autoscaling()
                .v2()
                .horizontalPodAutoscalers()
                .inNamespace(namespace)
                .withName(s.name())
                .get());
      }
      wanted.add(stable.getMetadata().getName());
      write(Manifests.service(namespace, s), existingService(s.name()));
      if (throughGateway(s.name())) {
        write(
            Manifests.trackService(namespace, s, STABLE), existingService(s.name() + "-" + STABLE));
        write(
            Manifests.trackService(namespace, s, CANARY), existingService(s.name() + "-" + CANARY));
        HTTPRoute route =
            Manifests.httpRoute(namespace, s, gateway, Optional.ofNullable(splits.get(s.name())));
        write(
            route,
            client.resources(HTTPRoute.class).inNamespace(namespace).withName(s.name()).get());
      }
      Optional<Secret> secret = Manifests.secret(namespace, s, secrets::value);
      if (secret.isPresent()) {
        write(secret.get(), existingSecret(s.name()));
      }
      Canary c = canaries.get(s.name());
      if (c != null && !promoting.contains(s.name())) {
        Deployment canary =
            Manifests.deployment(
                namespace, c.spec(), CANARY, c.count(), canaryTemplate(c.spec()), restart, reason);
        write(canary, live.get(canary.getMetadata().getName()));
        wanted.add(canary.getMetadata().getName());
      } else if (promoting.contains(s.name())) {
        // The canary goes once the stable Deployment runs its template on every replica.
        String canaryName = Manifests.deploymentName(s.name(), CANARY);
        // (A suspended service runs nothing: its canary goes at once.)
        if (live.containsKey(canaryName) && reason.isEmpty() && !rolledOut(live.get(s.name()), s)) {
          wanted.add(canaryName);
        } else {
          promoting.remove(s.name());
        }
      }
    }
    if (dataPlaneWanted()) {
      convergeDataPlane(live.get(DataPlaneManifests.NAME_VALUE));
      wanted.add(DataPlaneManifests.NAME_VALUE);
    } else {
      dataPlaneToken = ""; // its Secret goes below; a data plane wanted again gets a new one
    }
    for (Deployment d : live.values()) {
      if (!wanted.contains(d.getMetadata().getName())) {
        client.resource(d).inNamespace(namespace).delete();
      }
    }
    List<io.fabric8.kubernetes.api.model.Service> services =
        client
            .services()
            .inNamespace(namespace)
            .withLabel(MANAGED_BY, PILOTHOUSE)
            .list()
            .getItems();
    deleteUndeclared(services);
    // The per-track Services and the HTTPRoute of a service no longer routed through the Gateway.
    delete(
        services.stream()
            .filter(s -> s.getMetadata().getLabels().containsKey(TRACK))
            .filter(s -> desired.containsKey(service(s)) && !throughGateway(service(s)))
            .toList());
    delete(
        client
            .autoscaling()
            .v2()
            .horizontalPodAutoscalers()
            .inNamespace(namespace)
            .withLabel(MANAGED_BY, PILOTHOUSE)
            .list()
            .getItems()
            .stream()
            .filter(h -> !hpaOwns(service(h)))
            .toList());
    // Filtered here rather than by label selector: fabric8's mock server does not select Gateway
    // API objects by label, and a namespace holds few routes.
    delete(
        client.resources(HTTPRoute.class).inNamespace(namespace).list().getItems().stream()
            .filter(r -> PILOTHOUSE.equals(r.getMetadata().getLabels().get(MANAGED_BY)))
            .filter(r -> !throughGateway(service(r)))
            .toList());
    deleteUndeclared(
        client
            .secrets()
            .inNamespace(namespace)
            .withLabel(MANAGED_BY, PILOTHOUSE)
            .list()
            .getItems());
    for (Pod p : ownedPods()) {
      String until = annotation(p, QUARANTINE_UNTIL);
      if (!until.isEmpty() && now.isAfter(Instant.parse(until)) && !deleting(p)) {
        client.resource(p).inNamespace(namespace).delete();
        emit("InstanceStopping", service(p), name(p), "quarantine over: stopped", Map.of());
      }
    }
  }

  /**
   * Whether the service's traffic comes through the Gateway (an HTTPRoute and per-track Services).
   */
  private boolean throughGateway(String service) {
    return !gateway.isEmpty()
        && desired.containsKey(service)
        && desired.get(service).route() != null;
  }

  private boolean rolledOut(Deployment d, ServiceSpec s) {
    if (d == null || d.getStatus() == null) {
      return false;
    }
    var st = d.getStatus();
    long ready = st.getReadyReplicas() == null ? 0 : st.getReadyReplicas();
    long updated = st.getUpdatedReplicas() == null ? 0 : st.getUpdatedReplicas();
    return ready >= s.replicas() && updated >= s.replicas();
  }

  private void deleteUndeclared(List<? extends HasMetadata> owned) {
    delete(
        owned.stream()
            .filter(o -> !desired.containsKey(service(o)))
            .filter(o -> !(DataPlaneManifests.owns(o) && dataPlaneWanted()))
            .toList());
  }

  /** Whether Pilothouse's proxies run here: the spec asks for them and routes a service. */
  private boolean dataPlaneWanted() {
    return dataPlane != null && desired.values().stream().anyMatch(s -> s.route() != null);
  }

  /** The proxies' token Secret (made once, then kept), Deployment and Service. */
  private void convergeDataPlane(Deployment live) {
    if (dataPlaneToken.isEmpty()) {
      Secret existing =
          client.secrets().inNamespace(namespace).withName(DataPlaneManifests.TOKEN_SECRET).get();
      if (existing == null) {
        existing = DataPlaneManifests.tokenSecret(namespace);
        client.resource(existing).inNamespace(namespace).create();
        emit(
            "DataPlaneTokenCreated",
            "",
            "",
            "a control token for the data plane's proxies (Secret "
                + DataPlaneManifests.TOKEN_SECRET
                + ")",
            Map.of());
      }
      dataPlaneToken = DataPlaneManifests.token(existing).orElse("");
    }
    write(DataPlaneManifests.deployment(namespace, dataPlane), live);
    write(
        DataPlaneManifests.service(namespace, dataPlane),
        existingService(DataPlaneManifests.NAME_VALUE));
  }

  @Override
  public synchronized List<dev.pilothouse.core.traffic.DataPlaneEndpoint> dataPlane() {
    return dataPlaneEndpoints;
  }

  private void delete(List<? extends HasMetadata> gone) {
    for (HasMetadata o : gone) {
      client.resource(o).inNamespace(namespace).delete();
    }
  }

  private io.fabric8.kubernetes.api.model.Service existingService(String name) {
    return client.services().inNamespace(namespace).withName(name).get();
  }

  private Secret existingSecret(String service) {
    return client.secrets().inNamespace(namespace).withName(Manifests.secretName(service)).get();
  }

  /** Creates or updates o unless the live object was applied from the same desired state. */
  private void write(HasMetadata o, HasMetadata live) {
    if (live != null && annotation(live, APPLIED).equals(annotation(o, APPLIED))) {
      return;
    }
    client.resource(o).inNamespace(namespace).createOr(NonDeletingOperation::update);
  }

  private List<Deployment> ownedDeployments() {
    return client
        .apps()
        .deployments()
        .inNamespace(namespace)
        .withLabel(MANAGED_BY, PILOTHOUSE)
        .list()
        .getItems();
  }

  private List<Pod> ownedPods() {
    return client.pods().inNamespace(namespace).withLabel(MANAGED_BY, PILOTHOUSE).list().getItems();
  }

  /** Reads the pods back as instances; emits what changed since the last look. */
  private void observe(Instant now, boolean adopting) {
    deployments.clear();
    for (Deployment d : ownedDeployments()) {
      deployments.put(d.getMetadata().getName(), d);
    }
    Map<String, List<Pod>> byService = new LinkedHashMap<>();
    for (String s : desired.keySet()) {
      byService.put(s, new ArrayList<>());
    }
    List<dev.pilothouse.core.traffic.DataPlaneEndpoint> proxies = new ArrayList<>();
    for (Pod p : ownedPods()) {
      if (DataPlaneManifests.owns(p)) {
        String ip = p.getStatus() == null ? null : p.getStatus().getPodIP();
        if (ip != null
            && !deleting(p)
            && "Running".equals(p.getStatus().getPhase())
            && !dataPlaneToken.isEmpty()) {
          proxies.add(
              new dev.pilothouse.core.traffic.DataPlaneEndpoint(
                  name(p), ip, DataPlaneManifests.CONTROL_PORT, Manifests.PORT, dataPlaneToken));
        }
        continue;
      }
      byService.computeIfAbsent(service(p), k -> new ArrayList<>()).add(p);
    }
    proxies.sort(Comparator.comparing(dev.pilothouse.core.traffic.DataPlaneEndpoint::name));
    dataPlaneEndpoints = dataPlaneWanted() ? List.copyOf(proxies) : List.of();
    Set<String> seen = new HashSet<>();
    List<ServiceStatus> out = new ArrayList<>();
    for (Map.Entry<String, List<Pod>> e : byService.entrySet()) {
      String service = e.getKey();
      List<Pod> pods = e.getValue();
      pods.sort(
          Comparator.comparing(
                  (Pod p) -> p.getMetadata().getCreationTimestamp(),
                  Comparator.nullsLast(Comparator.naturalOrder()))
              .thenComparing(KubernetesWorkloads::name));
      List<InstanceStatus> instances = new ArrayList<>();
      int[] next = {
        0, InstanceController.CANARY_SLOT_BASE, InstanceController.QUARANTINE_SLOT_BASE
      };
      boolean crashLoop = false;
      for (Pod p : pods) {
        String track = p.getMetadata().getLabels().getOrDefault(TRACK, STABLE);
        int slot =
            switch (track) {
              case CANARY -> next[1]++;
              case QUARANTINED -> next[2]++;
              default -> next[0]++;
            };
        InstanceStatus i = instance(p, slot);
        instances.add(i);
        seen.add(i.id());
        crashLoop |= events(p, i, adopting);
      }
      ServiceSpec spec = desired.get(service);
      Deployment owner = deployments.get(service);
      int want =
          spec == null || suspended.containsKey(service)
              ? 0
              : hpaOwns(service) && owner != null && owner.getSpec().getReplicas() != null
                  ? owner.getSpec().getReplicas() // what the HPA chose
                  : spec.replicas();
      int ready =
          (int)
              instances.stream()
                  .filter(i -> i.serving() && i.slot() < InstanceController.CANARY_SLOT_BASE)
                  .count();
      String state;
      if (spec == null) {
        state = "removing";
      } else if (suspended.containsKey(service)) {
        state = "stopped";
      } else if (crashLoop) {
        state = "crash-loop";
      } else if (ready == want
          && instances.stream()
              .filter(i -> i.slot() < InstanceController.CANARY_SLOT_BASE)
              .allMatch(i -> i.template().equals(spec.template()))) {
        state = "running";
      } else {
        state = ready == 0 && want > 0 ? "degraded" : "progressing";
      }
      Deployment d = deployments.get(service);
      int generation =
          d == null || d.getMetadata().getGeneration() == null
              ? 0
              : d.getMetadata().getGeneration().intValue();
      if (spec == null && instances.isEmpty()) {
        continue;
      }
      out.add(
          new ServiceStatus(
              service,
              spec == null ? "" : spec.version(),
              state,
              want,
              ready,
              generation,
              List.copyOf(instances)));
    }
    for (String gone : new ArrayList<>(restartsSeen.keySet())) {
      if (!seen.contains(gone)) {
        restartsSeen.remove(gone);
        readySeen.remove(gone);
        crashLoopSeen.remove(gone);
      }
    }
    status = List.copyOf(out);
  }

  /** Emits what changed for one pod since the last look; true when it is in a crash loop. */
  private boolean events(Pod p, InstanceStatus i, boolean adopting) {
    String id = i.id();
    Integer before = restartsSeen.put(id, i.restarts());
    if (before == null) {
      emit(
          adopting ? "InstanceAdopted" : "InstanceStarted",
          i.service(),
          id,
          (adopting ? "adopted pod " : "pod ") + id + " of " + i.version(),
          Map.of("version", i.version()));
    } else if (i.restarts() > before) {
      emit(
          "InstanceExited",
          i.service(),
          id,
          "container exited" + lastExit(p) + "; the kubelet restarted it",
          Map.of("restarts", Integer.toString(i.restarts())));
    }
    if (i.ready() && readySeen.add(id)) {
      emit("InstanceReady", i.service(), id, "ready", Map.of());
    }
    Optional<String> waiting =
        containers(p).stream()
            .map(c -> c.getState() == null ? null : c.getState().getWaiting())
            .filter(w -> w != null && w.getReason() != null)
            .filter(
                w ->
                    w.getReason().equals("CrashLoopBackOff")
                        || CANNOT_START.contains(w.getReason()))
            .map(w -> w.getReason() + (w.getMessage() == null ? "" : ": " + w.getMessage()))
            .findFirst();
    boolean crashLoop = waiting.isPresent();
    if (crashLoop && crashLoopSeen.add(id)) {
      if (waiting.get().startsWith("CrashLoopBackOff")) {
        emit("CrashLoop", i.service(), id, "container keeps crashing (CrashLoopBackOff)", Map.of());
      } else { // a bad image or config: it will not start however long it waits
        emit(
            "StartFailed",
            i.service(),
            id,
            "the container cannot start: " + waiting.get(),
            Map.of("reason", waiting.get().replaceFirst(":.*", "")));
      }
    } else if (!crashLoop) {
      crashLoopSeen.remove(id);
    }
    return crashLoop;
  }

  private static String lastExit(Pod p) {
    for (ContainerStatus c : containers(p)) {
      if (c.getLastState() != null && c.getLastState().getTerminated() != null) {
        var t = c.getLastState().getTerminated();
        return " with code "
            + t.getExitCode()
            + (t.getReason() == null ? "" : " (" + t.getReason() + ")");
      }
    }
    return "";
  }

  private static List<ContainerStatus> containers(Pod p) {
    return p.getStatus() == null || p.getStatus().getContainerStatuses() == null
        ? List.of()
        : p.getStatus().getContainerStatuses();
  }

  private InstanceStatus instance(Pod p, int slot) {
    boolean ready =
        p.getStatus() != null
            && p.getStatus().getConditions() != null
            && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    String phase = p.getStatus() == null ? "Pending" : p.getStatus().getPhase();
    String track = p.getMetadata().getLabels().getOrDefault(TRACK, STABLE);
    String state;
    if (deleting(p) || "Succeeded".equals(phase) || "Failed".equals(phase)) {
      state = "stopping";
    } else if (QUARANTINED.equals(track)) {
      state = "quarantined";
    } else if (ready || readySeen.contains(name(p))) {
      state = "running";
    } else {
      state = "starting";
    }
    int restarts =
        containers(p).stream()
            .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount())
            .sum();
    String started =
        p.getStatus() != null && p.getStatus().getStartTime() != null
            ? p.getStatus().getStartTime()
            : p.getMetadata().getCreationTimestamp();
    return new InstanceStatus(
        name(p),
        service(p),
        slot,
        0,
        Manifests.PORT,
        state,
        ready && state.equals("running"),
        started == null ? clock.instant() : Instant.parse(started),
        restarts,
        p.getMetadata().getLabels().getOrDefault(TEMPLATE, ""),
        versionOf(p),
        p.getStatus() == null ? null : p.getStatus().getPodIP());
  }

  private String versionOf(Pod p) {
    ServiceSpec s = desired.get(service(p));
    String label = p.getMetadata().getLabels().getOrDefault(Manifests.VERSION, "");
    // Labels hold a sanitised version; report the spec's spelling when it is the same version.
    Canary c = canaries.get(service(p));
    for (ServiceSpec candidate : new ServiceSpec[] {s, c == null ? null : c.spec()}) {
      if (candidate != null && Manifests.labelValue(candidate.version()).equals(label)) {
        return candidate.version();
      }
    }
    return label;
  }

  private static boolean deleting(HasMetadata o) {
    return o.getMetadata().getDeletionTimestamp() != null;
  }

  private static String name(HasMetadata o) {
    return o.getMetadata().getName();
  }

  private static String service(HasMetadata o) {
    return o.getMetadata().getLabels().getOrDefault(NAME, "");
  }

  private static String annotation(HasMetadata o, String key) {
    Map<String, String> a = o.getMetadata().getAnnotations();
    return a == null ? "" : a.getOrDefault(key, "");
  }

  /**
   * The service an object of the cluster belongs to: a pod of it, its Deployment (stable or canary)
   * or one of their ReplicaSets; empty ("") for the data plane's; none for others.
   */
  private Optional<String> ownerOf(io.fabric8.kubernetes.api.model.ObjectReference o) {
    String name = o.getName() == null ? "" : o.getName();
    String deployment =
        switch (String.valueOf(o.getKind())) {
          case "Pod" -> {
            if (name.startsWith(DataPlaneManifests.NAME_VALUE + "-")) {
              yield DataPlaneManifests.NAME_VALUE;
            }
            for (ServiceStatus st : status) {
              if (st.instances().stream().anyMatch(i -> i.id().equals(name))) {
                yield st.name();
              }
            }
            yield null;
          }
          case "Deployment" -> name;
          case "ReplicaSet" -> name.contains("-") ? name.substring(0, name.lastIndexOf('-')) : null;
          default -> null;
        };
    if (deployment == null) {
      return Optional.empty();
    }
    if (deployment.equals(DataPlaneManifests.NAME_VALUE)) {
      return Optional.of("");
    }
    String service =
        deployment.endsWith("-" + CANARY)
            ? deployment.substring(0, deployment.length() - CANARY.length() - 1)
            : deployment;
    return desired.containsKey(service) ? Optional.of(service) : Optional.empty();
  }

  @Override
  public synchronized List<ServiceStatus> status() {
    return status;
  }

  @Override
  public synchronized void restart(String service) {
    requireDeclared(service);
    restartedAt.put(service, clock.instant().toString());
    emit("RestartRequested", service, "", "rolling restart requested", Map.of());
  }

  @Override
  public synchronized void replace(String instanceId, String reason) {
    Pod p = pod(instanceId);
    client.resource(p).inNamespace(namespace).delete();
    emit("InstanceStopping", service(p), instanceId, "replaced: " + reason, Map.of());
  }

  @Override
  public synchronized void quarantine(String instanceId, String reason, Duration keepFor) {
    Pod p = pod(instanceId);
    Instant until = clock.instant().plus(keepFor);
    // Another track takes the pod out of its ReplicaSet's selector (which starts a fresh one), and
    // serving=false out of the Service's endpoints; the name label stays for status and logs.
    client
        .pods()
        .inNamespace(namespace)
        .withName(instanceId)
        .edit(
            x ->
                new PodBuilder(x)
                    .editMetadata()
                    .addToLabels(TRACK, QUARANTINED)
                    .addToLabels(Manifests.SERVING, "false")
                    .addToAnnotations(QUARANTINE_UNTIL, until.toString())
                    .endMetadata()
                    .build());
    emit(
        "InstanceQuarantined",
        service(p),
        instanceId,
        "quarantined until " + until + ": " + reason,
        Map.of("until", until.toString()));
  }

  private Pod pod(String instanceId) {
    Pod p = client.pods().inNamespace(namespace).withName(instanceId).get();
    if (p == null || !PILOTHOUSE.equals(p.getMetadata().getLabels().get(MANAGED_BY))) {
      throw new IllegalArgumentException(
          "no instance '" + instanceId + "' in namespace " + namespace);
    }
    return p;
  }

  private void requireDeclared(String service) {
    if (!desired.containsKey(service)) {
      throw new IllegalArgumentException("no service '" + service + "'");
    }
  }

  @Override
  public synchronized void suspend(String service, String reason) {
    requireDeclared(service);
    suspended.put(service, reason.isEmpty() ? "suspended" : reason);
    emit("ServiceSuspended", service, "", "suspended: " + reason, Map.of());
  }

  @Override
  public synchronized void resume(String service) {
    String reason = suspended.remove(service);
    if (reason != null) {
      emit("ServiceResumed", service, "", "resumed after: " + reason, Map.of());
    }
  }

  @Override
  public synchronized int running(String service) {
    return (int)
        status.stream()
            .filter(s -> s.name().equals(service))
            .mapToLong(s -> s.instances().size())
            .sum();
  }

  @Override
  public synchronized void setCanary(String service, ServiceSpec canary, int count) {
    requireDeclared(service);
    Canary next = new Canary(canary, count);
    if (!next.equals(canaries.put(service, next))) {
      promoting.remove(service);
      emit(
          "CanaryScaled",
          service,
          "",
          count + " canary instance" + (count == 1 ? "" : "s") + " of " + canary.version(),
          Map.of("count", Integer.toString(count), "version", canary.version()));
    }
  }

  @Override
  public synchronized void promoteCanary(String service) {
    Canary c = canaries.remove(service);
    if (c == null) {
      return;
    }
    // The stable Deployment takes the canary's spec (its rolling update replaces the old pods);
    // the canary Deployment serves until then.
    desired.put(service, c.spec().withReplicas(desired.get(service).replicas()));
    promoting.add(service);
    emit("CanaryAdopted", service, "", "the canary's spec is now the service's", Map.of());
  }

  @Override
  public synchronized void clearCanary(String service) {
    if (canaries.remove(service) != null) {
      emit("CanaryRemoved", service, "", "canary removed", Map.of());
    }
  }

  @Override
  public synchronized Optional<String> canaryTemplate(String service) {
    Canary c = canaries.get(service);
    return c == null ? Optional.empty() : Optional.of(canaryTemplate(c.spec()));
  }

  private static String canaryTemplate(ServiceSpec canary) {
    return canary.template() + "-canary";
  }

  @Override
  public synchronized boolean canaryCrashLooping(String service) {
    return status.stream()
        .filter(s -> s.name().equals(service))
        .flatMap(s -> s.instances().stream())
        .filter(i -> i.slot() >= InstanceController.CANARY_SLOT_BASE)
        .anyMatch(i -> crashLoopSeen.contains(i.id()));
  }

  @Override
  public synchronized void split(String service, Split split) {
    splits.put(service, split);
  }

  @Override
  public synchronized void clear(String service) {
    splits.remove(service);
  }

  @Override
  public void stopAll() {
    // The cluster's workloads outlive the daemon; nothing to stop.
  }

  @Override
  public boolean idle() {
    return true;
  }

  @Override
  public void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException {
    logs.stream(service, instance, since, follow, out);
  }

  @Override
  public boolean has(String service, String instance) {
    return logs.has(service, instance);
  }

  @Override
  public void close() {
    client.close();
  }

  private void emit(
      String type, String service, String instance, String message, Map<String, String> fields) {
    events.emit(new NewEvent(clock.instant(), type, service, instance, message, fields));
  }
}
