package dev.pilothouse.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pilothouse.core.alerting.Rule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuleFilesTest {
  private static RuleFiles.Parsed read(String text) {
    return RuleFiles.read(
        "rules.yml", text, dev.pilothouse.tsdb.promql.Parser::problem, Duration.ofMinutes(1));
  }

  static final String GOOD =
      """
      groups:
      - name: node
        interval: 30s
        limit: 10
        rules:
        - record: job:up:sum
          expr: sum by (job) (up)
          labels: {team: infra}
        - alert: InstanceDown
          expr: up == 0
          for: 5m
          keep_firing_for: 1m
          labels: {severity: page}
          annotations:
            summary: "{{ $labels.instance }} down"
            runbook_url: https://example.com/runbooks/down
      - name: empty
      """;

  /** Files promtool check rules accepts or refuses; we must give the same verdict on each. */
  static final List<String> CASES =
      List.of(
          GOOD,
          "",
          "groups: []\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up ==\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n",
          "groups:\n- name: a\n  rules:\n  - expr: up\n",
          "groups:\n- name: a\n  rules:\n  - record: a\n    alert: b\n    expr: up\n",
          "groups:\n- name: a\n  rules:\n  - record: 'bad name'\n    expr: up\n",
          "groups:\n- name: a\n  rules:\n  - record: a\n    expr: up\n    for: 5m\n",
          "groups:\n- name: a\n  rules:\n  - record: a\n    expr: up\n    annotations: {x: y}\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n",
          "groups:\n- name: a\n  interval: 1x\n  rules: []\n",
          "groups:\n- name: a\n  rules: []\n- name: a\n  rules: []\n",
          "groups:\n- rules: []\n",
          "groups:\n- name: a\n  rulez: []\n",
          "grups: []\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    labels: {'0bad': x}\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
              + "    annotations: {s: '{{ humanise $value }}'}\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
              + "    annotations: {s: '{{ if $value }}x'}\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n"
              + "    labels: {s: '{{ $labels.job }}'}\n",
          "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up\n    keep_firing_for: 2m\n",
          "groups:\n- name: a\n  limit: -1\n  rules: []\n");

  @Test
  void verdicts_equalPromtool(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/promtool")), "promtool is installed by ./test");
    for (int i = 0; i < CASES.size(); i++) {
      Path f = dir.resolve("case" + i + ".yml");
      Files.writeString(f, CASES.get(i));
      Process p =
          new ProcessBuilder("/usr/bin/promtool", "check", "rules", f.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      RuleFiles.Parsed ours = read(CASES.get(i));
      assertThat(ours.valid())
          .as("case %d:%n%s%npromtool: %s%nours: %s", i, CASES.get(i), out, ours.errors())
          .isEqualTo(p.exitValue() == 0);
    }
  }

  @Test
  void readsGroupsAndRules_withTheirFields() {
    RuleFiles.Parsed p = read(GOOD);
    assertThat(p.errors()).isEmpty();
    assertThat(p.groups()).hasSize(2);
    var node = p.groups().get(0);
    assertThat(node.interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(node.limit()).isEqualTo(10);
    assertThat(p.groups().get(1).interval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(node.rules().get(0)).isInstanceOf(Rule.Recording.class);
    Rule.Alerting a = (Rule.Alerting) node.rules().get(1);
    assertThat(a.holdFor()).isEqualTo(Duration.ofMinutes(5));
    assertThat(a.keepFiringFor()).isEqualTo(Duration.ofMinutes(1));
    assertThat(a.labels()).containsEntry("severity", "page");
    assertThat(a.annotations()).containsEntry("summary", "{{ $labels.instance }} down");
  }

  @Test
  void problems_nameTheLineColumnAndField() {
    RuleFiles.Parsed p =
        read("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up ==\n    fro: 5m\n");
    assertThat(p.valid()).isFalse();
    assertThat(p.errors().stream().map(SpecError::toString))
        .anySatisfy(e -> assertThat(e).startsWith("rules.yml:5:11: ").contains("expr"))
        .anySatisfy(
            e -> assertThat(e).startsWith("rules.yml:6:5: ").contains("unknown field 'fro'"));
  }

  @Property(tries = 300)
  void anyText_givesGroupsOrProblems_neverAnException(@ForAll String text) {
    RuleFiles.Parsed p = read(text);
    assertThat(p.valid()).isEqualTo(p.errors().isEmpty());
  }
}
