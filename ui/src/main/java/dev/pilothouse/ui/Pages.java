package dev.pilothouse.ui;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pilothouse.client.ApiException;
import dev.pilothouse.client.PilotClient;
import dev.pilothouse.client.Wire;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Builds each page's view from the API's answers, read with the logged-in user's token: the pages
 * show what that token may read, through the same endpoints the CLI calls.
 */
final class Pages {
  /** The time ranges a chart offers, and the one it starts with. */
  static final List<String> RANGES = Views.RANGES;

  static final String DEFAULT_RANGE = "1h";

  private static final String REQUESTS = "pilothouse_proxy_requests_total";
  private static final String BUCKETS = "pilothouse_proxy_request_duration_seconds_bucket";
  private static final String ERRORS = "class=~\"5xx|error\"";

  private Pages() {}

  static Views.Overview overview(Views.Page page, PilotClient api) {
    Wire.Status st = api.status();
    Red red = red(api, "");
    Map<String, Double> budget = budgets(api);
    List<Views.AlertRow> alerts = alerts(api);
    Map<String, String> rollouts = new LinkedHashMap<>();
    for (Wire.Rollout r : orEmpty(api::rollouts)) {
      if (running(r)) {
        rollouts.put(r.service(), r.phase() + " " + r.toVersion() + " at " + r.weight() + " %");
      }
    }
    List<Views.ServiceRow> rows = new ArrayList<>();
    for (Wire.Service s : st.services()) {
      rows.add(row(s, red, budget, alerts, rollouts));
    }
    Wire.Proxy p = st.proxy();
    return new Views.Overview(
        page,
        new Views.Daemon(
            st.pid(),
            st.version(),
            st.startedAt(),
            p == null ? "off" : p.health(),
            p == null ? 0 : p.pid(),
            p == null ? 0 : p.port(),
            p == null ? "" : p.error(),
            p == null ? 0 : p.standbyPid(),
            st.revision()),
        rows,
        alerts.stream().filter(a -> a.state().equals("firing")).toList());
  }

  static Views.ServicePage service(Views.Page page, PilotClient api, String name, String range) {
    Wire.Status st = api.status();
    Wire.Service s =
        st.services().stream()
            .filter(x -> x.name().equals(name))
            .findFirst()
            .orElseThrow(() -> notFound("no service named '" + name + "'", st));
    String sel = "service=\"" + quote(name) + "\"";
    Red red = red(api, sel);
    Map<String, Double> cpu =
        byLabel(api, "rate(pilothouse_instance_cpu_seconds_total{" + sel + "}[1m])", "instance_id");
    Map<String, Double> mem =
        byLabel(api, "pilothouse_instance_resident_memory_bytes{" + sel + "}", "instance_id");
    List<Views.AlertRow> alerts = alerts(api);
    Wire.Rollout rollout = orNull(() -> api.rollout(name));
    Map<String, String> rollouts =
        rollout != null && running(rollout)
            ? Map.of(name, rollout.phase() + " " + rollout.toVersion())
            : Map.of();
    List<Views.InstanceRow> instances = new ArrayList<>();
    for (Wire.Instance i : s.instances()) {
      instances.add(new Views.InstanceRow(i, cpu.get(i.id()), mem.get(i.id())));
    }
    List<Wire.Event> events =
        orEmpty(() -> api.events(-1, 2000)).stream().filter(e -> name.equals(e.service())).toList();
    events = events.subList(Math.max(0, events.size() - 30), events.size()).reversed();
    List<Views.RevisionRow> revisions = new ArrayList<>();
    for (Map<String, Object> h : orEmpty(() -> api.history(name))) {
      revisions.add(
          new Views.RevisionRow(
              ((Number) h.getOrDefault("revision", 0)).longValue(),
              String.valueOf(h.getOrDefault("at", "")),
              String.valueOf(h.getOrDefault("source", "")),
              String.valueOf(h.getOrDefault("version", "")),
              strings(h.get("changes"))));
    }
    List<Views.Chart> charts =
        List.of(
            new Views.Chart(
                "requests",
                "Requests per second by status class",
                "sum by (class) (rate(" + REQUESTS + "{" + sel + "}[1m]))",
                "req/s"),
            new Views.Chart(
                "errors", "Error ratio (5xx and failed requests)", errorRatio(sel, ""), "ratio"),
            new Views.Chart(
                "latency",
                "Latency p50 and p99",
                "label_replace(histogram_quantile(0.5, sum by (le) (rate("
                    + BUCKETS
                    + "{"
                    + sel
                    + "}[1m]))), \"quantile\", \"p50\", \"\", \"\") or"
                    + " label_replace(histogram_quantile(0.99, sum by (le) (rate("
                    + BUCKETS
                    + "{"
                    + sel
                    + "}[1m]))), \"quantile\", \"p99\", \"\", \"\")",
                "s"),
            new Views.Chart(
                "cpu",
                "CPU by instance (cores)",
                "rate(pilothouse_instance_cpu_seconds_total{" + sel + "}[1m])",
                "cores"),
            new Views.Chart(
                "memory",
                "Resident memory by instance",
                "pilothouse_instance_resident_memory_bytes{" + sel + "}",
                "bytes"));
    return new Views.ServicePage(
        page,
        row(s, red, budgets(api), alerts, rollouts),
        instances,
        charts,
        range,
        RANGES,
        events,
        revisions.reversed(),
        s.autoscale(),
        rollout != null);
  }

