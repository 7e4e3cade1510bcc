package dev.pilothouse.server;

import dev.pilothouse.backup.BackupException;
import dev.pilothouse.backup.BackupService;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.Workloads;
import java.nio.file.Path;
import java.time.Duration;

/** What backups need of the services on one machine: stop them for a restore, start them after. */
final class BackupServices implements BackupService.Services {
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private final Workloads controller;
  private final Deployments deployments;
  private final dev.pilothouse.core.instance.InstanceRuntime runtime;

  /**
   * @param runtime starts drill instances (owned by the state directory, so that one left by a
   *     daemon killed mid-drill is reaped when the next daemon starts)
   */
  BackupServices(
      Workloads controller,
      Deployments deployments,
      dev.pilothouse.core.instance.InstanceRuntime runtime) {
    this.controller = controller;
    this.deployments = deployments;
    this.runtime = runtime;
  }

  @Override
  public BackupService.Sandbox sandbox(String service, java.util.Map<String, String> paths)
      throws java.io.IOException {
    var spec =
        deployments
            .current()
            .service(service)
            .orElseThrow(() -> new BackupException("no service named '" + service + "'"));
    int port;
    try (java.net.ServerSocket free =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
    spec.env()
        .forEach((k, v) -> env.put(k, moved(v, paths).replace("${PORT}", Integer.toString(port))));
    env.put("PORT", Integer.toString(port));
    java.util.List<String> args =
        spec.args().stream()
            .map(a -> moved(a, paths).replace("${PORT}", Integer.toString(port)))
            .toList();
    Path workdir =
        Path.of(spec.workdir() == null || spec.workdir().isBlank() ? "." : spec.workdir());
    var process =
        runtime.start(
            new dev.pilothouse.core.instance.Launch(
                "drill-" + service + "-" + Long.toHexString(System.nanoTime()),
                service,
                spec.command(),
                args,
                env,
                workdir,
                port,
                spec.inheritEnv()));
    return new BackupService.Sandbox() {
      @Override
      public int port() {
        return port;
      }

      @Override
      public boolean alive() {
        return process.alive();
      }

      @Override
      public void close() {
        // the service's own stop signal (PostgreSQL's fast shutdown is INT)
        runtime.signal(process, spec.stop().signal());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (process.alive() && System.nanoTime() < deadline) {
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        if (process.alive()) {
          runtime.signal(process, "KILL");
        }
        runtime.cleanup(process);
      }
    };
  }

  private static String moved(String value, java.util.Map<String, String> paths) {
    String out = value;
    for (var e : paths.entrySet()) {
      out = out.replace(e.getKey(), e.getValue());
    }
    return out;
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
      if (st.state().equals("crash-loop")) {
        throw new BackupException(
            service
                + " was restored but its instances keep failing to start; see 'pilothouse logs "
                + service
                + "'");
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
