package dev.pilothouse.cli;

import dev.pilothouse.client.Wire;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code pilothouse status}. */
@Command(name = "status", description = "Show services and their instances.")
final class StatusCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Wire.Status s = common.client().status();
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(s));
    } else {
      print(s, out);
    }
    return ExitCodes.OK;
  }

  static void print(Wire.Status s, PrintWriter out) {
    out.println("daemon pid " + s.pid() + ", API " + s.api() + ", revision " + s.revision());
    if (s.leadership() != null && s.leadership().leader() != null) {
      Wire.Leader l = s.leadership().leader();
      out.println(
          "leader "
              + l.address()
              + " (term "
              + l.term()
              + ", "
              + l.site()
              + (l.id().equals(s.leadership().self()) ? ", this daemon" : "")
              + ")");
    }
    if (s.proxy() != null && s.proxy().listening()) {
      out.println(
          "load balancer on port "
              + s.proxy().port()
              + " (pid "
              + s.proxy().pid()
              + ", snapshot "
              + s.proxy().version()
              + ", "
              + s.proxy().health()
              + ", "
              + s.proxy().transport()
              + (s.proxy().standbyPid() > 0 ? ", standby pid " + s.proxy().standbyPid() : "")
              + ")");
    } else if (s.proxy() != null && !s.proxy().error().isEmpty()) {
      out.println(
          "load balancer NOT listening: "
              + s.proxy().error()
              + (s.proxy().pid() > 0 ? " (pid " + s.proxy().pid() + ")" : ""));
    } else if (s.proxy() != null && s.proxy().pid() > 0) {
      out.println(
          "load balancer pid "
              + s.proxy().pid()
              + " "
              + s.proxy().health()
              + " (not listening yet)");
    }
    for (Wire.ClusterProxy c : s.clusterProxies()) {
      out.println(
          "cluster proxy "
              + c.address()
              + (c.connected() && c.error().isEmpty()
                  ? " (pid " + c.pid() + ", snapshot " + c.version() + ", serving)"
                  : " NOT serving: " + c.error()));
    }
    if (s.services().isEmpty()) {
      out.println("no services; apply a spec with 'pilothouse apply -f SPEC'");
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    rows.add(List.of("SERVICE", "VERSION", "STATE", "READY"));
    for (Wire.Service svc : s.services()) {
      rows.add(
          List.of(
              svc.name(),
              svc.version().isEmpty() ? "-" : svc.version(),
              svc.state(),
              svc.readyReplicas() + "/" + svc.desiredReplicas()));
    }
    out.println();
    out.print(Output.table(rows));
    List<List<String>> scaled = new ArrayList<>();
    scaled.add(List.of("AUTOSCALED", "MIN", "MAX", "DESIRED", "STATE", "WHY"));
    for (Wire.Service svc : s.services()) {
      Wire.Autoscale a = svc.autoscale();
      if (a != null) {
        scaled.add(
            List.of(
                svc.name(),
                Integer.toString(a.min()),
                Integer.toString(a.max()),
                Integer.toString(a.desired()),
                a.state(),
                a.reason()));
      }
    }
    if (scaled.size() > 1) {
      out.println();
      out.print(Output.table(scaled));
    }
    Instant now = Instant.now();
    List<List<String>> inst = new ArrayList<>();
    inst.add(List.of("INSTANCE", "PID", "PORT", "STATE", "READY", "RESTARTS", "AGE"));
    for (Wire.Service svc : s.services()) {
      for (Wire.Instance i : svc.instances()) {
        inst.add(
            List.of(
                i.id(),
                i.pid() > 0 ? Long.toString(i.pid()) : "-", // a pod: no process of this machine
                Integer.toString(i.port()),
                i.state(),
                i.ready() ? "yes" : "no",
                Integer.toString(i.restarts()),
                Output.age(i.startedAt(), now)));
      }
    }
    if (inst.size() > 1) {
      out.println();
      out.print(Output.table(inst));
    }
  }
}