  static Views.RolloutPage rollout(Views.Page page, PilotClient api, String name, String range) {
    Wire.Rollout r = api.rollout(name);
    List<Views.Step> steps = new ArrayList<>();
    boolean promoted = "Promoted".equals(r.phase());
    for (int i = 0; i < r.steps(); i++) {
      // step is the index of the current step; all have passed once it reaches their count
      String state =
          promoted || i < r.step() ? "done" : i == r.step() && running(r) ? "current" : "todo";
      String what = r.plan() != null && i < r.plan().size() ? r.plan().get(i) : "";
      steps.add(new Views.Step(i + 1, what, state));
    }
    String sel = "service=\"" + quote(name) + "\"";
    List<Views.Chart> charts =
        List.of(
            new Views.Chart(
                "rollout-requests",
                "Requests per second by version",
                "sum by (version) (rate(" + REQUESTS + "{" + sel + "}[1m]))",
                "req/s"),
            new Views.Chart(
                "rollout-errors", "Error ratio by version", errorRatio(sel, "version"), "ratio"),
            new Views.Chart(
                "rollout-latency",
                "p99 latency by version",
                "histogram_quantile(0.99, sum by (version, le) (rate("
                    + BUCKETS
                    + "{"
                    + sel
                    + "}[1m])))",
                "s"));
    return new Views.RolloutPage(page, r, steps, running(r), charts, range);
  }

  static Views.Explore explore(Views.Page page, PilotClient api, String query, String range) {
    List<String> names = new ArrayList<>();
    try {
      JsonNode values = Json.read(api.getText("/api/v1/label/__name__/values")).path("data");
      values.forEach(v -> names.add(v.asText()));
    } catch (ApiException e) {
      // the explorer still works without suggestions
    }
    List<Views.Result> results = new ArrayList<>();
    String type = "";
    String error = null;
    String hint = null;
    if (query != null && !query.isBlank()) {
      try {
        Map<String, Object> data = api.query(query, null);
        type = String.valueOf(data.get("resultType"));
        results = results(data);
      } catch (ApiException e) {
        error = e.getMessage();
        hint = e.body() == null ? null : e.body().hint();
      }
    }
    return new Views.Explore(
        page, query == null ? "" : query, range, RANGES, names, results, type, error, hint);
  }

