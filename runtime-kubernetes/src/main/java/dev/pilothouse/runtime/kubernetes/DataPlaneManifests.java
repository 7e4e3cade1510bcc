package dev.pilothouse.runtime.kubernetes;

import static dev.pilothouse.runtime.kubernetes.Manifests.APPLIED;
import static dev.pilothouse.runtime.kubernetes.Manifests.MANAGED_BY;
import static dev.pilothouse.runtime.kubernetes.Manifests.NAME;
import static dev.pilothouse.runtime.kubernetes.Manifests.PILOTHOUSE;
import static dev.pilothouse.runtime.kubernetes.Manifests.PORT;

import dev.pilothouse.core.spec.DataPlaneSpec;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pilothouse's data plane in a cluster ({@code runtime.dataPlane}): a Deployment of proxies ({@code
 * pilothouse proxy} with a TCP control port), the Service in front of them, and the Secret holding
 * their control token. The daemon reaches each proxy at its pod's address with that token and
 * pushes it the cluster's routes, its pods as backends.
 */
final class DataPlaneManifests {
  /** The name of the data plane's Deployment, Service and (with a suffix) Secret. */
  static final String NAME_VALUE = "pilothouse-proxy";

  /** The Secret with the control token. */
  static final String TOKEN_SECRET = NAME_VALUE + "-control";

  /** The key of the token in the Secret, and so its file name in the pod. */
  static final String TOKEN_KEY = "token";

  /** Where the proxies' control channel listens in their pods. */
  static final int CONTROL_PORT = 9901;

  /** Where the Secret is mounted in the proxies' pods. */
  static final String TOKEN_DIR = "/run/secrets/pilothouse/control";

  /** The image's library directory (deploy/kubernetes/Dockerfile). */
  static final String LIB = "/opt/pilothouse/lib/*";

  private static final String COMPONENT = "app.kubernetes.io/component";

  private DataPlaneManifests() {}

  private static Map<String, String> labels() {
    return Map.of(MANAGED_BY, PILOTHOUSE, NAME, NAME_VALUE, COMPONENT, "data-plane");
  }

  /** Whether an object of this runtime's belongs to the data plane. */
  static boolean owns(io.fabric8.kubernetes.api.model.HasMetadata o) {
    Map<String, String> l = o.getMetadata().getLabels();
    return l != null && NAME_VALUE.equals(l.get(NAME));
  }

  /**
   * The proxy's command in the image: its JVM settings (a small serial-collected heap and Netty's
   * fast paths, as the daemon starts its own proxy with) and the control port with its token file.
   */
  static List<String> command() {
    return List.of(
        "java",
        "-XX:+UseSerialGC",
        "-XX:MaxRAMPercentage=75",
        "-XX:+ExitOnOutOfMemoryError",
        "-Xss512k",
        "--enable-native-access=ALL-UNNAMED",
        "-Dio.netty.leakDetection.level=disabled",
        "-Dio.netty.tryReflectionSetAccessible=true",
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
        "-cp",
        LIB,
        "dev.pilothouse.proxy.control.ProxyProcess",
        "--control-port",
        Integer.toString(CONTROL_PORT),
        "--control-token-file",
        TOKEN_DIR + "/" + TOKEN_KEY);
  }

