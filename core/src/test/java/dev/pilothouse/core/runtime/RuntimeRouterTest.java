package dev.pilothouse.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.WorkloadRuntime;
import dev.pilothouse.core.instance.WorkloadsContract;
import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Which runtime runs the services when the spec's runtime changes, and what happens when a cluster
 * cannot be reached. Both runtimes here record the calls they get (test doubles); the runtimes
 * themselves are held to the contract by WorkloadsContract.
 */
class RuntimeRouterTest {
  private static final RuntimeSpec SHOP =
      new RuntimeSpec(RuntimeSpec.Kind.KUBERNETES, "shop", "", "");
  private final List<NewEvent> events = new ArrayList<>();
  private final Recorder local = new Recorder("local");
  private final List<Recorder> opened = new ArrayList<>();
  private boolean clusterDown;
  private final List<String> localCalls = new ArrayList<>();
  private final dev.pilothouse.core.traffic.TrafficSplitter localSplits =
      new dev.pilothouse.core.traffic.TrafficSplitter() {
        @Override
        public void split(String service, dev.pilothouse.core.traffic.Split split) {
          localCalls.add("split " + service);
        }

        @Override
        public void clear(String service) {
          localCalls.add("clear " + service);
        }
      };

  private RuntimeRouter router(RuntimeSpec initial) {
    return router(spec(initial));
  }