  static Views.EventsPage events(
      Views.Page page, PilotClient api, String type, String service, int limit) {
    List<Wire.Event> latest = api.events(-1, 10_000);
    TreeSet<String> types = new TreeSet<>();
    TreeSet<String> services = new TreeSet<>();
    List<Wire.Event> chosen = new ArrayList<>();
    for (Wire.Event e : latest.reversed()) {
      types.add(e.type());
      if (e.service() != null && !e.service().isEmpty()) {
        services.add(e.service());
      }
      if ((type.isEmpty() || type.equals(e.type()))
          && (service.isEmpty() || service.equals(e.service()))
          && chosen.size() < limit) {
        chosen.add(e);
      }
    }
    return new Views.EventsPage(
        page,
        chosen,
        type,
        service,
        limit,
        api.verifyEvents(),
        List.copyOf(types),
        List.copyOf(services));
  }

  static Views.Dora dora(Views.Page page, PilotClient api, String since) {
    Map<String, Object> d = api.dora(since);
    Map<String, List<Views.Figure>> services = new LinkedHashMap<>();
    if (d.get("services") instanceof Map<?, ?> per) {
      per.forEach((k, v) -> services.put(String.valueOf(k), figures(v)));
    }
    return new Views.Dora(page, since, figures(d), services);
  }

  static Views.Alerts alerts(Views.Page page, PilotClient api, String silence) {
    List<Views.SilenceRow> silences = new ArrayList<>();
    for (JsonNode s : api.silences()) {
      List<String> m = new ArrayList<>();
      for (JsonNode x : s.path("matchers")) {
        boolean eq = x.path("isEqual").asBoolean(true);
        boolean re = x.path("isRegex").asBoolean(false);
        m.add(
            x.path("name").asText()
                + (eq ? (re ? "=~" : "=") : (re ? "!~" : "!="))
                + "\""
                + x.path("value").asText()
                + "\"");
      }
      silences.add(
          new Views.SilenceRow(
              s.path("id").asText(),
              s.path("status").path("state").asText(),
              String.join(", ", m),
              s.path("startsAt").asText(),
              s.path("endsAt").asText(),
              s.path("createdBy").asText(),
              s.path("comment").asText()));
    }
    silences.sort(
        java.util.Comparator.comparing((Views.SilenceRow r) -> !r.state().equals("active"))
            .thenComparing(Views.SilenceRow::endsAt, java.util.Comparator.reverseOrder()));
    return new Views.Alerts(page, alerts(api), silences, silence == null ? "" : silence);
  }

  static Views.Incidents incidents(Views.Page page, PilotClient api) {
    return new Views.Incidents(page, api.incidents(true).path("incidents"));
  }

  static Views.Incident incident(Views.Page page, PilotClient api, long id) {
    return new Views.Incident(page, api.incident(id));
  }

  static Views.Backups backups(Views.Page page, PilotClient api) {
    return new Views.Backups(page, Json.read(api.getText("/api/v1/dr")));
  }

  static Views.Chaos chaos(Views.Page page, PilotClient api) {
    return new Views.Chaos(page, api.chaosStatus(), api.chaosRuns(null).path("runs"));
  }

  static Views.Cost cost(Views.Page page, PilotClient api, String by, String period) {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("by", by);
    q.put("period", period.isEmpty() ? null : period);
    try {
      JsonNode report = Json.read(api.cost("report", q));
      JsonNode budgets = orNull(() -> Json.read(api.cost("budgets", Map.of())));
      return new Views.Cost(page, by, period, report, budgets, null);
    } catch (ApiException e) {
      if (e.status() == 401 || e.status() == 0) {
        throw e;
      }
      return new Views.Cost(page, by, period, null, null, e.getMessage());
    }
  }

  static Views.Autoscaling autoscaling(Views.Page page, PilotClient api) {
    List<JsonNode> out = new ArrayList<>();
    for (Wire.Service s : api.status().services()) {
      if (s.autoscale() != null) {
        JsonNode d = orNull(() -> api.autoscale(s.name()));
        if (d != null) {
          out.add(d);
        }
      }
    }
    return new Views.Autoscaling(page, out);
  }

