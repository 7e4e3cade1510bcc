package dev.pilothouse.runtime.kubernetes;

import dev.pilothouse.core.spec.Hashing;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes API for tests: fabric8's mock server in CRUD mode (it stores and serves objects, but
 * runs no controller), plus what this class does on each {@link #settle()} in place of the cluster:
 *
 * <ul>
 *   <li>the Deployment controller: pods from each Deployment's template up to its replicas, old
 *       template pods deleted once the new ones are ready, the Deployment's status;
 *   <li>the garbage collector: a deleted Deployment's pods go with it;
 *   <li>the kubelet: a new pod runs, its readiness is its exec probe run on this machine, its
 *       container "prints" {@code hello from $VERSION} (the contract services' first line) to a log
 *       served on {@code pods/NAME/log}; a crashed container comes back with one more restart; an
 *       image tagged {@code :missing} cannot be pulled ({@code ErrImagePull}); each pod gets an
 *       address of its own, 127.0.1.N, and a test may run its container there for real ({@link
 *       #containers}).
 * </ul>
 *
 * <p>Not simulated: scheduling, images, resource limits, liveness probes, grace periods (deletes
 * are immediate), the Service's endpoints. What passes here has not run on a real cluster.
 */
public final class SimulatedCluster implements AutoCloseable {
  public static final String NAMESPACE = "shop";
  private static final Pattern LOG =
      Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/?]+)/log.*");

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final Map<String, List<String>> logs = new ConcurrentHashMap<>();
  private final Set<String> crashed = ConcurrentHashMap.newKeySet();
  private final Map<List<String>, Boolean> probeResults = new HashMap<>();
  private final AtomicInteger names = new AtomicInteger();
  private java.util.concurrent.ScheduledExecutorService loop;
  private final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger addresses = new AtomicInteger();
  private final Map<String, AutoCloseable> containers = new ConcurrentHashMap<>();
  private volatile Containers runtime = (pod, ip) -> () -> {};

  /**
   * What runs a pod's container for real, when a test wants it to: given the pod and its address (a
   * loopback address of its own, 127.0.1.N), it starts something listening there and returns how to
   * stop it (called when the pod goes or its container crashes).
   */
  @FunctionalInterface
  public interface Containers {
    AutoCloseable run(Pod pod, String address) throws Exception;
  }

  /** Runs pods' containers with this from now on (by default they run nothing). */
  public SimulatedCluster containers(Containers run) {
    this.runtime = run;
    return this;
  }

  public SimulatedCluster() {
    KubernetesCrudDispatcher crud = new KubernetesCrudDispatcher();
    Dispatcher dispatcher =
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            if ("Bearer simulated".equals(request.getHeader("Authorization"))) {
              requests.add(request.getMethod() + " " + request.getPath());
            }
            Matcher m = LOG.matcher(request.getPath());
            if (request.getMethod().equals("GET") && m.matches()) {
              List<String> lines = logs.get(m.group(2));
              return lines == null
                  ? new MockResponse().setResponseCode(404).setBody("{}")
                  : new MockResponse().setResponseCode(200).setBody(String.join("", lines));
            }
            return crud.dispatch(request);
          }
        };
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
  }

  /** The simulation's own client, for tests to read the cluster with (closed with it). */
  public KubernetesClient api() {
    return client;
  }

  /** A new client of this cluster (each daemon has its own); its caller closes it. */
  public KubernetesClient client() {
    return server.createClient();
  }

  /**
   * The requests ("METHOD PATH?QUERY") of clients that came through {@link #kubeconfig} (the
   * runtime under test), not the simulation's own.
   */
  public List<String> requests() {
    return List.copyOf(requests);
  }

  /** The container of pod crashes; the kubelet restarts it on the next settle. */
  public void crash(String pod) {
    crashed.add(pod);
  }

  /**
   * A Warning event about an object, as a controller or the kubelet records one; the same reason
   * for the same object again counts up (as the API server aggregates repeats).
   */
  public void warn(String kind, String name, String reason, String message) {
    String id = (kind + "." + name + "." + reason).toLowerCase(java.util.Locale.ROOT);
    var events = client.v1().events().inNamespace(NAMESPACE);
    io.fabric8.kubernetes.api.model.Event e = events.withName(id).get();
    String now = Instant.now().toString();
    if (e == null) {
      events
          .resource(
              new io.fabric8.kubernetes.api.model.EventBuilder()
                  .withNewMetadata()
                  .withName(id)
                  .withNamespace(NAMESPACE)
                  .withUid(java.util.UUID.randomUUID().toString())
                  .endMetadata()
                  .withType("Warning")
                  .withReason(reason)
                  .withMessage(message)
                  .withCount(1)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withNewInvolvedObject()
                  .withKind(kind)
                  .withName(name)
                  .withNamespace(NAMESPACE)
                  .endInvolvedObject()
                  .build())
          .create();
    } else {
      e.setCount(e.getCount() + 1);
      e.setLastTimestamp(now);
      events.resource(e).update();
    }
  }

  /** One pass of the cluster's controllers and kubelets. */
  public synchronized void settle() {
    Set<String> owners = new HashSet<>();
    for (Deployment d : client.apps().deployments().inNamespace(NAMESPACE).list().getItems()) {
      owners.add(d.getMetadata().getName());
      deploymentController(d);
    }
    Set<String> pods = new HashSet<>();
    for (Pod p : client.pods().inNamespace(NAMESPACE).list().getItems()) {
      var owner = p.getMetadata().getOwnerReferences();
      if (!owner.isEmpty() && !owners.contains(owner.get(0).getName())) {
        client.pods().inNamespace(NAMESPACE).resource(p).delete(); // the garbage collector
      } else {
        pods.add(p.getMetadata().getName());
        kubelet(p);
      }
    }
    for (String gone : new ArrayList<>(containers.keySet())) {
      if (!pods.contains(gone)) {
        stop(gone);
      }
    }
  }

  private void stop(String pod) {
    AutoCloseable c = containers.remove(pod);
    if (c != null) {
      try {
        c.close();
      } catch (Exception e) {
        // stopped as far as it goes
      }
    }
  }

  private void deploymentController(Deployment d) {
    Map<String, String> selector = d.getSpec().getSelector().getMatchLabels();
    String hash =
        Hashing.sha256Hex(Serialization.asJson(d.getSpec().getTemplate())).substring(0, 10);
    List<Pod> current = new ArrayList<>();
    List<Pod> old = new ArrayList<>();
    for (Pod p : client.pods().inNamespace(NAMESPACE).withLabels(selector).list().getItems()) {
      (hash.equals(p.getMetadata().getLabels().get("pod-template-hash")) ? current : old).add(p);
    }
    int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    for (int i = current.size(); i < replicas; i++) {
      Pod p =
          new PodBuilder()
              .withNewMetadata()
              .withName(
                  d.getMetadata().getName()
                      + "-"
                      + hash.substring(0, 5)
                      + "-"
                      + names.incrementAndGet())
              .withNamespace(NAMESPACE)
              .withLabels(new HashMap<>(d.getSpec().getTemplate().getMetadata().getLabels()))
              .addToLabels("pod-template-hash", hash)
              .withCreationTimestamp(Instant.now().toString())
              .addNewOwnerReference()
              .withApiVersion("apps/v1")
              .withKind("Deployment")
              .withName(d.getMetadata().getName())
              .withUid(d.getMetadata().getUid())
              .endOwnerReference()
              .endMetadata()
              .withSpec(d.getSpec().getTemplate().getSpec())
              .build();
      current.add(client.pods().inNamespace(NAMESPACE).resource(p).create());
    }
    current.sort(Comparator.comparing((Pod p) -> p.getMetadata().getCreationTimestamp()));
    while (current.size() > replicas) {
      client.pods().inNamespace(NAMESPACE).resource(current.remove(current.size() - 1)).delete();
    }
    long ready = current.stream().filter(SimulatedCluster::ready).count();
    if (ready >= replicas) {
      old.forEach(p -> client.pods().inNamespace(NAMESPACE).resource(p).delete());
    }
    d.setStatus(
        new DeploymentStatusBuilder()
            .withReplicas(current.size() + (ready >= replicas ? 0 : old.size()))
            .withUpdatedReplicas(current.size())
            .withReadyReplicas((int) ready)
            .withAvailableReplicas((int) ready)
            .withObservedGeneration(d.getMetadata().getGeneration())
            .build());
    client.apps().deployments().inNamespace(NAMESPACE).resource(d).updateStatus();
  }

  private static boolean ready(Pod p) {
    return p.getStatus() != null
        && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream()
            .anyMatch(c -> c.getType().equals("Ready") && c.getStatus().equals("True"));
  }

  private void kubelet(Pod p) {
    String name = p.getMetadata().getName();
    boolean fresh = p.getStatus() == null || p.getStatus().getPhase() == null;
    boolean crash = crashed.remove(name);
    if (!fresh && !crash) {
      return;
    }
    Container c = p.getSpec().getContainers().get(0);
    if (c.getImage().endsWith(":missing")) { // an image the registry does not have
      p.setStatus(
          new PodStatusBuilder()
              .withPhase("Pending")
              .addNewContainerStatus()
              .withName(c.getName())
              .withImage(c.getImage())
              .withRestartCount(0)
              .withReady(false)
              .withNewState()
              .withNewWaiting()
              .withReason("ErrImagePull")
              .withMessage("manifest for " + c.getImage() + " not found")
              .endWaiting()
              .endState()
              .endContainerStatus()
              .build());
      client.pods().inNamespace(NAMESPACE).resource(p).updateStatus();
      return;
    }
    int restarts =
        fresh ? 0 : p.getStatus().getContainerStatuses().get(0).getRestartCount() + (crash ? 1 : 0);
    ContainerStatusBuilder cs =
        new ContainerStatusBuilder()
            .withName(c.getName())
            .withImage(c.getImage())
            .withRestartCount(restarts)
            .withNewState()
            .withNewRunning()
            .withStartedAt(Instant.now().toString())
            .endRunning()
            .endState();
    if (crash) {
      cs.withNewLastState()
          .withNewTerminated()
          .withExitCode(137)
          .withReason("Error")
          .endTerminated()
          .endLastState();
    }
    String address =
        fresh ? "127.0.1." + (1 + addresses.getAndIncrement() % 250) : p.getStatus().getPodIP();
    stop(name);
    try {
      containers.put(name, runtime.run(p, address));
    } catch (Exception e) {
      throw new IllegalStateException("the container of " + name + " did not start: " + e, e);
    }
    boolean ready = readiness(c);
    ContainerStatus status = cs.withReady(ready).build();
    p.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withPodIP(address)
            .withStartTime(fresh ? Instant.now().toString() : p.getStatus().getStartTime())
            .withContainerStatuses(status)
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .build());
    client.pods().inNamespace(NAMESPACE).resource(p).updateStatus();
    String version =
        c.getEnv().stream()
            .filter(e -> e.getName().equals("VERSION"))
            .map(EnvVar::getValue)
            .findFirst()
            .orElse("");
    logs.computeIfAbsent(name, k -> new ArrayList<>())
        .add(Instant.now() + " hello from " + version + "\n");
  }

  /** Runs the container's exec readiness probe on this machine (true without one). */
  private boolean readiness(Container c) {
    if (c.getReadinessProbe() == null || c.getReadinessProbe().getExec() == null) {
      return true;
    }
    List<String> command = c.getReadinessProbe().getExec().getCommand();
    return probeResults.computeIfAbsent(
        command,
        cmd -> {
          try {
            return new ProcessBuilder(cmd).start().waitFor() == 0;
          } catch (Exception e) {
            return false;
          }
        });
  }

  /** Runs the simulated controllers every interval in the background, until close. */
  public SimulatedCluster running(java.time.Duration interval) {
    loop =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("simulated-cluster").unstarted(r));
    loop.scheduleWithFixedDelay(
        () -> {
          try {
            settle();
          } catch (RuntimeException e) {
            // the next pass tries again (an object changed under it)
          }
        },
        0,
        interval.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
    return this;
  }

  /** Writes a kubeconfig that points at this API server (no auth), namespace shop. */
  public java.nio.file.Path kubeconfig(java.nio.file.Path file) throws java.io.IOException {
    String url = server.url("/").replaceAll("/$", "");
    return java.nio.file.Files.writeString(
        file,
        "apiVersion: v1\n"
            + "kind: Config\n"
            + "clusters:\n"
            + "- name: simulated\n"
            + "  cluster: {server: '"
            + url
            + "'}\n"
            + "users:\n"
            + "- name: tester\n"
            + "  user: {token: simulated}\n"
            + "contexts:\n"
            + "- name: simulated\n"
            + "  context: {cluster: simulated, user: tester, namespace: "
            + NAMESPACE
            + "}\n"
            + "current-context: simulated\n");
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.shutdownNow();
      try {
        loop.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    new ArrayList<>(containers.keySet()).forEach(this::stop);
    client.close();
    server.destroy();
  }
}
