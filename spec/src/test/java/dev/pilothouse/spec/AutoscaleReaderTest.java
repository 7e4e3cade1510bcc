package dev.pilothouse.spec;

import static dev.pilothouse.spec.SpecParserTest.parse;
import static dev.pilothouse.spec.SpecParserTest.svc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Autoscale.Behavior;
import dev.pilothouse.core.spec.Autoscale.Policy;
import dev.pilothouse.core.spec.Autoscale.Target;
import dev.pilothouse.core.spec.SpecDiff;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code services.NAME.autoscale}: the example is read; bad sections name where and how.
 */
class AutoscaleReaderTest {
  @Test
  void theDocumentedExample_isReadWithEveryField() {
    var spec =
        parse(
                svc(
                    """
                        resources: {cpu: 500m, memory: 256Mi}
                        autoscale:
                          min: 1
                          max: 10
                          targets:
                            - requestsPerSecond: 50
                            - cpu: 70%
                            - memory: 80
                            - inFlight: 20
                            - latencyP99: 250ms
                            - promql: {query: 'sum(rate(jobs_queued_total[1m]))', perInstance: 100}
                          tolerance: {up: 5%, down: 20%}
                          scaleUp:   {stabilization: 0s,   policies: [{percent: 100, period: 15s}, {instances: 4, period: 15s}]}
                          scaleDown: {stabilization: 300s, policies: [{percent: 50, period: 60s}], selectPolicy: min}
                          warmup: 45s
                          fallback: {after: 2m, replicas: 3}
                          schedules:
                            - {cron: "0 8 * * MON-FRI", min: 4}
                            - {cron: "0 22 * * *", max: 2, duration: 8h}
                          timeZone: Europe/Berlin
                          predictive: {mode: on, lead: 15m}
                    """))
            .spec()
            .orElseThrow();
    Autoscale a = spec.services().get(0).autoscale();
    assertThat(a)
        .isEqualTo(
            new Autoscale(
                1,
                10,
                List.of(
                    new Target.RequestsPerSecond(50),
                    new Target.Cpu(70),
                    new Target.Memory(80),
                    new Target.InFlight(20),
                    new Target.LatencyP99(250),
                    new Target.Promql("sum(rate(jobs_queued_total[1m]))", 100)),
                new Autoscale.Tolerance(0.05, 0.2),
                new Behavior(
                    Duration.ZERO,
                    List.of(
                        new Policy(Policy.Kind.PERCENT, 100, Duration.ofSeconds(15)),
                        new Policy(Policy.Kind.INSTANCES, 4, Duration.ofSeconds(15))),
                    Behavior.Select.MAX),
                new Behavior(
                    Duration.ofMinutes(5),
                    List.of(new Policy(Policy.Kind.PERCENT, 50, Duration.ofSeconds(60))),
                    Behavior.Select.MIN),
                Duration.ofSeconds(45),
                new Autoscale.Fallback(Duration.ofMinutes(2), 3),
                List.of(
                    new Autoscale.Schedule("0 8 * * MON-FRI", null, 4, 0),
                    new Autoscale.Schedule("0 22 * * *", Duration.ofHours(8), 0, 2)),
                "Europe/Berlin",
                new Autoscale.Predictive(true, Duration.ofMinutes(15))));
  }

