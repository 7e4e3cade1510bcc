package dev.pilothouse.server;

import dev.pilothouse.backup.BackupException;
import dev.pilothouse.backup.BackupService;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.instance.ServiceStatus;
import java.nio.file.Path;
import java.time.Duration;

/** What backups need of the services on one machine: stop them for a restore, start them after. */
final class BackupServices implements BackupService.Services {
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private final InstanceController controller;
  private final Deployments deployments;

  BackupServices(InstanceController controller, Deployments deployments) {
    this.controller = controller;
    this.deployments = deployments;
  }

  @Override
  public void stop(String service) throws InterruptedException {
    controller.suspend(service, "restoring its data");
    long deadline = System.nanoTime() + STOP_TIMEOUT.toNanos();
    while (controller.running(service) > 0) {
      if (System.nanoTime() > deadline) {
        controller.resume(service);
        throw new BackupException(
            service
                + " did not stop within "
                + STOP_TIMEOUT.toSeconds()
                + " s; nothing was restored");
      }
      Thread.sleep(50);
    }
  }

  @Override
  public void start(String service) throws InterruptedException {
    controller.resume(service);
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      ServiceStatus st =
          controller.status().stream()
              .filter(s -> s.name().equals(service))
              .findFirst()
              .orElse(null);
      if (st == null || st.readyReplicas() >= Math.min(1, st.desiredReplicas())) {
        return;
      }
      Thread.sleep(50);
    }
    throw new BackupException(
        service
            + " was restored but no instance became ready within "
            + READY_TIMEOUT.toSeconds()
            + " s; see 'pilothouse logs "
            + service
            + "'");
  }

  @Override
  public Path workdir(String service) {
    return deployments
        .current()
        .service(service)
        .map(s -> s.workdir() == null || s.workdir().isBlank() ? null : Path.of(s.workdir()))
        .orElse(null);
  }
}
