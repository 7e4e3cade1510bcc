package dev.pilothouse.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code pilothouse alerts [-o json]}. */
@Command(
    name = "alerts",
    description =
        "List the pending and firing alerts of the spec's alerting rules: state, labels, value,"
            + " since when, summary and runbook.")
final class AlertsCommand implements Callable<Integer> {
  @Mixin Common common;
  @Mixin Output output;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode data = common.client().alerts();
    PrintWriter out = spec.commandLine().getOut();
    if (output.json()) {
      out.println(Output.json(data));
      return ExitCodes.OK;
    }
    JsonNode alerts = data.path("alerts");
    if (alerts.isEmpty()) {
      out.println("no alerts pending or firing");
      return ExitCodes.OK;
    }
    List<List<String>> t = new ArrayList<>();
    t.add(List.of("ALERT", "STATE", "SINCE", "VALUE", "LABELS", "MUTED BY", "SUMMARY"));
    Instant now = Instant.now();
    for (JsonNode a : alerts) {
      List<String> labels = new ArrayList<>();
      for (Map.Entry<String, JsonNode> l : a.path("labels").properties()) {
        if (!l.getKey().equals("alertname")) {
          labels.add(l.getKey() + "=" + l.getValue().asText());
        }
      }
      String summary = a.path("annotations").path("summary").asText("");
      String runbook = a.path("annotations").path("runbook_url").asText("");
      t.add(
          List.of(
              a.path("labels").path("alertname").asText(),
              a.path("state").asText(),
              Output.ago(now, a.path("activeAt").asText()),
              value(a.path("value").asText()),
              String.join(",", labels),
              muted(a),
              summary + (runbook.isEmpty() ? "" : " (runbook: " + runbook + ")")));
    }
    out.print(Output.table(t));
    return ExitCodes.OK;
  }

  /** The value as people read it (the API writes Go's exponent form, 4.2e-01). */
  private static String value(String v) {
    try {
      double d = Double.parseDouble(v);
      return d == Math.rint(d) && Math.abs(d) < 1e15
          ? Long.toString((long) d)
          : String.format(java.util.Locale.ROOT, "%.4g", d);
    } catch (NumberFormatException e) {
      return v;
    }
  }

  /** The silences and inhibiting alerts that keep an alert from being notified. */
  private static String muted(JsonNode a) {
    List<String> by = new ArrayList<>();
    a.path("silencedBy").forEach(s -> by.add("silence " + s.asText()));
    a.path("inhibitedBy").forEach(s -> by.add("inhibited by " + s.asText()));
    return by.isEmpty() ? "-" : String.join(", ", by);
  }
}
