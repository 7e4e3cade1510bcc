package dev.pilothouse.spec;

import static dev.pilothouse.spec.SpecParserTest.parse;
import static dev.pilothouse.spec.SpecParserTest.svc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.slo.Slo;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code services.NAME.slos}: read into the alerting section, refused with a line and a fix. */
class SloReaderTest {
  @Test
  void slos_areRead_withSlothsPercentages_andDefaults() {
    var spec =
        parse(
                svc(
                    """
                        route: /
                        slos:
                          - objective: 99.9%
                          - {name: fast, sli: latency, threshold: 250ms, objective: 99, window: 28d,
                             labels: {team: shop}, alerts: false}
                    """))
            .spec()
            .orElseThrow();
    assertThat(spec.alerting().slos())
        .containsExactly(
            new Slo(
                "shop",
                "availability",
                Slo.Sli.AVAILABILITY,
                0.999,
                Duration.ofDays(30),
                null,
                true,
                Map.of()),
            new Slo(
                "shop",
                "fast",
                Slo.Sli.LATENCY,
                0.99,
                Duration.ofDays(28),
                Duration.ofMillis(250),
                false,
                Map.of("team", "shop")));
    // SLOs are not part of the service's revision: changing one does not redeploy it.
    var without = parse(svc("    route: /\n")).spec().orElseThrow();
    assertThat(without.services()).isEqualTo(spec.services());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          - {objective: 0.999}                          | 6:21 | services.shop.slos[0].objective | write it as a percentage, e.g. 99.9%
          - {objective: 100%}                           | 6:21 | services.shop.slos[0].objective | write e.g. 99.9%
          - {}                                          | 6:9  | services.shop.slos[0]           | give the target share of good requests
          - {objective: 99%, window: 7d}                | 6:34 | services.shop.slos[0].window    | write 30d (a month) or 28d
          - {objective: 99%, sli: latency}              | 6:9  | services.shop.slos[0]           | give the time a good request is answered within
          - {objective: 99%, sli: latency, threshold: 300ms} | 6:51 | services.shop.slos[0].threshold | use one of 1ms
          - {objective: 99%, threshold: 250ms}          | 6:37 | services.shop.slos[0].threshold | write 'sli: latency'
          - {objective: 99%, sli: uptime}               | 6:31 | services.shop.slos[0].sli       | write availability
          - {objective: 99%, labels: {severity: low}}   | 6:35 | services.shop.slos[0].labels.severity | choose another label name
          - {objective: 99%, objektive: 1}              | 6:26 | services.shop.slos[0].objektive | objective
          """)
  void badSlos_areRefused_withWhereAndHow(String item, String at, String path, String hint) {
    var errors = parse(svc("    route: /\n    slos:\n      " + item + "\n")).errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString()).contains("shop.yaml:" + at).contains(path).contains(hint);
  }

  @Test
  void twoSlosOfOneName_andSlosWithoutARoute_areRefused() {
    assertThat(
            parse(svc("    route: /\n    slos: [{objective: 99%}, {objective: 99.9%}]\n"))
                .errors()
                .get(0)
                .toString())
        .contains("services.shop.slos[1].name")
        .contains("a second SLO named 'availability'");
    assertThat(parse(svc("    slos: [{objective: 99%}]\n")).errors().get(0).toString())
        .contains("services.shop.slos")
        .contains("add 'route: /'");
  }

  @Test
  void theSlosOfASpec_showInItsDiff() {
    var a = parse(svc("    route: /\n    slos: [{objective: 99%}]\n")).spec().orElseThrow();
    var b = parse(svc("    route: /\n    slos: [{objective: 99.5%}]\n")).spec().orElseThrow();
    assertThat(dev.pilothouse.core.spec.SpecDiff.between(a, b))
        .contains("~ services.shop.slos.availability: (changed)");
  }

  @Test
  void anomalyDetectors_areRead_andBadOnesRefused() {
    var spec =
        parse(
                "alerting:\n  anomalies:\n    - {name: traffic, expr: 'sum(rate(x[5m]))'}\n"
                    + svc(""))
            .spec()
            .orElseThrow();
    assertThat(spec.alerting().anomalies())
        .containsExactly(
            new dev.pilothouse.core.anomaly.AnomalyDetection(
                "traffic", "sum(rate(x[5m]))", Duration.ofMinutes(1)));
    String bad =
        parse("alerting:\n  anomalies:\n    - {name: traffic, expr: 'sum(rate(x[5m])'}\n" + svc(""))
            .errors()
            .get(0)
            .toString();
    assertThat(bad).contains("shop.yaml:3:").contains("alerting.anomalies[0].expr");
    assertThat(
            parse("alerting:\n  anomalies:\n    - {name: A B, expr: x}\n" + svc(""))
                .errors()
                .get(0)
                .toString())
        .contains("invalid detector name 'A B'");
    assertThat(
            parse("alerting:\n  anomalies:\n    - {expr: x, interval: 100ms}\n" + svc(""))
                .errors()
                .toString())
        .contains("give the detector a name")
        .contains("must be at least 1s");
  }
}
