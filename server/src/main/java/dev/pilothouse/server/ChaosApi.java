package dev.pilothouse.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pilothouse.chaos.Chaos;
import dev.pilothouse.chaos.ChaosException;
import dev.pilothouse.client.Wire;
import dev.pilothouse.core.chaos.ChaosRun;
import dev.pilothouse.spec.ChaosReader;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps chaos to HTTP: {@code POST /api/v1/chaos/runs} (an experiment file's text), {@code GET
 * /api/v1/chaos/runs}, {@code GET /api/v1/chaos/runs/{id}} (JSON, or Markdown with {@code
 * format=md}) and {@code POST /api/v1/chaos/runs/{id}/abort} (docs/chaos.md).
 */
final class ChaosApi {
  private static final ObjectMapper JSON = dev.pilothouse.store.SpecJson.builder().build();
  private final Chaos chaos;

  ChaosApi(Chaos chaos) {
    this.chaos = chaos;
  }

  record RunRequest(String file, String yaml, Boolean dryRun) {}

  void start(Context ctx) {
    RunRequest b = Api.body(ctx, RunRequest.class);
    if (b.file() == null || b.yaml() == null) {
      throw new ApiError(
          400, "the request needs 'file' and 'yaml'", "send the experiment file's name and text");
    }
    if (b.file().length() > 1024) {
      throw new ApiError(400, "file: longer than 1024 characters", "send the file's name");
    }
    ChaosReader.Parsed parsed =
        ChaosReader.read(b.file(), b.yaml(), dev.pilothouse.tsdb.promql.Parser::problem);
    if (parsed.experiment().isEmpty()) {
      List<Wire.Problem> problems = parsed.errors().stream().map(SpecRequests::wire).toList();
      throw new ApiError(
          422,
          b.file() + " has " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s"),
          "fix them and run again; nothing was injected",
          problems);
    }
    try {
      ChaosRun run =
          chaos.start(
              parsed.experiment().get(), b.file(), b.yaml(), Boolean.TRUE.equals(b.dryRun()));
      ctx.status(201);
      json(ctx, run);
    } catch (ChaosException e) {
      throw new ApiError(
          e.getMessage().contains("under way") ? 409 : 400, e.getMessage(), e.hint());
    }
  }

  void list(Context ctx) {
    String experiment = ctx.queryParam("experiment");
    List<Map<String, Object>> out =
        chaos.runs().stream()
            .filter(r -> experiment == null || r.experiment().equals(experiment))
            .limit(Api.limit(ctx, 100, Chaos.MAX_KEPT))
            .map(ChaosApi::summary)
            .toList();
    json(ctx, Map.of("runs", out));
  }

  static Map<String, Object> summary(ChaosRun r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("experiment", r.experiment());
    m.put("file", r.file());
    m.put("service", r.service());
    m.put("dryRun", r.dryRun());
    m.put("state", r.state().name().toLowerCase(java.util.Locale.ROOT));
    m.put("startedAt", r.startedAt().toString());
    m.put("endedAt", r.endedAt() == null ? null : r.endedAt().toString());
    m.put("verdict", r.outcome() == null ? null : r.outcome().verdict());
    m.put("score", r.outcome() == null ? null : r.outcome().score());
    m.put("recoverySeconds", r.outcome() == null ? null : r.outcome().recoverySeconds());
    return m;
  }

  void get(Context ctx) {
    ChaosRun r = run(ctx.pathParam("id"));
    if ("md".equals(ctx.queryParam("format"))) {
      ctx.contentType("text/markdown; charset=utf-8").result(Chaos.markdown(r));
      return;
    }
    json(ctx, r);
  }

  void abort(Context ctx) {
    String id = ctx.pathParam("id");
    run(id);
    try {
      json(ctx, chaos.abort(id));
    } catch (ChaosException e) {
      throw new ApiError(409, e.getMessage(), e.hint());
    }
  }

  void status(Context ctx) {
    json(ctx, chaos.status());
  }

  record DisableRequest(String reason) {}

  void disable(Context ctx) {
    DisableRequest b =
        ctx.body().isBlank() ? new DisableRequest(null) : Api.body(ctx, DisableRequest.class);
    String reason = b.reason() == null || b.reason().isBlank() ? "no reason given" : b.reason();
    if (reason.length() > 500) {
      throw new ApiError(400, "reason: longer than 500 characters", "say it in a sentence");
    }
    chaos.disable(reason);
    json(ctx, chaos.status());
  }

  void enable(Context ctx) {
    chaos.enable();
    json(ctx, chaos.status());
  }

  private ChaosRun run(String id) {
    if (!id.matches("[0-9a-f-]{1,40}")) {
      throw new ApiError(
          404, "no chaos run '" + id + "'", "'pilothouse chaos list' shows the runs");
    }
    return chaos
        .run(id)
        .orElseThrow(
            () ->
                new ApiError(
                    404, "no chaos run '" + id + "'", "'pilothouse chaos list' shows the runs"));
  }

  private static void json(Context ctx, Object o) {
    try {
      ctx.contentType("application/json").result(JSON.writeValueAsString(o));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