  static Views.Security security(Views.Page page, PilotClient api) {
    JsonNode tokens = null;
    String error = null;
    try {
      tokens = api.tokens();
    } catch (ApiException e) {
      if (e.status() == 401 || e.status() == 0) {
        throw e;
      }
      error = e.getMessage();
    }
    return new Views.Security(page, api.auditVerify(), tokens, error);
  }

  // --- reading the API's answers

  /** Requests per second, failed requests per second and p99 latency per service, over 1 m. */
  private record Red(
      Map<String, Double> rate, Map<String, Double> errors, Map<String, Double> p99) {}

  /** The RED figures of the services this selector picks ("" for all). */
  private static Red red(PilotClient api, String selector) {
    String only = selector.isEmpty() ? "" : "{" + selector + "}";
    String sel = selector.isEmpty() ? "" : selector + ",";
    return new Red(
        byLabel(api, "sum by (service) (rate(" + REQUESTS + only + "[1m]))", "service"),
        byLabel(
            api, "sum by (service) (rate(" + REQUESTS + "{" + sel + ERRORS + "}[1m]))", "service"),
        byLabel(
            api,
            "histogram_quantile(0.99, sum by (service, le) (rate(" + BUCKETS + only + "[1m])))",
            "service"));
  }

  private static Views.ServiceRow row(
      Wire.Service s,
      Red red,
      Map<String, Double> budget,
      List<Views.AlertRow> alerts,
      Map<String, String> rollouts) {
    Double r = red.rate().get(s.name());
    Double e = red.errors().get(s.name());
    Double ratio = r == null || r == 0 ? null : (e == null ? 0.0 : e / r);
    int firing =
        (int)
            alerts.stream()
                .filter(a -> a.state().equals("firing") && s.name().equals(a.service()))
                .count();
    return new Views.ServiceRow(
        s.name(),
        s.version(),
        s.state(),
        s.readyReplicas(),
        s.desiredReplicas(),
        r,
        ratio,
        red.p99().get(s.name()),
        budget.get(s.name()),
        firing,
        rollouts.get(s.name()));
  }

  /** The share of requests that failed (5xx or no answer) over a minute, by a label or overall. */
  private static String errorRatio(String selector, String by) {
    String sum = by.isEmpty() ? "sum(rate(" : "sum by (" + by + ") (rate(";
    return sum
        + REQUESTS
        + "{"
        + selector
        + ","
        + ERRORS
        + "}[1m])) / "
        + sum
        + REQUESTS
        + "{"
        + selector
        + "}[1m]))";
  }

  static boolean running(Wire.Rollout r) {
    return List.of("Progressing", "Paused", "Validating").contains(r.phase());
  }

  /** The lowest remaining error budget of each service's SLOs. */
  private static Map<String, Double> budgets(PilotClient api) {
    Map<String, Double> out = new LinkedHashMap<>();
    JsonNode slos = orNull(() -> api.slos(null));
    if (slos == null) {
      return out;
    }
    for (JsonNode o : slos.path("slos")) {
      JsonNode b = o.path("error_budget_remaining");
      if (b.isNumber()) {
        out.merge(o.path("service").asText(), b.asDouble(), Math::min);
      }
    }
    return out;
  }