  @Test
  void omittedFields_takeKubernetesDefaults() {
    Autoscale a =
        parse(svc("    autoscale: {min: 2, max: 6, targets: [{requestsPerSecond: 50}]}\n"))
            .spec()
            .orElseThrow()
            .services()
            .get(0)
            .autoscale();
    assertThat(a.tolerance()).isEqualTo(Autoscale.Tolerance.DEFAULT);
    assertThat(a.scaleUp()).isEqualTo(Behavior.UP);
    assertThat(a.scaleDown()).isEqualTo(Behavior.DOWN);
    assertThat(a.warmup()).isEqualTo(Duration.ofSeconds(30));
    assertThat(a.fallback()).isNull();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {max: 4, targets: [{requestsPerSecond: 5}]}                 | services.shop.autoscale.min                   | give the fewest instances
          {min: 5, max: 4, targets: [{requestsPerSecond: 5}]}         | services.shop.autoscale.max                   | raise max or lower min
          {min: 0, max: 4, targets: [{requestsPerSecond: 5}]}         | services.shop.autoscale.min                   | add 'route: /'
          {min: -1, max: 4, targets: [{requestsPerSecond: 5}]}        | services.shop.autoscale.min                   | use a value from 0 to 1000
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], scaleToZero: {cooldown: 1m}} | services.shop.autoscale.scaleToZero | set min to 0
          {min: 1, max: 4}                                            | services.shop.autoscale.targets               | add e.g. 'targets
          {min: 1, max: 4, targets: []}                               | services.shop.autoscale.targets               | add e.g. 'targets
          {min: 1, max: 4, targets: [{requestsPerSecond: 0}]}         | services.shop.autoscale.targets[0].requestsPerSecond | give the value one instance should carry
          {min: 1, max: 4, targets: [{cpu: 70%}]}                     | services.shop.autoscale.targets[0].cpu        | add 'resources: {cpu: 500m}'
          {min: 1, max: 4, targets: [{requestsPerSec: 5}]}            | services.shop.autoscale.targets[0].requestsPerSec | did you mean 'requestsPerSecond'?
          {min: 1, max: 4, targets: [{requestsPerSecond: 5, inFlight: 2}]} | services.shop.autoscale.targets[0]       | write one per list item
          {min: 1, max: 4, targets: [{latencyP99: 250}]}              | services.shop.autoscale.targets[0].latencyP99 | write e.g. '250s'
          {min: 1, max: 4, targets: [{promql: {query: 'sum(', perInstance: 5}}]} | services.shop.autoscale.targets[0].promql.query | check the expression
          {min: 1, max: 4, targets: [{promql: {query: 'up'}}]}        | services.shop.autoscale.targets[0].promql.perInstance | give the value one instance should carry
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], tolerance: 150%} | services.shop.autoscale.tolerance  | from 0% to below 100%
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], scaleDown: {policies: [{percent: 50}]}} | services.shop.autoscale.scaleDown.policies[0].period | give the period
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], scaleDown: {policies: [{percent: 50, instances: 2, period: 1m}]}} | services.shop.autoscale.scaleDown.policies[0] | not both
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], scaleUp: {selectPolicy: most}} | services.shop.autoscale.scaleUp.selectPolicy | use max
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], scaleUp: {stabilization: 2h}} | services.shop.autoscale.scaleUp.stabilization | lower the stabilization window
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], fallback: {after: 1m, replicas: 9}} | services.shop.autoscale.fallback.replicas | use a value from 1 to 4
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], schedules: [{cron: "0 8 * * FUNDAY", min: 2}]} | services.shop.autoscale.schedules[0].cron | write minute hour day-of-month month day-of-week
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], schedules: [{cron: "0 8 * *", min: 2}]} | services.shop.autoscale.schedules[0].cron | write minute hour
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], schedules: [{cron: "0 8 * * *"}]} | services.shop.autoscale.schedules[0] | give 'min: N'
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], schedules: [{cron: "0 8 * * *", min: 6}]} | services.shop.autoscale.schedules[0].min | use a value from 1 to 4
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], timeZone: Mars/Olympus} | services.shop.autoscale.timeZone | write an IANA zone
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], predictive: {mode: always}} | services.shop.autoscale.predictive.mode | write 'forecast-only'
          {min: 1, max: 4, targets: [{requestsPerSecond: 5}], predictive: {lead: 10s}} | services.shop.autoscale.predictive.lead | within 1m..6h
          {min: 1, max: 4, targets: [{inFlight: 5}], predictive: {mode: on}} | services.shop.autoscale.predictive | add '- requestsPerSecond
          """)
  void badSections_areRefused_withWhereAndHow(String section, String path, String hint) {
    var errors = parse(svc("    autoscale: " + section + "\n")).errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString()).contains("shop.yaml:4:").contains(path).contains(hint);
  }

  @Test
  void anAutoscalingChange_showsInTheSpecsTerms_andIsNotADeploy() {
    var a =
        parse(svc("    autoscale: {min: 1, max: 4, targets: [{requestsPerSecond: 50}]}\n"))
            .spec()
            .orElseThrow();
    var b =
        parse(
                svc(
                    "    autoscale: {min: 1, max: 8, targets: [{requestsPerSecond: 40}],"
                        + " tolerance: 5%}\n"))
            .spec()
            .orElseThrow();
    assertThat(SpecDiff.between(a, b))
        .contains(
            "~ services.shop.autoscale.max: 4 -> 8",
            "~ services.shop.autoscale.targets[0]: {requestsPerSecond: 50} -> {requestsPerSecond:"
                + " 40}",
            "~ services.shop.autoscale.tolerance: 10% -> 5%");
    assertThat(a.services().get(0).template()).isEqualTo(b.services().get(0).template());
  }

  @Test
  void minZero_withARoute_scalesToZero_withDefaultsOrItsOwnSettings() {
    Autoscale a =
        parse(
                svc(
                    "    route: /\n"
                        + "    autoscale: {min: 0, max: 3, targets: [{requestsPerSecond: 50}],"
                        + " scaleToZero: {cooldown: 10m, holdTimeout: 45s}}\n"))
            .spec()
            .orElseThrow()
            .services()
            .get(0)
            .autoscale();
    assertThat(a.min()).isZero();
    assertThat(a.scaleToZero())
        .isEqualTo(new Autoscale.ScaleToZero(Duration.ofMinutes(10), Duration.ofSeconds(45), 1000));
    Autoscale d =
        parse(
                svc(
                    "    route: /\n"
                        + "    autoscale: {min: 0, max: 3, targets: [{requestsPerSecond: 50}]}\n"))
            .spec()
            .orElseThrow()
            .services()
            .get(0)
            .autoscale();
    assertThat(d.scaleToZero()).isEqualTo(Autoscale.ScaleToZero.DEFAULT);
  }
}
