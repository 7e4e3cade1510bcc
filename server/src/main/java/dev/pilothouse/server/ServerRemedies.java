package dev.pilothouse.server;

import dev.pilothouse.core.deploy.DeployException;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.scaling.Remedies;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Remediation's actions on one machine: the instance controller and the deploy machinery. */
final class ServerRemedies implements Remedies {
  private final Workloads controller;
  private final Deployments deployments;

  ServerRemedies(Workloads controller, Deployments deployments) {
    this.controller = controller;
    this.deployments = deployments;
  }

  @Override
  public void replace(String instanceId, String reason) {
    controller.replace(instanceId, reason);
  }

  @Override
  public void quarantine(String instanceId, String reason, Duration keepFor) {
    controller.quarantine(instanceId, reason, keepFor);
  }

  @Override
  public void restart(String service) {
    try {
      deployments.restart(service);
    } catch (DeployException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void rollback(String service) {
    try {
      deployments.undo(service, 0);
    } catch (DeployException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public void scaleOut(String service, int by) {
    try {
      int now =
          deployments
              .current()
              .service(service)
              .orElseThrow(() -> new IllegalStateException("no service " + service))
              .replicas();
      deployments.scale(service, Math.min(1000, now + by));
    } catch (DeployException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  @Override
  public int run(List<String> argv, Map<String, String> env, Duration timeout) {
    ProcessBuilder pb =
        new ProcessBuilder(argv)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().putAll(env);
    try {
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + argv.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
