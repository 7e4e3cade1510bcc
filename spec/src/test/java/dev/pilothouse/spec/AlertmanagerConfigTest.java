package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pilothouse.core.alerting.routing.LabelMatcher;
import dev.pilothouse.core.alerting.routing.Receiver;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertmanagerConfigTest {
  static final String GOOD =
      """
      global:
        smtp_smarthost: 'mail.example.com:587'
        smtp_from: alerts@example.com
        smtp_auth_username: alerts
        smtp_auth_password: secret
      route:
        receiver: team
        group_by: [alertname, service]
        routes:
          - matchers: ['severity="page"', 'team=~"infra|db"']
            receiver: pager
            continue: true
            group_wait: 10s
            mute_time_intervals: [weekend]
          - match: {service: shop}
            receiver: team
      receivers:
        - name: team
          webhook_configs: [{url: 'http://127.0.0.1:9000/hook', max_alerts: 10}]
          email_configs: [{to: 'oncall@example.com, lead@example.com'}]
          slack_configs: [{api_url: 'https://hooks.slack.com/services/T/B/X', channel: '#ops'}]
        - name: pager
          pagerduty_configs: [{routing_key: 'abc123', severity: critical}]
      inhibit_rules:
        - source_matchers: ['severity="critical"']
          target_matchers: ['severity="warning"']
          equal: [cluster]
      time_intervals:
        - name: weekend
          time_intervals:
            - weekdays: [saturday, sunday]
            - times: [{start_time: '22:00', end_time: '24:00'}]
              location: Europe/Berlin
      """;

  /** Configs amtool check-config accepts or refuses; we must give the same verdict on each. */
  static final List<String> CASES =
      List.of(
          GOOD,
          "route: {receiver: x}\nreceivers: [{name: x}]\n",
          "route: {receiver: y}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, matchers: ['a=\"b\"']}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, routes: [{matchers: ['a=']}]}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, routes: [{matchers: ['a=\"b\"'], receiver: nope}]}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, group_wiat: 1s}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, group_wait: soon}\nreceivers: [{name: x}]\n",
          "route: {receiver: x, group_by: ['...', a]}\nreceivers: [{name: x}]\n",
          "receivers: [{name: x}]\n",
          "route: {receiver: x, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: x}]\n",
          "route: {receiver: x}\nreceivers: [{name: x}, {name: x}]\n",
          "route: {receiver: x}\nreceivers: [{name: x, webhook_configs: [{url: 'ftp://a'}]}]\n",
          "route: {receiver: x}\nreceivers: [{name: x, email_configs: [{to: a@b.c}]}]\n",
          "route: {receiver: x}\nreceivers: [{name: x, pagerduty_configs: [{severity: info}]}]\n",
          "route: {receiver: x, routes: [{matchers: ['a=~\"(\"']}]}\nreceivers: [{name: x}]\n",
          "route: {receiver: x}\nreceivers: [{name: x}]\ntime_intervals: [{name: t, time_intervals: [{times: [{start_time: '25:00', end_time: '26:00'}]}]}]\n",
          "route: {receiver: x}\nreceivers: [{name: x}]\ntime_intervals: [{name: t, time_intervals: [{weekdays: ['saturday:sunday']}]}]\n",
          "route: {receiver: x}\nreceivers: [{name: x}]\ninhibit_rules: [{source_matchers: ['a=\"1\"'], target_matchers: ['b=\"2\"'], equal: [c]}]\n");

  @Test
  void verdicts_equalAmtool(@TempDir Path dir) throws Exception {
    Path amtool = Path.of("/usr/bin/amtool");
    assumeTrue(Files.isExecutable(amtool), "amtool comes with prometheus-alertmanager (./test)");
    for (int i = 0; i < CASES.size(); i++) {
      Path f = dir.resolve("case" + i + ".yml");
      Files.writeString(f, CASES.get(i));
      Process p =
          new ProcessBuilder(amtool.toString(), "check-config", f.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      AlertmanagerConfig.Parsed ours = AlertmanagerConfig.read("am.yml", CASES.get(i));
      assertThat(ours.valid())
          .as("case %d:%n%s%namtool: %s%nours: %s", i, CASES.get(i), out, ours.errors())
          .isEqualTo(p.exitValue() == 0);
    }
  }

  @Test
  void readsTheTree_withInheritedSettings_andAlertmanagersDefaults() {
    AlertmanagerConfig.Parsed p = AlertmanagerConfig.read("am.yml", GOOD);
    assertThat(p.errors()).isEmpty();
    RoutingConfig c = p.config().orElseThrow();
    assertThat(c.route().groupWait()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.route().groupInterval()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.route().repeatInterval()).isEqualTo(Duration.ofHours(4));
    var pager = c.route().routes().get(0);
    assertThat(pager.groupWait()).isEqualTo(Duration.ofSeconds(10));
    assertThat(pager.groupBy()).containsExactly("alertname", "service");
    assertThat(pager.cont()).isTrue();
    assertThat(pager.matchers())
        .containsExactly(
            new LabelMatcher("severity", LabelMatcher.Op.EQUAL, "page"),
            new LabelMatcher("team", LabelMatcher.Op.REGEX, "infra|db"));
    assertThat(c.route().routes().get(1).matchers())
        .containsExactly(new LabelMatcher("service", LabelMatcher.Op.EQUAL, "shop"));
    Receiver.Email email =
        c.receiver("team").orElseThrow().integrations().stream()
            .filter(Receiver.Email.class::isInstance)
            .map(Receiver.Email.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(email.to()).containsExactly("oncall@example.com", "lead@example.com");
    assertThat(email.smarthost()).isEqualTo("mail.example.com:587");
    assertThat(email.authPassword()).isEqualTo("secret");
    assertThat(email.requireTls()).isTrue();
    assertThat(c.timeIntervals().get(0).periods()).hasSize(2);
  }

  @Test
  void msteamsConfigs_areRead_asAlertmanager026AndLaterHaveThem() {
    AlertmanagerConfig.Parsed p =
        AlertmanagerConfig.read(
            "am.yml",
            "route: {receiver: x}\nreceivers:\n- name: x\n"
                + "  msteams_configs: [{webhook_url: 'https://example.webhook.office.com/x'}]\n");
    assertThat(p.errors()).isEmpty();
    assertThat(p.config().orElseThrow().receivers().get(0).integrations())
        .containsExactly(new Receiver.Teams("https://example.webhook.office.com/x", true));
  }

  @Test
  void problems_nameTheLineAndField() {
    AlertmanagerConfig.Parsed p =
        AlertmanagerConfig.read(
            "am.yml",
            "route:\n  receiver: x\n  routes:\n    - receiver: nope\nreceivers:\n- name: x\n");
    assertThat(p.errors().stream().map(SpecError::toString))
        .anySatisfy(
            e -> assertThat(e).startsWith("am.yml:4:17: ").contains("undefined receiver \"nope\""));
  }

  @Property(tries = 200)
  void anyText_givesAConfigOrProblems_neverAnException(@ForAll String text) {
    AlertmanagerConfig.Parsed p = AlertmanagerConfig.read("am.yml", text);
    assertThat(p.valid()).isEqualTo(p.config().isPresent());
  }
}
