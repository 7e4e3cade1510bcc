package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.RuntimeSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime: section and service images. */
class RuntimeSpecTest {
  private static ParsedSpec parse(String yaml) {
    return SpecParserTest.parse(yaml);
  }

  @Test
  void withoutARuntime_servicesRunAsLocalProcesses() {
    Spec s = parse(SpecParserTest.svc("")).spec().orElseThrow();
    assertThat(s.runtime()).isEqualTo(RuntimeSpec.local());
    assertThat(s.services().get(0).image()).isEmpty();
  }

  @Test
  void aKubernetesRuntime_withItsNamespaceContextAndKubeconfig_andServicesByImage(@TempDir Path dir)
      throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1\n");
    ParsedSpec p =
        SpecParser.parse(
            "shop.yaml",
            "runtime: {kind: kubernetes, namespace: shop, kubeconfig: kubeconfig, context: prod}\n"
                + "services:\n"
                + "  web:\n"
                + "    image: registry.example.com/shop/web:1.4.2\n"
                + "    replicas: 3\n"
                + "  worker:\n"
                + "    image: registry.example.com/shop/worker@sha256:"
                + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                + "    command: /bin/worker\n"
                + "    args: [--queue, orders]\n",
            dir,
            Map.of(),
            dev.pilothouse.tsdb.promql.Parser::problem);
    assertThat(p.errors()).isEmpty();
    Spec s = p.spec().orElseThrow();
    assertThat(s.runtime())
        .isEqualTo(
            new RuntimeSpec(RuntimeSpec.Kind.KUBERNETES, "shop", kubeconfig.toString(), "prod"));
    ServiceSpec web = s.service("web").orElseThrow();
    assertThat(web.image()).isEqualTo("registry.example.com/shop/web:1.4.2");
    assertThat(web.command()).isEmpty(); // the image's entrypoint
    assertThat(s.service("worker").orElseThrow().command()).isEqualTo("/bin/worker");
  }

  @Test
  void anotherImage_isAnotherLaunchTemplate() {
    String a = "runtime: {kind: kubernetes}\nservices:\n  web:\n    image: r/web:1\n";
    ServiceSpec one = parse(a).spec().orElseThrow().services().get(0);
    ServiceSpec two = parse(a.replace("web:1", "web:2")).spec().orElseThrow().services().get(0);
    assertThat(one.template()).isNotEqualTo(two.template());
    assertThat(parse(a).spec().orElseThrow().runtime().namespace()).isEqualTo("default");
  }

  @Test
  void onKubernetes_aServiceWithoutAnImage_isAnErrorAtTheService() {
    ParsedSpec p = parse("runtime:\n  kind: kubernetes\n" + SpecParserTest.svc(""));
    assertThat(p.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("services.shop.image");
              assertThat(e.line()).isEqualTo(5);
              assertThat(e.message()).contains("runs container images");
              assertThat(e.hint()).contains("image: registry.example.com/shop/shop:1.0");
            });
  }

  @Test
  void locally_aServiceWithOnlyAnImage_isAnError() {
    ParsedSpec p = parse("services:\n  web:\n    image: r/web:1\n");
    assertThat(p.errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("services.web.command");
              assertThat(e.message()).contains("local runtime runs commands");
              assertThat(e.hint()).contains("kind: kubernetes");
            });
  }

  @Test
  void badRuntimeFields_areReportedWhereTheyAre() {
    assertThat(parse("runtime: {kind: nomad}\n" + SpecParserTest.svc("")).errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("runtime.kind");
              assertThat(e.line()).isEqualTo(1);
              assertThat(e.message()).contains("unknown runtime kind 'nomad'");
            });
    assertThat(
            parse(
                    "runtime: {kind: kubernetes, namespace: Shop_1}\nservices:\n  w:\n    image: r/w:1\n")
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("runtime.namespace"));
    assertThat(
            parse(
                    "runtime: {kind: kubernetes, kubeconfig: nowhere/config}\nservices:\n  w:\n    image: r/w:1\n")
                .errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("runtime.kubeconfig");
              assertThat(e.message()).contains("no kubeconfig file at /srv/app/nowhere/config");
            });
    assertThat(parse("runtime: {namespace: shop}\n" + SpecParserTest.svc("")).errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("applies to the kubernetes runtime only"));
    assertThat(parse(SpecParserTest.svc("    image: 'has space:1'\n")).errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("services.shop.image"));
  }

  @Test
  void aGateway_isNamedByNameOrNamespaceAndName() {
    String svc = "services:\n  w:\n    image: r/w:1\n";
    assertThat(
            parse("runtime: {kind: kubernetes, gateway: gateways/public}\n" + svc)
                .spec()
                .orElseThrow()
                .runtime()
                .gateway())
        .isEqualTo("gateways/public");
    assertThat(parse("runtime: {kind: kubernetes, gateway: a/b/c}\n" + svc).errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("runtime.gateway");
              assertThat(e.hint()).contains("NAMESPACE/NAME");
            });
  }

  @Test
  void aDataPlane_takesItsImageReplicasAndServiceType_andExcludesAGateway() {
    String svc = "services:\n  w:\n    image: r/w:1\n    route: /\n";
    var dp =
        parse("runtime: {kind: kubernetes, dataPlane: {image: 'r/pilothouse:0.1.0'}}\n" + svc)
            .spec()
            .orElseThrow()
            .runtime()
            .dataPlane();
    assertThat(dp.image()).isEqualTo("r/pilothouse:0.1.0");
    assertThat(dp.replicas()).isEqualTo(2);
    assertThat(dp.serviceType()).isEqualTo("ClusterIP");
    assertThat(
            parse(
                    "runtime: {kind: kubernetes, dataPlane: {image: p:1, replicas: 3, service:"
                        + " LoadBalancer}}\n"
                        + svc)
                .spec()
                .orElseThrow()
                .runtime()
                .dataPlane())
        .isEqualTo(new dev.pilothouse.core.spec.DataPlaneSpec("p:1", 3, "LoadBalancer"));
    assertThat(
            parse("runtime: {kind: kubernetes}\n" + svc).spec().orElseThrow().runtime().dataPlane())
        .isNull();

    assertThat(
            parse("runtime: {kind: kubernetes, gateway: gw, dataPlane: {image: p:1}}\n" + svc)
                .errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("runtime.dataPlane");
              assertThat(e.message()).contains("'dataPlane' and 'gateway' both route");
            });
    assertThat(parse("runtime: {kind: kubernetes, dataPlane: {replicas: 2}}\n" + svc).errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("runtime.dataPlane.image");
              assertThat(e.hint()).contains("deploy/kubernetes/Dockerfile");
            });
    assertThat(
            parse("runtime: {kind: kubernetes, dataPlane: {image: p:1, service: Ingress}}\n" + svc)
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("runtime.dataPlane.service"));
    assertThat(
            parse("runtime: {kind: kubernetes, dataPlane: {image: p:1, replicas: 0}}\n" + svc)
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("runtime.dataPlane.replicas"));
    assertThat(parse("runtime: {dataPlane: {image: p:1}}\n" + SpecParserTest.svc("")).errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("applies to the kubernetes runtime only"));
    assertThat(
            parse(
                    "runtime: {kind: kubernetes, dataPlane: {image: p:1}}\n"
                        + "services:\n  pilothouse-proxy:\n    image: r/w:1\n    route: /\n")
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("the data plane's"));
  }

  @Test
  void theHpaAutoscaler_takesCpuAndMemoryTargets_andRefusesWhatAnHpaCannotDo() {
    String svc =
        "services:\n  w:\n    image: r/w:1\n    resources: {cpu: 0.5, memory: 256Mi}\n"
            + "    autoscale:\n      min: 1\n      max: 5\n      targets:\n";
    ParsedSpec ok =
        parse("runtime: {kind: kubernetes, autoscaler: hpa}\n" + svc + "        - cpu: 70%\n");
    assertThat(ok.errors()).isEmpty();
    assertThat(ok.spec().orElseThrow().runtime().hpa()).isTrue();
    assertThat(
            parse(
                    "runtime: {kind: kubernetes, autoscaler: hpa}\n"
                        + svc
                        + "        - requestsPerSecond: 50\n")
                .errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("services.w.autoscale.targets");
              assertThat(e.message())
                  .contains("'requestsPerSecond' has no HorizontalPodAutoscaler");
              assertThat(e.hint()).contains("runtime.autoscaler: pilothouse");
            });
    assertThat(
            parse("runtime: {kind: kubernetes, autoscaler: keda}\n" + svc + "        - cpu: 70%\n")
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("runtime.autoscaler"));
  }

  @Test
  void regions_eachAClusterWithAnEndpointAndWeight_andServicesPlacedInSome() {
    ParsedSpec p =
        parse(
            "regions:\n"
                + "  eu: {namespace: shop, endpoint: 'http://eu.shop.example.com:8080', weight: 70}\n"
                + "  us: {namespace: shop, endpoint: 'http://us.shop.example.com'}\n"
                + "services:\n"
                + "  web: {image: r/web:1}\n"
                + "  batch: {image: r/batch:1, regions: [us]}\n");
    assertThat(p.errors()).isEmpty();
    Spec s = p.spec().orElseThrow();
    assertThat(s.regions())
        .extracting(r -> r.name() + " " + r.weight() + " " + r.port())
        .containsExactly("eu 70 8080", "us 50 80");
    assertThat(s.regions().get(0).runtime().kubernetes()).isTrue();
    assertThat(s.placement(s.service("web").orElseThrow())).hasSize(2);
    assertThat(s.placement(s.service("batch").orElseThrow()))
        .extracting(r -> r.name())
        .containsExactly("us");
  }

  @Test
  void badRegions_areReportedWhereTheyAre() {
    String svc = "services:\n  web: {image: r/web:1, regions: [mars]}\n";
    assertThat(parse("regions:\n  eu: {endpoint: 'http://eu:80'}\n" + svc).errors())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.path()).isEqualTo("services.web.regions[0]");
              assertThat(e.message()).contains("no region named 'mars'");
            });
    assertThat(
            parse(
                    "regions:\n  eu: {endpoint: 'https://eu:443'}\nservices:\n  web: {image: r/w:1}\n")
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.path()).isEqualTo("regions.eu.endpoint"));
    assertThat(
            parse(
                    "runtime: {kind: kubernetes}\nregions:\n  eu: {endpoint: 'http://eu:80'}\n"
                        + "services:\n  web: {image: r/w:1}\n")
                .errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("exclude each other"));
    assertThat(parse("services:\n  web: {image: r/w:1, command: x, regions: [eu]}\n").errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("declares no regions"));
  }

  @Test
  void onKubernetes_longServiceNames_areRefused() {
    String name = "a".repeat(41);
    ParsedSpec p =
        parse("runtime: {kind: kubernetes}\nservices:\n  " + name + ":\n    image: r/w:1\n");
    assertThat(p.errors())
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("at most 40"));
  }
}
