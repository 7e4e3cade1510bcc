package dev.pilothouse.core.instance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.spec.SecretRef;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Secrets named in a service's env reach its launch, and a missing one keeps it from starting. */
class SecretEnvTest extends ControllerFixture {
  final Map<String, String> secrets = new HashMap<>();

  @Override
  InstanceController controller() {
    return InstanceController.create(
        new InstanceController.Options(
            runtime,
            repo,
            events,
            prober,
            inUse -> ports.incrementAndGet(),
            clock,
            new SplittableRandom(7),
            () -> Integer.toString(ids.incrementAndGet()),
            id -> 0,
            name -> Optional.ofNullable(secrets.get(name))));
  }

  static ServiceSpec withSecrets(ServiceSpec s, Map<String, SecretRef> refs) {
    return new ServiceSpec(
        s.name(),
        s.command(),
        s.args(),
        s.env(),
        s.workdir(),
        s.version(),
        s.replicas(),
        s.liveness(),
        s.readiness(),
        s.restart(),
        s.stop(),
        s.resources(),
        s.route(),
        s.strategy(),
        s.deploy(),
        s.inheritEnv(),
        s.autoscale(),
        s.remediation(),
        refs);
  }

  @Test
  void aMissingSecret_failsTheStartNamingIt_andOnceSetTheInstanceGetsItAsEnvAndFile() {
    secrets.put("db-password", "pw-1");
    ServiceSpec s =
        withSecrets(
            service("api", 1, "v1"),
            Map.of(
                "DB_PASSWORD", new SecretRef("db-password", false),
                "TLS_KEY_FILE", new SecretRef("tls-key", true)));
    c.apply(new Spec(List.of(s)));
    run(Duration.ofMillis(300));
    assertThat(runtime.byId).isEmpty();
    NewEvent failed =
        events.list.stream().filter(e -> e.type().equals("StartFailed")).findFirst().orElseThrow();
    assertThat(failed.message())
        .contains("secret 'tls-key' (env TLS_KEY_FILE) is not set")
        .contains("pilothouse secrets set tls-key")
        .doesNotContain("pw-1");

    secrets.put("tls-key", "-----BEGIN KEY-----");
    run(Duration.ofSeconds(10)); // the restart back-off
    assertThat(runtime.byId).hasSize(1);
    Launch l = runtime.byId.values().iterator().next().launch;
    assertThat(l.env()).containsEntry("DB_PASSWORD", "pw-1").doesNotContainKey("TLS_KEY_FILE");
    assertThat(l.secretFiles()).containsExactly(Map.entry("TLS_KEY_FILE", "-----BEGIN KEY-----"));
    assertThat(l.toString()).doesNotContain("pw-1").doesNotContain("BEGIN KEY");
    assertThat(events.list.toString()).doesNotContain("pw-1").doesNotContain("BEGIN KEY");
  }
}
