package dev.pilothouse.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.experiment.ExperimentJson;
import dev.pilothouse.experiment.Experiments;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * Maps the experiment module to HTTP: {@code /api/v1/experiments…} (status, promote a variant,
 * stop). Promoting and stopping are revisions of the desired state, made by core's deployments.
 */
final class ExperimentsApi {
  private final Experiments experiments;
  private final Deployments deployments;

  ExperimentsApi(Experiments experiments, Deployments deployments) {
    this.experiments = experiments;
    this.deployments = deployments;
  }

  void list(Context ctx) {
    ArrayNode out = Api.JSON.createArrayNode();
    experiments.all().forEach(s -> out.add(ExperimentJson.write(s)));
    Api.send(ctx, 200, out);
  }

  void get(Context ctx) {
    String name = ctx.pathParam("name");
    Api.send(
        ctx,
        200,
        ExperimentJson.write(
            experiments
                .status(name)
                .orElseThrow(
                    () ->
                        new ApiError(
                            404,
                            "no experiment named '" + name + "'",
                            "declare it under 'experiments:' in the spec; see docs/experiments.md"))));
  }

  /** {"variant": NAME}: the tested service takes that variant's version; the experiment ends. */
  void promote(Context ctx) {
    String name = ctx.pathParam("name");
    JsonNode body;
    try {
      body = Api.JSON.readTree(ctx.bodyAsBytes());
    } catch (IOException e) {
      throw new ApiError(400, "the request body is not JSON", "send {\"variant\": \"NAME\"}");
    }
    String variant = body == null ? "" : body.path("variant").asText("");
    if (variant.isEmpty()) {
      throw new ApiError(
          400, "variant: give the variant to promote", "send {\"variant\": \"NAME\"}");
    }
    var applied = end(name, variant, "promoted " + variant);
    Api.send(
        ctx,
        200,
        Api.JSON
            .createObjectNode()
            .put("experiment", name)
            .put("promoted", variant)
            .put("revision", applied.revision()));
  }

  /** Notes the outcome first (the spec change ends it), then makes the revision. */
  private Deployments.Applied end(String name, String variant, String outcome) {
    experiments.ending(name, outcome);
    try {
      return deployments.endExperiment(name, variant);
    } catch (RuntimeException e) {
      experiments.ending(name, "");
      throw e;
    }
  }

  void stop(Context ctx) {
    String name = ctx.pathParam("name");
    var applied = end(name, null, "stopped");
    Api.send(
        ctx,
        200,
        Api.JSON
            .createObjectNode()
            .put("experiment", name)
            .put("stopped", true)
            .put("revision", applied.revision()));
  }
}