  /**
   * The proxies: ready once they serve a snapshot (they listen on the traffic port only then), so a
   * fresh proxy takes no traffic before the daemon has given it the routes; spread over nodes.
   */
  static Deployment deployment(String namespace, DataPlaneSpec d) {
    Deployment dep =
        new DeploymentBuilder()
            .withNewMetadata()
            .withName(NAME_VALUE)
            .withNamespace(namespace)
            .withLabels(labels())
            .endMetadata()
            .withNewSpec()
            .withReplicas(d.replicas())
            .withNewSelector()
            .withMatchLabels(Map.of(MANAGED_BY, PILOTHOUSE, NAME, NAME_VALUE))
            .endSelector()
            .withNewStrategy()
            .withType("RollingUpdate")
            .withNewRollingUpdate()
            .withMaxUnavailable(new IntOrString(0))
            .withMaxSurge(new IntOrString(1))
            .endRollingUpdate()
            .endStrategy()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(labels())
            .endMetadata()
            .withNewSpec()
            .withAutomountServiceAccountToken(false)
            .addNewContainer()
            .withName("proxy")
            .withImage(d.image())
            .withCommand(command())
            .addNewPort()
            .withName("http")
            .withContainerPort(PORT)
            .endPort()
            .addNewPort()
            .withName("control")
            .withContainerPort(CONTROL_PORT)
            .endPort()
            .withNewReadinessProbe()
            .withNewTcpSocket()
            .withPort(new IntOrString(PORT))
            .endTcpSocket()
            .withPeriodSeconds(1)
            .endReadinessProbe()
            .withNewLivenessProbe()
            .withNewTcpSocket()
            .withPort(new IntOrString(CONTROL_PORT))
            .endTcpSocket()
            .withPeriodSeconds(10)
            .withFailureThreshold(3)
            .endLivenessProbe()
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withAllowPrivilegeEscalation(false)
            .withReadOnlyRootFilesystem(true)
            .endSecurityContext()
            .addNewVolumeMount()
            .withName("control-token")
            .withMountPath(TOKEN_DIR)
            .withReadOnly(true)
            .endVolumeMount()
            .addNewVolumeMount() // Netty unpacks its native transports here
            .withName("tmp")
            .withMountPath("/tmp")
            .endVolumeMount()
            .endContainer()
            .addNewVolume()
            .withName("tmp")
            .withNewEmptyDir()
            .endEmptyDir()
            .endVolume()
            .addNewVolume()
            .withName("control-token")
            .withNewSecret()
            .withSecretName(TOKEN_SECRET)
            .withDefaultMode(0400)
            .endSecret()
            .endVolume()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    dep.getMetadata().setAnnotations(Map.of(APPLIED, Manifests.hash(dep)));
    return dep;
  }

  /**
   * The Service in front of the proxies: port 80 to their traffic port; its type as the spec says.
   */
  static Service service(String namespace, DataPlaneSpec d) {
    Service s =
        new ServiceBuilder()
            .withNewMetadata()
            .withName(NAME_VALUE)
            .withNamespace(namespace)
            .withLabels(labels())
            .endMetadata()
            .withNewSpec()
            .withType(d.serviceType())
            .withSelector(Map.of(MANAGED_BY, PILOTHOUSE, NAME, NAME_VALUE))
            .addNewPort()
            .withName("http")
            .withPort(80)
            .withTargetPort(new IntOrString(PORT))
            .endPort()
            .endSpec()
            .build();
    s.getMetadata().setAnnotations(Map.of(APPLIED, Manifests.hash(s)));
    return s;
  }

  /** A new Secret with a fresh control token (32 random bytes, URL-safe base64). */
  static Secret tokenSecret(String namespace) {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    return new SecretBuilder()
        .withNewMetadata()
        .withName(TOKEN_SECRET)
        .withNamespace(namespace)
        .withLabels(labels())
        .endMetadata()
        .withType("Opaque")
        .withStringData(Map.of(TOKEN_KEY, token))
        .build();
  }

  /** The token a Secret holds (in data, as the API server returns it, or in stringData). */
  static Optional<String> token(Secret s) {
    if (s == null) {
      return Optional.empty();
    }
    if (s.getData() != null && s.getData().containsKey(TOKEN_KEY)) {
      return Optional.of(
          new String(Base64.getDecoder().decode(s.getData().get(TOKEN_KEY)), StandardCharsets.UTF_8)
              .strip());
    }
    return Optional.ofNullable(s.getStringData()).map(m -> m.get(TOKEN_KEY)).map(String::strip);
  }
}
