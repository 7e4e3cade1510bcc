package dev.pilothouse.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pilothouse.core.spec.ExperimentSpec;
import java.util.Map;

/**
 * An experiment as the API and {@code pilothouse experiment status -o json} show it: its lifecycle,
 * each variant's figures and each variant's effects against the control.
 */
public final class ExperimentJson {
  private ExperimentJson() {}

  private static final ObjectMapper JSON = new ObjectMapper();

  public static ObjectNode write(Experiments.Status s) {
    ExperimentSpec e = s.spec();
    ObjectNode o = JSON.createObjectNode();
    o.put("name", e.name());
    o.put("service", e.service());
    o.put("phase", s.record().phase());
    o.put("startedAt", s.record().startedAt().toString());
    o.put(
        "concludedAt",
        s.record().concludedAt() == null ? null : s.record().concludedAt().toString());
    o.put("outcome", s.record().outcome());
    o.put("assignBy", e.assignBy().isEmpty() ? "cookie (set by the load balancer)" : e.assignBy());
    o.put("duration", e.duration().toSeconds() + "s");
    o.put("minSamples", e.minSamples());
    Results r = s.results();
    o.put("resultsAt", r == null ? null : r.at().toString());
    o.put("leader", r == null ? null : r.leader());
    ArrayNode variants = o.putArray("variants");
    for (ExperimentSpec.Variant v : e.variants()) {
      ObjectNode vn = variants.addObject();
      vn.put("name", v.name());
      vn.put("service", e.serviceOf(v));
      vn.put("version", v.version());
      vn.put("weight", v.weight());
      if (r == null) {
        continue;
      }
      r.variants().stream()
          .filter(x -> x.name().equals(v.name()))
          .findFirst()
          .ifPresent(
              x -> {
                vn.put("requests", Math.round(x.requests()));
                number(vn, "errorRate", x.errorRate());
                number(vn, "latencyMeanMs", x.latencyMeanMs());
                number(vn, "latencyP99Ms", x.latencyP99Ms());
                ObjectNode metrics = vn.putObject("metrics");
                for (ExperimentSpec.Metric m : e.metrics()) {
                  ObjectNode mn = metrics.putObject(m.name());
                  number(mn, "value", x.metrics().getOrDefault(m.name(), Double.NaN));
                  number(mn, "perRequest", x.perRequest(m.name()));
                }
              });
    }
    ArrayNode comparisons = o.putArray("comparisons");
    if (r != null) {
      for (Map.Entry<String, Map<String, Effect>> v : r.comparisons().entrySet()) {
        for (Map.Entry<String, Effect> m : v.getValue().entrySet()) {
          Effect x = m.getValue();
          ObjectNode c = comparisons.addObject();
          c.put("variant", v.getKey());
          c.put("metric", m.getKey());
          number(c, "control", x.control());
          number(c, "value", x.variant());
          number(c, "difference", x.difference());
          number(c, "low", x.low());
          number(c, "high", x.high());
          number(c, "relative", x.relative());
          number(c, "pValue", x.pValue());
          c.put("significant", x.significant());
        }
      }
    }
    return o;
  }

  private static void number(ObjectNode o, String field, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }
}
