package dev.pilothouse.spec;

import static dev.pilothouse.spec.SpecParserTest.parse;
import static dev.pilothouse.spec.SpecParserTest.svc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.spec.Remediation;
import dev.pilothouse.core.spec.Remediation.Action;
import dev.pilothouse.core.spec.Remediation.Condition;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code services.NAME.remediation}: runbooks read with defaults; bad ones name where and how. */
class RemediationReaderTest {
  @Test
  void runbooks_areRead_withEveryFieldAndTheirDefaults() {
    var s =
        parse(
                svc(
                    """
                        remediation:
                          - name: hung
                            when: {unready: 20s}
                            actions: [quarantine, replace]
                            verify: 45s
                            cooldown: 2m
                            maxPerHour: 4
                            blastRadius: 50%
                            quarantineFor: 30m
                          - when: {alert: ShopErrorRateHigh}
                            actions: [rollback, {scaleOut: 2}, {command: [./flush.sh, --all], timeout: 1m}]
                            escalate: false
                          - when: {crashLoop: true}
                            actions: [restart]
                    """))
            .spec()
            .orElseThrow()
            .services()
            .get(0);
    assertThat(s.remediation())
        .containsExactly(
            new Remediation(
                "hung",
                new Condition.Unready(Duration.ofSeconds(20)),
                List.of(new Action.Quarantine(), new Action.Replace()),
                Duration.ofSeconds(45),
                Duration.ofMinutes(2),
                4,
                0.5,
                true,
                Duration.ofMinutes(30)),
            new Remediation(
                "runbook-1",
                new Condition.Alert("ShopErrorRateHigh"),
                List.of(
                    new Action.Rollback(),
                    new Action.ScaleOut(2),
                    new Action.Command(List.of("./flush.sh", "--all"), Duration.ofMinutes(1))),
                Duration.ofSeconds(30),
                Duration.ofMinutes(1),
                6,
                0.34,
                false,
                Duration.ofHours(1)),
            new Remediation(
                "runbook-2",
                new Condition.CrashLoop(),
                List.of(new Action.Restart()),
                Duration.ofSeconds(30),
                Duration.ofMinutes(1),
                6,
                0.34,
                true,
                Duration.ofHours(1)));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          - {actions: [replace]}                                   | services.shop.remediation[0].when    | say when it starts
          - {when: {unready: 20s}}                                 | services.shop.remediation[0].actions | say what to do
          - {when: {unready: 20s}, actions: []}                    | services.shop.remediation[0].actions | write e.g. [replace]
          - {when: {unready: 20s}, actions: [replce]}              | services.shop.remediation[0].actions[0] | did you mean 'replace'?
          - {when: {unready: 20s, crashLoop: true}, actions: [replace]} | services.shop.remediation[0].when | give exactly one condition
          - {when: {alert: ShopErrorRateHigh}, actions: [quarantine]} | services.shop.remediation[0].actions[0] | use restart, rollback, scaleOut or command
          - {when: {alert: 'not an alert'}, actions: [restart]}    | services.shop.remediation[0].when.alert | give the alerting rule's name
          - {when: {unready: 20s}, actions: [{scaleOut: 0}]}       | services.shop.remediation[0].actions[0].scaleOut | use a value from 1 to 100
          - {when: {unready: 20s}, actions: [{command: []}]}       | services.shop.remediation[0].actions[0].command | must name a program
          - {when: {unready: 20s}, actions: [replace], blastRadius: 0.5} | services.shop.remediation[0].blastRadius | e.g. 34%
          - {when: {unready: 20s}, actions: [replace], maxPerHour: 0} | services.shop.remediation[0].maxPerHour | use a value from 1 to 1000
          - {when: {crashLoop: false}, actions: [restart]}         | services.shop.remediation[0].when.crashLoop | write 'crashLoop: true'
          """)
  void badRunbooks_areRefused_withWhereAndHow(String item, String path, String hint) {
    var errors = parse(svc("    remediation:\n      " + item + "\n")).errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString()).contains("shop.yaml:5:").contains(path).contains(hint);
  }

  @Test
  void twoRunbooksOfOneName_areRefused() {
    var errors =
        parse(
                svc(
                    "    remediation:\n"
                        + "      - {name: a, when: {crashLoop: true}, actions: [restart]}\n"
                        + "      - {name: a, when: {crashLoop: true}, actions: [restart]}\n"))
            .errors();
    assertThat(errors.get(0).toString())
        .contains("services.shop.remediation[1].name")
        .contains("a second runbook named 'a'");
  }
}