  private RuntimeRouter router(Spec initial) {
    return new RuntimeRouter(
        local.workloads(),
        new dev.pilothouse.core.instance.InstanceLogs() {
          @Override
          public void stream(
              String service,
              java.util.Optional<String> instance,
              java.time.Instant since,
              boolean follow,
              java.io.OutputStream out)
              throws java.io.IOException {
            out.write("local\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
          }

          @Override
          public boolean has(String service, String instance) {
            return false; // these tests read no local logs
          }
        },
        localSplits,
        initial,
        spec -> {
          if (clusterDown) {
            throw new IllegalStateException("connection refused");
          }
          Recorder r = new Recorder("cluster " + spec.namespace());
          opened.add(r);
          return r.workloads();
        },
        events::add,
        Clock.systemUTC());
  }

  private static Spec spec(RuntimeSpec runtime) {
    ServiceSpec web = WorkloadsContract.service("web", 2, "v1", true);
    return new Spec(List.of(web)).withRuntime(runtime);
  }

  @Test
  void localByDefault_theClusterWhenTheSpecNamesIt_andLocalInstancesDrainWhenServicesMove() {
    RuntimeRouter r = router(RuntimeSpec.local());
    r.recover();
    r.apply(spec(RuntimeSpec.local()));
    r.split("web", new dev.pilothouse.core.traffic.Split("a", "b", 10, List.of(), 0, false));
    assertThat(localCalls).containsExactly("split web");
    localCalls.clear();
    assertThat(local.applied).extracting(s -> s.services().size()).containsExactly(1);
    assertThat(opened).isEmpty();

    r.apply(spec(SHOP));
    assertThat(opened).hasSize(1);
    assertThat(local.applied.getLast().services()).isEmpty(); // what ran here stops
    assertThat(opened.get(0).applied.getLast().services())
        .extracting(ServiceSpec::name)
        .containsExactly("web");
    r.restart("web");
    assertThat(opened.get(0).calls).contains("restart web");
    r.split("web", new dev.pilothouse.core.traffic.Split("a", "b", 10, List.of(), 0, false));
    assertThat(opened.get(0).calls).contains("split web");
    // The daemon's own record of the split too: it routes a Pilothouse data plane in the cluster.
    assertThat(localCalls).containsExactly("split web");
    assertThat(local.calls).doesNotContain("restart web");
    assertThat(events).extracting(NewEvent::type).contains("RuntimeChanged");

    r.apply(spec(RuntimeSpec.local()));
    assertThat(opened.get(0).calls).contains("close"); // the connection, not the workloads
    assertThat(local.applied.getLast().services()).hasSize(1);
  }

  @Test
  void anUnreachableCluster_isAnEventOnce_servicesCallsSaySo_andTheNextTickTriesAgain() {
    clusterDown = true;
    RuntimeRouter r = router(SHOP);
    r.recover();
    r.apply(spec(SHOP));
    r.tick();
    assertThat(events).filteredOn(e -> e.type().equals("RuntimeUnreachable")).hasSize(1);
    assertThat(events.get(0).message()).contains("connection refused");
    assertThatThrownBy(() -> r.restart("web"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Kubernetes namespace 'shop' is not reachable now");
    assertThat(r.canaryTemplate("web")).isEmpty();

    clusterDown = false;
    r.tick();
    assertThat(opened).hasSize(1);
    assertThat(opened.get(0).calls).contains("recover");
    assertThat(opened.get(0).applied.getLast().services())
        .hasSize(1); // the desired state, caught up
  }

  @Test
  void afterARestart_theStoredRuntimeIsReopenedAndRecovered_andStatusShowsBoth() {
    RuntimeRouter r = router(SHOP);
    r.recover();
    assertThat(opened).hasSize(1);
    assertThat(opened.get(0).calls).containsExactly("recover");
    assertThat(r.status()).extracting(ServiceStatus::name).containsExactly("cluster shop", "local");
    assertThat(r.onThisMachine()).extracting(ServiceStatus::name).containsExactly("local");
  }

  @Test
  void regions_eachRunTheServicesPlacedThere_aServiceInSeveralIsOne_andActionsGoWhereItRuns() {
    RuntimeSpec eu = new RuntimeSpec(RuntimeSpec.Kind.KUBERNETES, "eu", "", "");
    RuntimeSpec us = new RuntimeSpec(RuntimeSpec.Kind.KUBERNETES, "us", "", "");
    ServiceSpec web = WorkloadsContract.service("web", 2, "v1", true); // every region
    ServiceSpec batch =
        new ServiceSpec(
            "batch",
            "sh",
            List.of(),
            java.util.Map.of(),
            "/tmp",
            "v1",
            1,
            null,
            null,
            dev.pilothouse.core.spec.RestartPolicy.defaults(),
            dev.pilothouse.core.spec.StopPolicy.defaults(),
            dev.pilothouse.core.spec.Resources.none(),
            null,
            null,
            null,
            List.of(),
            null,
            List.of(),
            java.util.Map.of(),
            "r/batch:1",
            List.of("us"));
    Spec spec =
        new Spec(List.of(web, batch))
            .withRegions(
                List.of(
                    new dev.pilothouse.core.spec.RegionSpec(
                        "eu", eu, java.net.URI.create("http://127.0.0.1:9001"), 50),
                    new dev.pilothouse.core.spec.RegionSpec(
                        "us", us, java.net.URI.create("http://127.0.0.1:9002"), 50)));
    RuntimeRouter r = router(Spec.empty());
    r.recover();
    r.apply(spec);
    assertThat(opened).hasSize(2);
    Recorder inEu = opened.get(0);
    Recorder inUs = opened.get(1);
    assertThat(inEu.applied.getLast().services())
        .extracting(ServiceSpec::name)
        .containsExactly("web");
    assertThat(inUs.applied.getLast().services())
        .extracting(ServiceSpec::name)
        .containsExactly("web", "batch");

    InstanceStatus a =
        new InstanceStatus(
            "web-a", "web", 0, 0, 8080, "running", true, java.time.Instant.EPOCH, 0, "t", "v1");
    InstanceStatus b =
        new InstanceStatus(
            "web-b", "web", 0, 0, 8080, "running", true, java.time.Instant.EPOCH, 0, "t", "v1");
    inEu.reports = List.of(new ServiceStatus("web", "v1", "running", 2, 2, 1, List.of(a)));
    inUs.reports = List.of(new ServiceStatus("web", "v1", "progressing", 2, 1, 1, List.of(b)));
    local.reports = List.of(); // nothing runs on this machine
    assertThat(r.status())
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.desiredReplicas()).isEqualTo(4);
              assertThat(s.readyReplicas()).isEqualTo(3);
              assertThat(s.state()).isEqualTo("progressing");
              assertThat(s.instances())
                  .extracting(InstanceStatus::id)
                  .containsExactly("web-a", "web-b");
            });

    r.restart("web");
    r.restart("batch");
    assertThat(inEu.calls).contains("restart web").doesNotContain("restart batch");
    assertThat(inUs.calls).contains("restart web", "restart batch");
    r.replace("web-b", "test");
    assertThat(inUs.calls).contains("replace web-b");
    assertThat(inEu.calls).doesNotContain("replace web-b");

    // A region dropped from the spec is let go of (its workloads keep running there).
    r.apply(spec.withRegions(List.of(spec.regions().get(1))));
    assertThat(inEu.calls).contains("close");
  }

  /** Records the calls a runtime gets; status reports one service named after the runtime. */
  private static final class Recorder {
    final String name;
    final List<String> calls = new ArrayList<>();
    final List<Spec> applied = new ArrayList<>();
    List<ServiceStatus> reports;

    Recorder(String name) {
      this.name = name;
    }

    WorkloadRuntime workloads() {
      return (WorkloadRuntime)
          Proxy.newProxyInstance(
              getClass().getClassLoader(),
              new Class<?>[] {WorkloadRuntime.class},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "apply" -> applied.add((Spec) args[0]);
                  case "status" -> {
                    return reports != null
                        ? reports
                        : List.of(
                            new ServiceStatus(
                                name, "v1", "running", 0, 0, 1, List.<InstanceStatus>of()));
                  }
                  case "canaryTemplate" -> {
                    return Optional.empty();
                  }
                  case "idle", "canaryCrashLooping" -> {
                    return method.getName().equals("idle");
                  }
                  case "running" -> {
                    return 0;
                  }
                  case "stream" -> ((OutputStream) args[4]).write(name.getBytes());
                  default -> calls.add(method.getName() + (args == null ? "" : " " + args[0]));
                }
                return null;
              });
    }
  }
}