  private static List<Views.AlertRow> alerts(PilotClient api) {
    List<Views.AlertRow> out = new ArrayList<>();
    JsonNode data = orNull(api::alerts);
    if (data == null) {
      return out;
    }
    for (JsonNode a : data.path("alerts")) {
      JsonNode labels = a.path("labels");
      List<String> shown = new ArrayList<>();
      List<String> matchers = new ArrayList<>();
      Iterator<Map.Entry<String, JsonNode>> it = labels.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> l = it.next();
        shown.add(l.getKey() + "=" + l.getValue().asText());
        matchers.add(l.getKey() + "=\"" + l.getValue().asText().replace("\"", "\\\"") + "\"");
      }
      out.add(
          new Views.AlertRow(
              labels.path("alertname").asText(),
              a.path("state").asText().toLowerCase(Locale.ROOT),
              labels.path("severity").asText(""),
              labels.path("service").asText(""),
              a.path("annotations").path("summary").asText(""),
              a.path("activeAt").asText(""),
              String.join(", ", shown),
              String.join(", ", matchers)));
    }
    return out;
  }

  /** The value of each series of an instant query, by one of its labels; empty on failure. */
  @SuppressWarnings("unchecked")
  static Map<String, Double> byLabel(PilotClient api, String query, String label) {
    Map<String, Double> out = new LinkedHashMap<>();
    Map<String, Object> data;
    try {
      data = api.query(query, null);
    } catch (ApiException e) {
      return out; // no metrics (the store is off, or not yet scraped): the figures show a dash
    }
    if (!(data.get("result") instanceof List<?> result)) {
      return out;
    }
    for (Object o : result) {
      Map<String, Object> series = (Map<String, Object>) o;
      Map<String, Object> metric = (Map<String, Object>) series.get("metric");
      List<Object> value = (List<Object>) series.get("value");
      if (metric == null || value == null || value.size() < 2) {
        continue;
      }
      double v = parse(String.valueOf(value.get(1)));
      if (!Double.isNaN(v)) {
        out.put(String.valueOf(metric.getOrDefault(label, "")), v);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<Views.Result> results(Map<String, Object> data) {
    List<Views.Result> out = new ArrayList<>();
    if (!(data.get("result") instanceof List<?> list)) {
      return out;
    }
    if (String.valueOf(data.get("resultType")).equals("scalar")
        || String.valueOf(data.get("resultType")).equals("string")) {
      out.add(new Views.Result("", String.valueOf(list.size() > 1 ? list.get(1) : "")));
      return out;
    }
    for (Object o : list) {
      if (out.size() >= 500) {
        break;
      }
      Map<String, Object> series = (Map<String, Object>) o;
      Map<String, Object> metric = (Map<String, Object>) series.getOrDefault("metric", Map.of());
      List<Object> value = (List<Object>) series.get("value");
      String name = String.valueOf(metric.getOrDefault("__name__", ""));
      List<String> labels = new ArrayList<>();
      metric.forEach(
          (k, v) -> {
            if (!k.equals("__name__")) {
              labels.add(k + "=\"" + v + "\"");
            }
          });
      out.add(
          new Views.Result(
              name + "{" + String.join(", ", labels) + "}",
              value == null || value.size() < 2 ? "" : String.valueOf(value.get(1))));
    }
    return out;
  }

  private static double parse(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static List<Views.Figure> figures(Object node) {
    List<Views.Figure> out = new ArrayList<>();
    if (node instanceof Map<?, ?> m) {
      m.forEach(
          (k, v) -> {
            if (k.equals("services")) {
              return;
            }
            String value =
                v instanceof Map<?, ?> inner
                    ? inner.entrySet().stream()
                        .map(e -> e.getKey() + " " + show(e.getValue()))
                        .reduce((a, b) -> a + ", " + b)
                        .orElse("–")
                    : show(v);
            out.add(new Views.Figure(String.valueOf(k).replace('_', ' '), value));
          });
    }
    return out;
  }

  private static String show(Object v) {
    if (v == null) {
      return "–";
    }
    if (v instanceof Double d) {
      return Fmt.num(d, 4);
    }
    return String.valueOf(v);
  }

  private static List<String> strings(Object o) {
    List<String> out = new ArrayList<>();
    if (o instanceof List<?> l) {
      l.forEach(x -> out.add(String.valueOf(x)));
    }
    return out;
  }

  /** A PromQL string literal's content. */
  static String quote(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static ApiException notFound(String what, Wire.Status st) {
    return new ApiException(
        404,
        new Wire.Error(
            what,
            "services: "
                + String.join(", ", st.services().stream().map(Wire.Service::name).toList()),
            List.of()));
  }

  private static <T> T orNull(java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (ApiException e) {
      if (e.status() == 401 || e.status() == 0) {
        throw e;
      }
      return null;
    }
  }

  private static <T> List<T> orEmpty(java.util.function.Supplier<List<T>> read) {
    List<T> l = orNull(read);
    return l == null ? List.of() : l;
  }
}
