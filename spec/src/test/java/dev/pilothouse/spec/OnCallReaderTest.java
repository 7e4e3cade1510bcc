package dev.pilothouse.spec;

import static dev.pilothouse.spec.SpecParserTest.parse;
import static dev.pilothouse.spec.SpecParserTest.svc;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pilothouse.core.incident.OnCall;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code oncall:}: people, rotations with overrides, escalation policies. */
class OnCallReaderTest {
  static final String ONCALL =
      """
      notifications: {email: {smtp: 'mail:25', from: pilothouse@example.com, to: [ops@example.com]}}
      oncall:
        users:
          alice: {email: alice@example.com}
          bob: {webhook: 'https://hooks.example.com/bob'}
          carol: {slack: 'https://hooks.slack.com/services/X'}
        schedules:
          - name: primary
            users: [alice, bob]
            turn: 1w
            start: 2026-11-23T09:00:00+01:00
            overrides:
              - {user: carol, from: 2026-12-24T00:00:00Z, until: 2026-12-27T00:00:00Z}
        escalations:
          - name: shop
            match: {service: shop}
            levels:
              - {notify: [schedule:primary]}
              - {after: 15m, notify: [user:carol]}
      """;

  @Test
  void oncall_isRead() {
    OnCall o = parse(ONCALL + svc("")).spec().orElseThrow().alerting().oncall();
    assertThat(o.users())
        .containsEntry("alice", new OnCall.User("alice@example.com", "", ""))
        .containsKeys("bob", "carol");
    assertThat(o.schedules())
        .containsExactly(
            new OnCall.Schedule(
                "primary",
                List.of("alice", "bob"),
                Duration.ofDays(7),
                Instant.parse("2026-11-23T08:00:00Z"),
                List.of(
                    new OnCall.Override(
                        "carol",
                        Instant.parse("2026-12-24T00:00:00Z"),
                        Instant.parse("2026-12-27T00:00:00Z")))));
    assertThat(o.escalations())
        .containsExactly(
            new OnCall.Escalation(
                "shop",
                Map.of("service", "shop"),
                List.of(
                    new OnCall.Level(Duration.ZERO, List.of("schedule:primary")),
                    new OnCall.Level(Duration.ofMinutes(15), List.of("user:carol")))));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          users: [alice, bob]               | users: [alice, dave]               | oncall.schedules[0].users[1] | no user named 'dave'
          - {notify: [schedule:primary]}    | - {notify: [schedule:night]}       | notify[0]                    | no schedule named 'night'
          - {notify: [schedule:primary]}    | - {notify: [primary]}              | notify[0]                    | neither schedule:NAME nor user:NAME
          start: 2026-11-23T09:00:00+01:00  | start: 2026-11-23T09:00:00         | oncall.schedules[0].start    | not a time with a zone
          alice: {email: alice@example.com} | alice: {email: alice}              | oncall.users.alice.email     | not an e-mail address
          alice: {email: alice@example.com} | alice: {}                          | oncall.users.alice           | has no way to be reached
          bob: {webhook: 'https://hooks.example.com/bob'} | bob: {webhook: 'ftp://x'} | oncall.users.bob.webhook | not an http(s) URL
          until: 2026-12-27T00:00:00Z}      | until: 2026-12-20T00:00:00Z}       | until                        | must be after from
          """)
  void mistakes_areRefused_withWhereAndHow(String from, String to, String path, String message) {
    String yaml = ONCALL.replace(from, to);
    assertThat(yaml).isNotEqualTo(ONCALL);
    var errors = parse(yaml + svc("")).errors();
    assertThat(errors).isNotEmpty();
    assertThat(errors.get(0).toString()).contains("shop.yaml:").contains(path).contains(message);
  }

  @Test
  void emailPages_needAMailServer() {
    String yaml =
        ONCALL.replace(
            "notifications: {email: {smtp: 'mail:25', from: pilothouse@example.com, to: [ops@example.com]}}\n",
            "");
    assertThat(parse(yaml + svc("")).errors().get(0).toString())
        .contains("oncall.users.alice.email")
        .contains("set notifications.email.smtp");
  }
}
