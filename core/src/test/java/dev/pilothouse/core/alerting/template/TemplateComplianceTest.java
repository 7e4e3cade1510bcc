package dev.pilothouse.core.alerting.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Expands alert templates here and asks the real Prometheus whether it expands them the same: each
 * (template, value) becomes an alerting rule whose expected annotation, in a {@code promtool test
 * rules} file, is our expansion. promtool (Debian's, installed by ./test) fails on any difference.
 */
class TemplateComplianceTest {
  static final List<String> TEMPLATES =
      List.of(
          "{{ $value }}",
          "{{ $value | humanize }}",
          "{{ humanize1024 $value }}",
          "{{ $value | humanizeDuration }}",
          "{{ humanizePercentage $value }}",
          "{{ printf \"%.2f\" $value }}",
          "{{ printf \"%.3g|%e|%v|%5.1f\" $value $value $value $value }}",
          "{{ $labels.instance }} of {{ $labels.job }} ({{ $labels.missing }})",
          "{{ if gt $value 100.0 }}high{{ else if gt $value 1.0 }}mid{{ else }}low{{ end }}",
          "{{ $labels.instance | stripPort }} {{ stripDomain $labels.instance }}",
          "{{ toUpper $labels.job }} {{ title \"hello wide world\" }} {{ toLower \"ABC\" }}",
          "{{ reReplaceAll \"(.*)\\\\.example.*\" \"$1\" $labels.instance }}",
          "{{ match \"^host\" $labels.instance }} {{ not (match \"x\" \"y\") }}",
          "a {{- /* a comment */ -}} b {{- .Labels.job -}} c",
          "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
          "{{ with $labels.job }}job {{ . }}{{ end }}{{ len $labels }}",
          "{{ $x := 3 }}{{ $x }} {{ print 1 2 \"a\" 3 }} {{ eq $labels.job \"node\" \"api\" }}",
          "{{ humanizeTimestamp $value }}",
          "{{ index $labels \"job\" }} {{ printf \"%q\" $labels.job }} {{ 1.5 }} {{ 7 }}",
          "{{ $externalURL }}|{{ $value | printf \"%.1f\" }}|{{ \"x\" | printf \"%s-%s\" \"y\" }}");

  static final double[] VALUES = {
    0,
    1,
    0.5,
    42,
    1234.5,
    12345,
    100000,
    1234567,
    0.000123,
    3.14159,
    86399.5,
    90061,
    -42.5,
    1.5e9,
    1.7e9 + 0.123,
    98765.4321
  };

  /** The rule-file-safe YAML double-quoted form of s. */
  private static String yaml(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  @Test
  void expansions_equalPrometheus(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/promtool")), "promtool is installed by ./test");
    Map<String, String> labels = new TreeMap<>();
    labels.put("__name__", "m");
    labels.put("instance", "host-1.example.com:9100");
    labels.put("job", "node");
    StringBuilder rules = new StringBuilder("groups:\n- name: t\n  rules:\n");
    StringBuilder tests = new StringBuilder("rule_files: [rules.yml]\nevaluation_interval: 1m\n");
    tests.append("tests:\n");
    List<String> cases = new ArrayList<>();
    for (int v = 0; v < VALUES.length; v++) {
      tests.append("- interval: 1m\n  input_series:\n");
      tests.append("  - series: 'm{instance=\"host-1.example.com:9100\",job=\"node\"}'\n");
      tests.append("    values: '").append(GoFormat.value(VALUES[v])).append("x3'\n");
      tests.append("  alert_rule_test:\n");
      for (int t = 0; t < TEMPLATES.size(); t++) {
        String name = "T" + t + "V" + v;
        if (v == 0) {
          // One rule per template; the value comes from the series of the test case.
          rules.append("  - alert: T").append(t).append('\n');
          rules.append("    expr: m > -Inf\n");
          rules.append("    annotations: {a: ").append(yaml(TEMPLATES.get(t))).append("}\n");
        }
        // promtool test rules has no external URL
        String got =
            Template.parse("__alert_T" + t, TEMPLATES.get(t))
                .expand(labels, VALUES[v], Map.of(), "", null);
        cases.add(name + ": " + got);
        tests.append("  - eval_time: 1m\n    alertname: T").append(t).append('\n');
        tests.append("    exp_alerts:\n    - exp_labels: {instance: host-1.example.com:9100,");
        tests.append(" job: node}\n      exp_annotations: {a: ").append(yaml(got)).append("}\n");
      }
    }
    Files.writeString(dir.resolve("rules.yml"), rules);
    Files.writeString(dir.resolve("test.yml"), tests);
    Process p =
        new ProcessBuilder("/usr/bin/promtool", "test", "rules", "test.yml")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out + "\nour expansions:\n" + String.join("\n", cases)).isZero();
  }
}
