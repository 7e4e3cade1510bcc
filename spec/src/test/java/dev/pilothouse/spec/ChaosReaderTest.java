package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.chaos.ChaosExperiment;
import dev.pilothouse.core.chaos.ChaosExperiment.Fault;
import dev.pilothouse.core.chaos.ChaosExperiment.Phase;
import dev.pilothouse.core.chaos.ChaosExperiment.Probe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Chaos experiment files: every field read, every mistake reported where it is. */
class ChaosReaderTest {
  private static ChaosReader.Parsed read(String yaml) {
    return ChaosReader.read(
        "chaos/x.yaml", yaml, e -> e.contains("((") ? "unbalanced parentheses" : null);
  }

  @Test
  void aFullExperiment_isRead() {
    ChaosReader.Parsed p =
        read(
            """
            name: everything
            description: all of it
            target: {service: shop, percent: 34, version: v2}
            faults:
              - kill: {signal: SIGTERM}
              - pause: {}
              - http: {delay: 300ms, abortStatus: 503, abortPercent: 10, header: x-chaos}
              - toxic:
                  latency: 200ms
                  jitter: 20ms
                  bandwidth: 100Ki
                  slicer: {size: 16, delay: 1ms}
                  slowClose: 1s
                  toxicity: 50
                  direction: both
              - cpu: {cores: 2}
              - memory: {size: 256Mi}
              - disk: {size: 1Gi, path: data}
              - fds: {count: 500}
            duration: 45s
            interval: 250ms
            recovery: 2m
            steadyState:
              - name: errors
                promql: 'sum(rate(x[1m]))'
                tolerance: {max: 0.01}
                weight: 2
              - name: home
                http: {url: 'http://127.0.0.1:8080/', status: 204, timeout: 1s}
                when: [before, after]
              - name: ready
                ready: {service: shop, min: 3}
              - name: burn
                sloBurn: {service: shop, slo: availability, max: 14.4}
            abort: {probes: [errors, burn], after: 3}
            expect:
              - {event: AlertFiring, contains: DiskFull}
            """);
    assertThat(p.errors()).isEmpty();
    ChaosExperiment e = p.experiment().orElseThrow();
    assertThat(e.name()).isEqualTo("everything");
    assertThat(e.target()).isEqualTo(new ChaosExperiment.Target("shop", 0, 34, "v2"));
    assertThat(e.target().of(3)).isEqualTo(2); // 34 % of 3, rounded up
    assertThat(e.faults())
        .containsExactly(
            new Fault.Kill(true),
            new Fault.Pause(),
            new Fault.Http(Duration.ofMillis(300), 100, 503, 10, "x-chaos"),
            new Fault.Toxic(
                Duration.ofMillis(200),
                Duration.ofMillis(20),
                102_400,
                16,
                Duration.ofMillis(1),
                null,
                false,
                Duration.ofSeconds(1),
                50,
                "both"),
            new Fault.Cpu(2),
            new Fault.Memory(256L << 20),
            new Fault.DiskFill(1L << 30, "data"),
            new Fault.Fds(500));
    assertThat(e.duration()).isEqualTo(Duration.ofSeconds(45));
    assertThat(e.interval()).isEqualTo(Duration.ofMillis(250));
    assertThat(e.recovery()).isEqualTo(Duration.ofMinutes(2));
    Probe errors = e.probes().get(0);
    assertThat(errors.kind()).isEqualTo(Probe.Kind.PROMQL);
    assertThat(errors.max()).isEqualTo(0.01);
    assertThat(errors.weight()).isEqualTo(2);
    assertThat(errors.phases()).isEqualTo(Set.of(Phase.values()));
    Probe home = e.probes().get(1);
    assertThat(home.kind()).isEqualTo(Probe.Kind.HTTP);
    assertThat(home.within(204)).isTrue();
    assertThat(home.within(200)).isFalse();
    assertThat(home.phases()).containsExactlyInAnyOrder(Phase.BEFORE, Phase.AFTER);
    assertThat(home.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(e.probes().get(2).within(3)).isTrue();
    assertThat(e.probes().get(2).within(2)).isFalse();
    Probe burn = e.probes().get(3);
    assertThat(burn.query())
        .contains("slo:current_burn_rate:ratio{service=\"shop\",slo=\"availability\"}");
    assertThat(burn.within(14.4)).isTrue();
    assertThat(burn.within(15)).isFalse();
    assertThat(e.abort()).isEqualTo(new ChaosExperiment.Abort(List.of("errors", "burn"), 3));
    assertThat(e.expect()).containsExactly(new ChaosExperiment.Expect("AlertFiring", "DiskFull"));
  }

  @Test
  void defaults_areOneInstanceThirtySecondsAndAMinuteToRecover() {
    ChaosExperiment e =
        read("name: k\ntarget: {service: shop}\nfaults: [{kill: }]\n").experiment().orElseThrow();
    assertThat(e.target().count()).isEqualTo(1);
    assertThat(e.faults()).containsExactly(new Fault.Kill(false));
    assertThat(e.duration()).isEqualTo(Duration.ofSeconds(30));
    assertThat(e.interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(e.recovery()).isEqualTo(Duration.ofSeconds(60));
    assertThat(e.abort()).isEqualTo(ChaosExperiment.Abort.NEVER);
  }

  @Test
  void mistakes_areReportedWithFileLineAndColumn() {
    ChaosReader.Parsed p =
        read(
            """
            name: Bad Name
            target: {service: shop, count: 2, percent: 50}
            faults:
              - kill: {signal: SIGHUP}
              - {pause: {}, cpu: {cores: 1}}
              - disk: {size: 1Gi, path: ../../etc}
              - toxic: {direction: sideways}
              - http: {}
              - memroy: {size: 1Gi}
            duration: 30
            steadyState:
              - name: q
                promql: 'sum((x)'
              - name: q
                http: {url: 'ftp://x'}
            abort: {probes: [errros]}
            """);
    assertThat(p.experiment()).isEmpty();
    assertThat(p.errors().stream().map(SpecError::toString))
        .anySatisfy(
            s -> assertThat(s).startsWith("chaos/x.yaml:1:7: name: invalid name 'Bad Name'"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:2:").contains("count or percent"))
        .anySatisfy(
            s -> assertThat(s).startsWith("chaos/x.yaml:4:").contains("unknown signal 'SIGHUP'"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:5:").contains("names 2 faults"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("chaos/x.yaml:6:")
                    .contains("leaves the service's working directory"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("chaos/x.yaml:7:")
                    .contains("unknown direction 'sideways'"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:7:").contains("injects nothing"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:8:").contains("injects nothing"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("chaos/x.yaml:9:")
                    .contains("unknown field 'memroy'")
                    .contains("did you mean 'memory'?"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:10:").contains("no unit"))
        .anySatisfy(
            s -> assertThat(s).startsWith("chaos/x.yaml:13:").contains("unbalanced parentheses"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:14:").contains("is used twice"))
        .anySatisfy(s -> assertThat(s).startsWith("chaos/x.yaml:15:").contains("http(s) URL"))
        .anySatisfy(
            s ->
                assertThat(s)
                    .startsWith("chaos/x.yaml:16:")
                    .contains("no steady-state probe is named 'errros'")
                    .contains("name probes of steadyState"));
  }

  @Test
  void aPartition_isReadByMode_andOneRouteAndOneConnectionFaultAtMost() {
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults: [{partition: {}}]\n")
                .experiment()
                .orElseThrow()
                .faults())
        .containsExactly(new Fault.Partition("blackhole", List.of()));
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults:\n"
                    + "  - partition: {mode: reject}\n  - http: {delay: 1s}\n")
                .errors()
                .get(0)
                .toString())
        .contains("faults: has 2 route faults");
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults: [{partition: {from: [web, api]}}]\n")
                .experiment()
                .orElseThrow()
                .faults())
        .containsExactly(new Fault.Partition("blackhole", List.of("web", "api")));
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults:\n  - partition: {from: [Web!]}\n")
                .errors()
                .get(0)
                .toString())
        .startsWith("chaos/x.yaml:4:")
        .contains("faults[0].partition.from[0]: invalid service name 'Web!'");
    // Between services it is a route fault, so it cannot go with an http fault.
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults:\n"
                    + "  - partition: {from: [web]}\n  - http: {delay: 1s}\n")
                .errors()
                .get(0)
                .toString())
        .contains("faults: has 2 route faults");
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults:\n"
                    + "  - partition: {mode: blackhole}\n  - toxic: {latency: 1s}\n")
                .errors()
                .get(0)
                .toString())
        .contains("faults: has 2 connection faults");
    assertThat(
            read("name: p\ntarget: {service: shop}\nfaults: [{partition: {mode: maybe}}]\n")
                .errors()
                .get(0)
                .toString())
        .contains("unknown mode 'maybe'");
  }

  @Test
  void anEmptyOrForeignFile_isRefusedWithAHint() {
    assertThat(read("").errors().get(0).toString()).contains("the file is empty");
    assertThat(read("- a\n- b\n").errors().get(0).toString())
        .contains("the top level must be a map");
    assertThat(read("name: x\n").errors().stream().map(SpecError::toString))
        .anySatisfy(s -> assertThat(s).contains("target: missing"))
        .anySatisfy(s -> assertThat(s).contains("faults: missing"));
    assertThat(read("x".repeat(ChaosReader.MAX_BYTES + 1)).errors().get(0).message())
        .contains("larger than 1 MiB");
  }

  @Test
  void aClockFault_takesASignedOffset_andRefusesZeroOrNonsense() {
    assertThat(
            read("name: c\ntarget: {service: shop}\nfaults: [{clock: {offset: -1h30m}}]\n")
                .experiment()
                .orElseThrow()
                .faults())
        .containsExactly(new Fault.Clock(Duration.ofMinutes(-90)));
    assertThat(
            read("name: c\ntarget: {service: shop}\nfaults: [{clock: {offset: +10m}}]\n")
                .experiment()
                .orElseThrow()
                .faults())
        .containsExactly(new Fault.Clock(Duration.ofMinutes(10)));
    assertThat(
            read("name: c\ntarget: {service: shop}\nfaults:\n  - clock: {offset: soon}\n")
                .errors()
                .get(0)
                .toString())
        .startsWith("chaos/x.yaml:4:")
        .contains("faults[0].clock.offset: 'soon' is not a duration")
        .contains("'+10m' moves the clock ahead");
    assertThat(
            read("name: c\ntarget: {service: shop}\nfaults:\n  - clock: {offset: 0s}\n")
                .errors()
                .get(0)
                .toString())
        .contains("must be non-zero");
    assertThat(
            read("name: c\ntarget: {service: shop}\nfaults:\n  - clock: {}\n")
                .errors()
                .get(0)
                .toString())
        .contains("offset");
  }

  @Test
  void theShippedExamples_areValid() throws IOException {
    Path dir = Path.of("..", "examples", "chaos");
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> all = files.filter(f -> f.toString().endsWith(".yaml")).toList();
      assertThat(all).hasSizeGreaterThanOrEqualTo(4);
      for (Path f : all) {
        ChaosReader.Parsed p =
            ChaosReader.read(
                f.toString(), Files.readString(f), dev.pilothouse.spec.ExpressionCheck.none());
        assertThat(p.errors()).as(f.toString()).isEmpty();
      }
    }
  }
}
