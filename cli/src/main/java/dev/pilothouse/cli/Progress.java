package dev.pilothouse.cli;

import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.util.stream.Collectors;

/** Waits for services to be ready, showing progress on one line on a terminal. */
final class Progress {
  private Progress() {}

  static Wire.Status awaitReady(PilotClient client, int timeoutSeconds, PrintWriter out) {
    boolean tty = System.console() != null;
    long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
    String lastLine = "";
    while (true) {
      Wire.Status s = client.status();
      long desired = s.services().stream().mapToLong(Wire.Service::desiredReplicas).sum();
      long ready = s.services().stream().mapToLong(Wire.Service::readyReplicas).sum();
      String line =
          bar(ready, desired)
              + " "
              + s.services().stream()
                  .map(svc -> svc.name() + " " + svc.readyReplicas() + "/" + svc.desiredReplicas())
                  .collect(Collectors.joining(", "));
      if (tty) {
        out.print("\r" + line);
        out.flush();
      } else if (!line.equals(lastLine)) {
        out.println(line);
        out.flush();
      }
      lastLine = line;
      boolean allRunning =
          s.services().stream()
              .allMatch(svc -> svc.state().equals("running") || svc.state().equals("stopped"));
      // The load balancer, when there is one, answers before 'up' says "try curl".
      Wire.Proxy p = s.proxy();
      boolean proxySettled =
          p == null
              || p.listening()
              || !p.error().isEmpty()
              || p.health() == null
              || p.health().equals("down");
      if (allRunning && proxySettled) {
        if (tty) {
          out.println();
        }
        return s;
      }
      var looping = s.services().stream().filter(svc -> svc.state().equals("crash-loop")).toList();
      if (!looping.isEmpty()) {
        if (tty) {
          out.println();
        }
        String names = looping.stream().map(Wire.Service::name).collect(Collectors.joining(", "));
        throw new CliException(
            ExitCodes.FAILURE,
            "service " + names + " is crash-looping",
            "see 'pilothouse logs " + looping.get(0).name() + "' and 'pilothouse events'");
      }
      if (System.nanoTime() > deadline) {
        if (tty) {
          out.println();
        }
        throw new CliException(
            ExitCodes.TIMEOUT,
            "services were not ready within " + timeoutSeconds + "s",
            "see 'pilothouse status' and 'pilothouse events'; raise --timeout for slow services");
      }
      DaemonLauncher.sleep(200);
    }
  }

  static String bar(long done, long total) {
    return bar(done, total, " ready");
  }

  /** A 20-character bar followed by "done/total" and the unit. */
  static String bar(long done, long total, String unit) {
    return meter(done, total, 20) + " " + done + "/" + total + unit;
  }

  /**
   * "[####......]": width characters, the share done of total filled; full when total is 0 or less,
   * and never beyond full or below empty (more done than wanted happens: instances above a lowered
   * count, until they stop).
   */
  static String meter(long done, long total, int width) {
    int filled =
        total <= 0 ? width : (int) Math.max(0, Math.min(width, (double) width * done / total));
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }
}
