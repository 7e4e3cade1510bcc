package dev.pilothouse.core.instance;

import dev.pilothouse.core.spec.Probe;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.StopPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** An instance controller in virtual time, against fakes of the runtime, prober and store. */
abstract class ControllerFixture {
  final Fakes.Clock clock = new Fakes.Clock();
  final Fakes.Runtime runtime = new Fakes.Runtime();
  final Fakes.ProberFake prober = new Fakes.ProberFake();
  final Fakes.Repo repo = new Fakes.Repo();
  final Fakes.Events events = new Fakes.Events();
  final AtomicInteger ids = new AtomicInteger();
  final AtomicInteger ports = new AtomicInteger(20000);
  final Map<String, Integer> inFlight = new java.util.HashMap<>();
  InstanceController c = controller();

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
            id -> inFlight.getOrDefault(id, 0)));
  }

  static RestartPolicy restart(int maxRestarts) {
    return new RestartPolicy(
        RestartPolicy.Mode.ALWAYS,
        Duration.ofSeconds(1),
        Duration.ofSeconds(8),
        2.0,
        0,
        Duration.ofSeconds(60),
        maxRestarts);
  }

  static ServiceSpec service(String name, int replicas, String version) {
    return new ServiceSpec(
        name,
        "./server",
        List.of("--port", "${PORT}"),
        Map.of("PORT_COPY", "${PORT}"),
        "/srv",
        version,
        replicas,
        new Probe(
            Probe.Kind.HTTP,
            "/live",
            0,
            List.of(),
            Duration.ofSeconds(2),
            Duration.ofSeconds(1),
            3,
            1,
            Duration.ZERO),
        Probe.http("/ready"),
        restart(3),
        new StopPolicy("TERM", Duration.ofSeconds(5)),
        Resources.none(),
        null);
  }

  /** Ticks every 100ms of virtual time for the given duration. */
  void run(Duration d) {
    for (long t = 0; t < d.toMillis(); t += 100) {
      c.tick();
      clock.advance(Duration.ofMillis(100));
    }
    c.tick();
  }

  ServiceStatus status(String name) {
    return c.status().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }
}
