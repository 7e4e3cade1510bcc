package dev.pilothouse.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.spec.Resources;
import dev.pilothouse.core.spec.RestartPolicy;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.StopPolicy;
import dev.pilothouse.core.traffic.Split;
import dev.pilothouse.proxy.BackendGroup;
import dev.pilothouse.proxy.Match;
import dev.pilothouse.proxy.Route;
import dev.pilothouse.proxy.RouteTable;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Route tables built from the desired spec, the observed instances and traffic splits. */
class TrafficTest {
  static ServiceSpec routed(String name) {
    return new ServiceSpec(
        name,
        "./s",
        List.of(),
        Map.of(),
        "/srv",
        "v2",
        3,
        null,
        null,
        RestartPolicy.defaults(),
        StopPolicy.defaults(),
        Resources.none(),
        RouteSpec.defaults("/" + name));
  }

  static InstanceStatus inst(
      String id, String template, boolean ready, String state, String version) {
    return new InstanceStatus(
        id,
        "shop",
        0,
        1,
        30000 + id.hashCode() % 1000,
        state,
        ready,
        Instant.EPOCH,
        0,
        template,
        version);
  }

  final Spec spec = new Spec(List.of(routed("shop")));
  final List<ServiceStatus> status =
      List.of(
          new ServiceStatus(
              "shop",
              "v2",
              "running",
              3,
              3,
              0,
              List.of(
                  inst("shop-a", "aaa-0", true, "running", "v1"),
                  inst("shop-b", "aaa-0", true, "running", "v1"),
                  inst("shop-c", "bbb-0", true, "running", "v2"),
                  inst("shop-d", "bbb-0", false, "starting", "v2"),
                  inst("shop-e", "aaa-0", false, "stopping", "v1"))));

  @Test
  void onlyReadyRunningInstancesGetTraffic() {
    Route r = Traffic.table(spec, status, Map.of()).routes().get(0);
    assertThat(r.pathPrefix()).isEqualTo("/shop");
    assertThat(r.groups())
        .singleElement()
        .satisfies(
            g ->
                assertThat(g.backends())
                    .extracting(b -> b.id())
                    .containsExactly("shop-a", "shop-b", "shop-c"));
    assertThat(r.groups().get(0).backends().get(0).version()).isEqualTo("v1");
  }

  @Test
  void split_putsCanaryTemplateInItsOwnWeightedGroup_withRulesAndMirror() {
    Split split =
        new Split(
            "aaa",
            "bbb",
            10,
            List.of(new Split.Rule(Split.Rule.Kind.HEADER, "x-canary", "1")),
            true);
    Route r = Traffic.table(spec, status, Map.of("shop", split)).routes().get(0);
    assertThat(r.groups())
        .extracting(BackendGroup::name, BackendGroup::weight)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("stable", 90),
            org.assertj.core.groups.Tuple.tuple("canary", 10));
    assertThat(r.group("canary").backends()).extracting(b -> b.id()).containsExactly("shop-c");
    assertThat(r.group("stable").backends())
        .extracting(b -> b.id())
        .containsExactly("shop-a", "shop-b");
    assertThat(r.matches())
        .containsExactly(new Match(Match.Kind.HEADER, "x-canary", "1", "canary"));
    assertThat(r.mirror()).isEqualTo("canary");
    assertThat(r.stickyCookie()).as("not sticky").isEmpty();
    Split sticky = new Split("aaa", "bbb", 10, List.of(), false, true);
    assertThat(Traffic.table(spec, status, Map.of("shop", sticky)).routes().get(0).stickyCookie())
        .isEqualTo("pilothouse-shop");
  }

  @Test
  void unroutedServices_getNoRoute_andEqualInputsGiveEqualTables() {
    Spec none =
        new Spec(
            List.of(
                routed("shop").withReplicas(1),
                new ServiceSpec(
                    "worker",
                    "w",
                    List.of(),
                    Map.of(),
                    "/",
                    "",
                    1,
                    null,
                    null,
                    RestartPolicy.defaults(),
                    StopPolicy.defaults(),
                    Resources.none(),
                    null)));
    RouteTable a = Traffic.table(none, status, Map.of());
    assertThat(a.routes()).extracting(Route::name).containsExactly("shop");
    assertThat(Traffic.table(none, status, Map.of())).isEqualTo(a);
  }

  @Test
  void aChaosFaultWithCallers_namesTheSessionsOfTheirInstances_andNoneWhenTheyRunNothing() {
    InstanceStatus web1 =
        new InstanceStatus(
            "web-1", "web", 0, 4711, 30001, "running", true, Instant.EPOCH, 0, "", "v1");
    InstanceStatus web2 =
        new InstanceStatus(
            "web-2", "web", 1, 4712, 30002, "running", true, Instant.EPOCH, 0, "", "v1");
    List<ServiceStatus> st =
        List.of(
            new ServiceStatus("web", "v1", "running", 2, 2, 1, List.of(web2, web1)),
            new ServiceStatus("api", "v1", "running", 0, 0, 1, List.of()));
    var fromWeb =
        new dev.pilothouse.core.chaos.RouteFaults.Fault(
            java.time.Duration.ZERO, 0, 503, 100, "", List.of("web"), true);
    var fromApi =
        new dev.pilothouse.core.chaos.RouteFaults.Fault(
            java.time.Duration.ZERO, 0, 503, 100, "", List.of("api"), false);
    var faults = Traffic.faults(Map.of("shop", fromWeb, "cart", fromApi), st);
    assertThat(faults.get("shop").callers()).containsExactly(4711L, 4712L);
    assertThat(faults.get("shop").silent()).isTrue();
    assertThat(faults.get("shop").abortPercent()).isEqualTo(100);
    assertThat(faults).as("api runs no instance: nobody to cut off").doesNotContainKey("cart");
  }
}
