package dev.pilothouse.server;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.rollout.Ports;
import dev.pilothouse.core.spec.ServiceSpec;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Connects the rollout controller to the instance controller and the load balancer's metrics. */
final class Fleet implements Ports.Fleet, Ports.Measurements {
  private final Workloads controller;
  private final Traffic traffic;
  private final InstantSource clock;

  Fleet(Workloads controller, Traffic traffic, InstantSource clock) {
    this.controller = controller;
    this.traffic = traffic;
    this.clock = clock;
  }

  @Override
  public void setCanary(String service, ServiceSpec canary, int count) {
    controller.setCanary(service, canary, count);
  }

  @Override
  public void clearCanary(String service) {
    controller.clearCanary(service);
  }

  @Override
  public Optional<String> canaryTemplate(String service) {
    return controller.canaryTemplate(service);
  }

  @Override
  public boolean canaryCrashLooping(String service) {
    return controller.canaryCrashLooping(service);
  }

  @Override
  public boolean crashLooping(String service) {
    return controller.status().stream()
        .anyMatch(s -> s.name().equals(service) && s.state().equals("crash-loop"));
  }

  @Override
  public void promote(String service) {
    controller.promoteCanary(service);
  }

  @Override
  public List<InstanceStatus> instances(String service) {
    return controller.status().stream()
        .filter(s -> s.name().equals(service))
        .flatMap(s -> s.instances().stream())
        .toList();
  }

  @Override
  public Ports.Sample window(Set<String> instanceIds, java.time.Instant since) {
    long ago = Duration.between(since, clock.instant()).toNanos();
    return traffic
        .window(instanceIds, Math.max(0, ago))
        .map(w -> new Ports.Sample(w.requests(), w.failures(), w.latenciesMs()))
        .orElse(new Ports.Sample(0, 0, new double[0]));
  }
}
