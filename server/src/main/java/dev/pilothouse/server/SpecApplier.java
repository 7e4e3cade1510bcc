package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.spec.Revision;
import dev.pilothouse.core.spec.Revisions;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.SpecDiff;
import dev.pilothouse.spec.ParsedSpec;
import dev.pilothouse.spec.SpecError;
import dev.pilothouse.spec.SpecParser;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;

/** Validates specs, stores revisions and hands the newest to the controller. */
final class SpecApplier {
  private final Revisions revisions;
  private final InstanceController controller;
  private final EventSink events;
  private final InstantSource clock;
  private volatile Spec current;

  SpecApplier(
      Revisions revisions, InstanceController controller, EventSink events, InstantSource clock) {
    this.revisions = revisions;
    this.controller = controller;
    this.events = events;
    this.clock = clock;
    this.current = revisions.latest().map(Revision::spec).orElse(Spec.empty());
  }

  /** The desired state now in force. */
  Spec current() {
    return current;
  }

  /** Parses the request's spec; throws a 422 naming every problem when it is invalid. */
  static Spec parse(Wire.ApplyRequest req) {
    if (req.yaml() == null || req.file() == null) {
      throw new ApiError(
          400, "the request needs 'file' and 'yaml'", "send the spec file's name and text");
    }
    Path base = Path.of(req.baseDir() == null ? "." : req.baseDir());
    ParsedSpec parsed =
        SpecParser.parse(req.file(), req.yaml(), base, req.vars() == null ? Map.of() : req.vars());
    if (!parsed.valid()) {
      List<Wire.Problem> problems = parsed.errors().stream().map(SpecApplier::wire).toList();
      throw new ApiError(
          422,
          req.file() + " has " + problems.size() + " problem" + (problems.size() == 1 ? "" : "s"),
          "fix them and apply again; nothing was applied",
          problems);
    }
    return parsed.spec().orElseThrow();
  }

  private static Wire.Problem wire(SpecError e) {
    return new Wire.Problem(e.file(), e.line(), e.column(), e.path(), e.message(), e.hint());
  }

  /** Applies a new desired state; returns its revision and what changed. */
  synchronized Wire.ApplyResponse apply(Spec spec, String source) {
    Spec before = revisions.latest().map(Revision::spec).orElse(Spec.empty());
    List<String> changes = SpecDiff.between(before, spec);
    if (changes.isEmpty() && revisions.latest().isPresent()) {
      return new Wire.ApplyResponse(revisions.latest().get().number(), false, List.of());
    }
    Revision r = revisions.append(spec, source);
    controller.apply(spec);
    current = spec;
    events.emit(
        new NewEvent(
            clock.instant(),
            "SpecApplied",
            "",
            "",
            "applied revision " + r.number() + " from " + source,
            Map.of(
                "revision",
                Long.toString(r.number()),
                "changes",
                Integer.toString(changes.size()))));
    return new Wire.ApplyResponse(r.number(), true, changes);
  }

  /** Sets a service's replica count as a new revision. */
  synchronized Wire.ApplyResponse scale(String service, int replicas) {
    if (replicas < 0 || replicas > 1000) {
      throw new ApiError(
          400,
          "replicas must be between 0 and 1000, but was " + replicas,
          "give a count from 0 to 1000");
    }
    Spec current = revisions.latest().map(Revision::spec).orElse(Spec.empty());
    ServiceSpec s = current.service(service).orElseThrow(() -> notFound(service, current));
    return apply(current.with(s.withReplicas(replicas)), "scale " + service + " " + replicas);
  }

  /** Starts a rolling restart of a service. */
  void restart(String service) {
    Spec current = revisions.latest().map(Revision::spec).orElse(Spec.empty());
    if (current.service(service).isEmpty()) {
      throw notFound(service, current);
    }
    controller.restart(service);
  }

  static ApiError notFound(String service, Spec spec) {
    List<String> names = spec.services().stream().map(ServiceSpec::name).toList();
    return new ApiError(
        404,
        "no service named '" + service + "'",
        names.isEmpty() ? "apply a spec first" : "known services: " + String.join(", ", names));
  }
}
