package dev.pilothouse.runtime.kubernetes;

import static dev.pilothouse.runtime.kubernetes.Manifests.MANAGED_BY;
import static dev.pilothouse.runtime.kubernetes.Manifests.NAME;
import static dev.pilothouse.runtime.kubernetes.Manifests.PILOTHOUSE;

import dev.pilothouse.core.instance.InstanceLogs;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pod logs through the API ({@code pods/log} with timestamps), each line prefixed with its pod like
 * local logs; follow polls every second from the last line's time. Bounded: at most {@link
 * #TAIL_LINES} lines and {@link #LIMIT_BYTES} per pod and read.
 */
final class PodLogs implements InstanceLogs {
  static final int TAIL_LINES = 10_000;
  static final int LIMIT_BYTES = 16 << 20;
  private static final long FOLLOW_POLL_MS = 1_000;

  private final KubernetesClient client;
  private final String namespace;

  PodLogs(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public void stream(
      String service, Optional<String> instance, Instant since, boolean follow, OutputStream out)
      throws IOException {
    Map<String, Instant> last = new HashMap<>();
    while (true) {
      for (Pod p : pods(service, instance)) {
        String pod = p.getMetadata().getName();
        Instant from = last.getOrDefault(pod, since);
        last.put(pod, copy(pod, from, out));
      }
      out.flush(); // throws once the client has gone, which ends a follow
      if (!follow) {
        return;
      }
      try {
        Thread.sleep(FOLLOW_POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public boolean has(String service, String instance) {
    return !pods(service, Optional.of(instance)).isEmpty();
  }

  private List<Pod> pods(String service, Optional<String> instance) {
    return client
        .pods()
        .inNamespace(namespace)
        .withLabel(MANAGED_BY, PILOTHOUSE)
        .withLabel(NAME, service)
        .list()
        .getItems()
        .stream()
        .filter(p -> instance.isEmpty() || instance.get().equals(p.getMetadata().getName()))
        .toList();
  }

  /** Copies the pod's lines stamped after from; returns the newest stamp copied (or from). */
  private Instant copy(String pod, Instant from, OutputStream out) throws IOException {
    String text;
    try {
      text =
          client
              .pods()
              .inNamespace(namespace)
              .withName(pod)
              .inContainer(Manifests.CONTAINER)
              .usingTimestamps()
              .limitBytes(LIMIT_BYTES)
              .tailingLines(TAIL_LINES)
              .getLog();
    } catch (KubernetesClientException e) {
      return from; // not started yet, or gone: nothing to show for it now
    }
    Instant newest = from;
    byte[] prefix = ("[" + pod + "] ").getBytes(StandardCharsets.UTF_8);
    for (String line : text.split("\n")) {
      int space = line.indexOf(' ');
      if (line.isEmpty() || space < 0) {
        continue;
      }
      Instant at;
      try {
        at = Instant.parse(line.substring(0, space));
      } catch (DateTimeParseException e) {
        continue;
      }
      if (!at.isAfter(from)) {
        continue;
      }
      newest = at;
      out.write(prefix);
      out.write(line.substring(space + 1).getBytes(StandardCharsets.UTF_8));
      out.write('\n');
    }
    return newest;
  }
}
