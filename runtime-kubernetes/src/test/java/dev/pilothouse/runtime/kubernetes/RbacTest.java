package dev.pilothouse.runtime.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.WorkloadsContract;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.traffic.Split;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifests for running Pilothouse in a cluster ({@code deploy/kubernetes/pilothouse.yaml}):
 * three daemons under one ServiceAccount, and a Role that grants every request the Kubernetes
 * runtime makes — recorded at the API server while the runtime, opened through a kubeconfig as the
 * daemon opens it, goes through everything it does (apply, secrets, canary, Gateway split,
 * quarantine, replace, restart, logs, suspend, removal; the cluster's warnings; the data plane).
 */
class RbacTest {
  private static final Path MANIFESTS = Path.of("../deploy/kubernetes/pilothouse.yaml");
  private static final Pattern PATH =
      Pattern.compile(
          "/(?:api/v1|apis/([^/]+)/[^/]+)/namespaces/[^/]+/([^/?]+)(?:/([^/?]+))?(?:/([^/?]+))?(\\?.*)?");

  @TempDir Path tmp;

  @Test
  void theRoleGrantsEveryRequestTheRuntimeMakes_andThreeDaemonsRunUnderItsAccount()
      throws Exception {
    Set<String> needed = new TreeSet<>();
    try (SimulatedCluster cluster = new SimulatedCluster()) {
      Path kubeconfig = cluster.kubeconfig(tmp.resolve("kubeconfig"));
      try (KubernetesWorkloads w =
          KubernetesRuntimes.open(
              new RuntimeSpec(
                  RuntimeSpec.Kind.KUBERNETES, "shop", kubeconfig.toString(), "", "public", true),
              e -> {},
              name -> Optional.of("value of " + name),
              Clock.systemUTC())) {
        exercise(cluster, w);
      }
      // And with Pilothouse's data plane in the cluster instead of a Gateway.
      try (KubernetesWorkloads w =
          KubernetesRuntimes.open(
              new RuntimeSpec(
                  RuntimeSpec.Kind.KUBERNETES,
                  "shop",
                  kubeconfig.toString(),
                  "",
                  "",
                  false,
                  new dev.pilothouse.core.spec.DataPlaneSpec("r/pilothouse:1", 1, "ClusterIP")),
              e -> {},
              name -> Optional.of("value of " + name),
              Clock.systemUTC())) {
        exercise(cluster, w);
      }
      for (String request : cluster.requests()) {
        needed.add(rbac(request));
      }
    }
    assertThat(needed)
        .as("the runtime's requests")
        .contains(
            "apps deployments create",
            "apps deployments list",
            " events list",
            " secrets get",
            " pods/log get",
            "gateway.networking.k8s.io httproutes create",
            "autoscaling horizontalpodautoscalers create");

    List<HasMetadata> objects;
    try (InputStream in = Files.newInputStream(MANIFESTS);
        var client = new SimulatedCluster()) {
      objects = client.api().load(in).items();
    }
    Role role = only(objects, Role.class);
    assertThat(role.getMetadata().getNamespace()).isEqualTo("shop");
    for (String need : needed) {
      String[] p = need.split(" ");
      assertThat(role.getRules())
          .as("the Role grants " + need)
          .anyMatch(r -> grants(r, p[0], p[1], p[2]));
    }
    RoleBinding binding = only(objects, RoleBinding.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.getKind()).isEqualTo("ServiceAccount");
              assertThat(s.getName()).isEqualTo("pilothouse");
            });
    Deployment d = only(objects, Deployment.class);
    assertThat(d.getSpec().getReplicas()).isEqualTo(3);
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("pilothouse");
    var container = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getArgs()).containsSubsequence("--api-host", "0.0.0.0");
    assertThat(container.getEnv())
        .extracting(io.fabric8.kubernetes.api.model.EnvVar::getName)
        .contains(
            "PILOTHOUSE_STORE_URL", "PILOTHOUSE_STORE_PASSWORD_FILE", "PILOTHOUSE_ADVERTISE_HOST");
  }

  private static <T> T only(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found).as("one " + type.getSimpleName()).hasSize(1);
    return found.get(0);
  }

  private static boolean grants(PolicyRule r, String group, String resource, String verb) {
    return r.getApiGroups().contains(group)
        && r.getResources().contains(resource)
        && r.getVerbs().contains(verb);
  }

  /** "GROUP RESOURCE VERB" of one recorded request. */
  static String rbac(String request) {
    String method = request.substring(0, request.indexOf(' '));
    Matcher m = PATH.matcher(request.substring(request.indexOf(' ') + 1));
    assertThat(m.matches()).as(request).isTrue();
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(2) + (m.group(4) == null ? "" : "/" + m.group(4));
    boolean named = m.group(3) != null;
    String query = m.group(5) == null ? "" : m.group(5);
    String verb =
        switch (method) {
          case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> named ? "delete" : "deletecollection";
          default -> throw new AssertionError("unexpected " + request);
        };
    return group + " " + resource + " " + verb;
  }

  private static void exercise(SimulatedCluster cluster, KubernetesWorkloads w) throws Exception {
    ServiceSpec base = WorkloadsContract.service("web", 2, "v1", true);
    ServiceSpec web =
        KubernetesManifestsTest.with(
                base,
                RouteSpec.defaults("/shop"),
                Map.of("DB_PASSWORD", new SecretRef("db", false)))
            .withAutoscale(
                new dev.pilothouse.core.spec.Autoscale(
                    1,
                    4,
                    List.of(new dev.pilothouse.core.spec.Autoscale.Target.Cpu(70)),
                    dev.pilothouse.core.spec.Autoscale.Tolerance.DEFAULT,
                    dev.pilothouse.core.spec.Autoscale.Behavior.UP,
                    dev.pilothouse.core.spec.Autoscale.Behavior.DOWN,
                    Duration.ofSeconds(30),
                    null));
    w.recover();
    w.apply(new Spec(List.of(web)));
    settle(cluster, w, () -> ready(w) == 2);
    w.setCanary("web", WorkloadsContract.service("web", 1, "v2", true), 1);
    w.split("web", new Split("a", "b", 30, List.of(), 0, false));
    settle(cluster, w, () -> ready(w) == 3);
    w.promoteCanary("web");
    settle(
        cluster,
        w,
        () ->
            w.status().get(0).instances().size() == 2
                && w.status().get(0).instances().stream()
                    .allMatch(i -> i.serving() && i.version().equals("v2")));
    List<InstanceStatus> pods = w.status().get(0).instances();
    w.quarantine(pods.get(0).id(), "rbac test", Duration.ZERO);
    w.replace(pods.get(1).id(), "rbac test");
    w.restart("web");
    w.stream("web", Optional.empty(), Instant.EPOCH, false, new ByteArrayOutputStream());
    w.suspend("web", "rbac test");
    settle(cluster, w, () -> w.running("web") == 0);
    w.apply(Spec.empty());
    settle(cluster, w, () -> w.status().isEmpty());
  }

  private static long ready(KubernetesWorkloads w) {
    return w.status().stream()
        .flatMap(s -> s.instances().stream())
        .filter(InstanceStatus::serving)
        .count();
  }

  private static void settle(
      SimulatedCluster cluster, KubernetesWorkloads w, java.util.function.BooleanSupplier done)
      throws InterruptedException {
    for (int i = 0; i < 100 && !done.getAsBoolean(); i++) {
      cluster.settle();
      w.tick();
      Thread.sleep(20);
    }
    assertThat(done.getAsBoolean()).as("the cluster settled").isTrue();
  }
}
