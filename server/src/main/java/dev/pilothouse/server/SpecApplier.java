package dev.pilothouse.server;

import dev.pilothouse.client.Wire;
import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.InstanceController;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.rollout.RolloutController;
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
import java.util.Optional;

/** Validates specs, stores revisions and hands the newest to the controller. */
final class SpecApplier {
  private final Revisions revisions;
  private final InstanceController controller;
  private final EventSink events;
  private final InstantSource clock;
  private volatile Spec current;
  private volatile long revision;
  private RolloutController rollouts;

  /**
   * The one lock of the applier and the rollout controller (their calls go both ways): this
   * applier's monitor until the controller is connected, then the controller's.
   */
  private volatile Object lock = this;

  private Preflight preflight;
  private Backups backups;

  /**
   * What a deploy carries besides the spec.
   *
   * @param commit the commit deployed, empty if unknown
   * @param commitTime when it was committed (ISO 8601), empty if unknown; DORA's lead time
   * @param ignoreFreeze deploy even inside a freeze window (an emergency fix)
   */
  record DeployOptions(String commit, String commitTime, boolean ignoreFreeze) {
    static final DeployOptions NONE = new DeployOptions("", "", false);

    DeployOptions {
      commit = commit == null ? "" : commit;
      commitTime = commitTime == null ? "" : commitTime;
      if (!commitTime.isEmpty()) {
        try {
          commitTime = java.time.OffsetDateTime.parse(commitTime).toInstant().toString();
        } catch (java.time.format.DateTimeParseException e) {
          throw new ApiError(
              400,
              "invalid commit time '" + commitTime + "'",
              "give an ISO 8601 time with offset, e.g. 2026-11-26T09:30:00Z (git log -1"
                  + " --format=%cI)");
        }
      }
    }

    Map<String, String> labels() {
      Map<String, String> m = new java.util.HashMap<>();
      if (!commit.isEmpty()) {
        m.put("commit", commit);
      }
      if (!commitTime.isEmpty()) {
        m.put("commit_time", commitTime);
      }
      return m;
    }
  }

  SpecApplier(
      Revisions revisions, InstanceController controller, EventSink events, InstantSource clock) {
    this.revisions = revisions;
    this.controller = controller;
    this.events = events;
    this.clock = clock;
    Optional<Revision> latest = revisions.latest();
    this.current = latest.map(Revision::spec).orElse(Spec.empty());
    this.revision = latest.map(Revision::number).orElse(0L);
  }

  /** The number of the revision now in force, 0 before the first apply. */
  long revision() {
    return revision;
  }

  /** Connects the pre-flight checks and the backup run before each deploy. */
  void setDeployChecks(Preflight preflight, Backups backups) {
    this.preflight = preflight;
    this.backups = backups;
  }

  /** Connects the rollout controller (it needs this applier first). */
  void setRollouts(RolloutController rollouts) {
    this.rollouts = rollouts;
    this.lock = rollouts;
  }

  /**
   * What the instance controller runs: the desired state, except that a service with a rollout
   * under way keeps its stable spec (the new version runs as the rollout's canary).
   */
  Spec effective(Spec desired) {
    synchronized (lock) {
      Spec out = desired;
      if (rollouts == null) {
        return out;
      }
      for (Rollout r : rollouts.all()) {
        if (r.holdsStable() && out.service(r.service()).isPresent()) {
          out = out.with(r.before().service(r.service()).orElseThrow());
        }
      }
      return out;
    }
  }

  /** Hands the instance controller the effective desired state again. */
  void reconcile() {
    synchronized (lock) {
      controller.apply(effective(current));
    }
  }

  /** A rolled-back service returns to its stable spec, as a new revision. */
  void revert(String service, ServiceSpec stable) {
    synchronized (lock) {
      Spec reverted = current.with(stable);
      Revision r = revisions.append(reverted, "rollback of " + service);
      current = reverted;
      revision = r.number();
      controller.apply(effective(reverted));
      events.emit(
          new NewEvent(
              clock.instant(),
              "SpecApplied",
              service,
              "",
              "applied revision " + r.number() + ": " + service + " back to its stable version",
              Map.of("revision", Long.toString(r.number()))));
    }
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
        SpecParser.parse(
            req.file(),
            req.yaml(),
            base,
            req.vars() == null ? Map.of() : req.vars(),
            dev.pilothouse.tsdb.promql.Parser::problem);
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
  Wire.ApplyResponse apply(Spec spec, String source) {
    return apply(spec, source, DeployOptions.NONE);
  }

  /**
   * Applies a new desired state. Every service whose launch template changes is deployed with its
   * strategy, after its pre-flight checks passed and its backup was taken; nothing is applied when
   * any of them fails.
   */
  Wire.ApplyResponse apply(Spec spec, String source, DeployOptions opts) {
    return apply(spec, source, opts, -1);
  }

  /**
   * Applies spec. basedOn is the revision spec was derived from (scale, deploy, undo), or -1 for a
   * whole desired state; a derived spec whose revision was superseded meanwhile is refused. The
   * checks and the backup (which may run a long hook) run outside the lock, so rollouts of other
   * services keep going; the revision is checked again before anything is applied.
   */
  private Wire.ApplyResponse apply(Spec spec, String source, DeployOptions opts, long basedOn) {
    Spec before;
    long at;
    List<String> changes;
    List<ServiceSpec> deploys = new java.util.ArrayList<>();
    synchronized (lock) {
      before = current;
      at = revision;
      if (basedOn >= 0 && basedOn != at) {
        throw superseded();
      }
      changes = SpecDiff.between(before, spec);
      if (changes.isEmpty() && revision > 0) {
        return new Wire.ApplyResponse(revision, false, List.of());
      }
      for (ServiceSpec s : spec.services()) {
        var old = before.service(s.name());
        boolean templateChanged = old.isPresent() && !old.get().template().equals(s.template());
        if (templateChanged && underWay(s.name())) {
          throw new ApiError(
              409,
              "a rollout of " + s.name() + " is under way",
              "promote or abort it first: 'pilothouse rollout promote|abort " + s.name() + "'");
        }
        if (templateChanged && rollouts != null) {
          deploys.add(s);
        }
      }
    }
    for (ServiceSpec s : deploys) {
      preflight(s, opts);
    }
    for (ServiceSpec s : deploys) {
      backup(before.service(s.name()).orElseThrow(), s, at + 1);
    }
    synchronized (lock) {
      if (revision != at) {
        throw superseded();
      }
      for (ServiceSpec s : deploys) {
        if (underWay(s.name())) {
          throw superseded();
        }
      }
      Revision r = revisions.append(spec, source);
      current = spec;
      revision = r.number();
      Spec stableView = effective(spec);
      for (ServiceSpec s : deploys) {
        if (s.plan().kind() != dev.pilothouse.core.spec.CanarySpec.Kind.ROLLING) {
          stableView = stableView.with(before.service(s.name()).orElseThrow());
        }
      }
      controller.apply(stableView);
      for (ServiceSpec s : deploys) {
        rollouts.start(
            s.name(),
            spec.with(before.service(s.name()).orElseThrow()),
            spec,
            s.plan(),
            opts.labels());
      }
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
  }

  private boolean underWay(String service) {
    return rollouts != null && rollouts.status(service).map(r -> !r.phase().done()).orElse(false);
  }

  private static ApiError superseded() {
    return new ApiError(
        409,
        "the desired state changed while this change was being prepared",
        "nothing was applied; look at 'pilothouse history' and try again");
  }

  private void preflight(ServiceSpec s, DeployOptions opts) {
    if (preflight == null) {
      return;
    }
    List<Preflight.Result> results = preflight.check(s, clock.instant(), opts.ignoreFreeze());
    List<Preflight.Result> failed = results.stream().filter(x -> !x.passed()).toList();
    String summary =
        (failed.isEmpty() ? results : failed)
            .stream()
                .map(x -> x.check() + ": " + x.message())
                .collect(java.util.stream.Collectors.joining("; "));
    Map<String, String> fields = new java.util.HashMap<>();
    results.forEach(x -> fields.put("check_" + x.check(), x.passed() ? "passed" : "failed"));
    fields.put("version", s.version());
    if (!failed.isEmpty()) {
      events.emit(
          new NewEvent(
              clock.instant(),
              "PreflightFailed",
              s.name(),
              "",
              "deploy of " + s.version() + " refused: " + summary,
              fields));
      throw new ApiError(
          409,
          "pre-flight checks failed for " + s.name() + ": " + summary,
          "nothing was applied; fix the problems and apply again");
    }
    events.emit(
        new NewEvent(
            clock.instant(),
            "PreflightPassed",
            s.name(),
            "",
            results.size() + " pre-flight checks passed for " + s.version(),
            fields));
  }

  private void backup(ServiceSpec previous, ServiceSpec next, long nextRevision) {
    if (backups == null) {
      return;
    }
    Backups.Result b = backups.run(previous, next, nextRevision, clock.instant());
    Map<String, String> fields = new java.util.HashMap<>();
    fields.put("dir", b.dir());
    fields.put("files", Integer.toString(b.files()));
    fields.put("bytes", Long.toString(b.bytes()));
    fields.put("duration_ms", Long.toString(b.durationMs()));
    fields.put("ok", Boolean.toString(b.ok()));
    if (b.hookExit() != null) {
      fields.put("pre_deploy_exit_code", Integer.toString(b.hookExit()));
    }
    events.emit(
        new NewEvent(
            clock.instant(),
            b.ok() ? "DeployBackup" : "DeployBackupFailed",
            next.name(),
            "",
            b.message(),
            fields));
    if (!b.ok()) {
      throw new ApiError(
          409,
          "backup before deploying " + next.name() + " failed: " + b.message(),
          "nothing was applied; the previous version keeps running");
    }
  }

  /** Sets a service's replica count as a new revision. */
  Wire.ApplyResponse scale(String service, int replicas) {
    if (replicas < 0 || replicas > 1000) {
      throw new ApiError(
          400,
          "replicas must be between 0 and 1000, but was " + replicas,
          "give a count from 0 to 1000");
    }
    Spec now;
    long at;
    synchronized (lock) {
      now = current;
      at = revision;
    }
    ServiceSpec s = now.service(service).orElseThrow(() -> notFound(service, now));
    return apply(
        now.with(s.withReplicas(replicas)),
        "scale " + service + " " + replicas,
        DeployOptions.NONE,
        at);
  }

  /** Deploys a new version (and environment changes) of a service as a new revision. */
  Wire.ApplyResponse deploy(
      String service, String version, Map<String, String> env, DeployOptions opts) {
    if (version == null || version.isBlank()) {
      throw new ApiError(400, "a deploy needs a version", "pass --version V");
    }
    Spec now;
    long at;
    synchronized (lock) {
      now = current;
      at = revision;
    }
    ServiceSpec s = now.service(service).orElseThrow(() -> notFound(service, now));
    Map<String, String> merged = new java.util.TreeMap<>(s.env());
    if (env != null) {
      merged.putAll(env);
    }
    ServiceSpec next = s.withRelease(version, merged);
    return apply(now.with(next), "deploy " + service + " " + version, opts, at);
  }

  /** Revisions in which the service's spec changed, oldest first. */
  List<Map<String, Object>> history(String service) {
    return history(service, revisions.list());
  }

  private List<Map<String, Object>> history(String service, List<Revision> all) {
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    ServiceSpec previous = null;
    for (Revision r : all) {
      ServiceSpec s = r.spec().service(service).orElse(null);
      if (s == null || s.equals(previous)) {
        previous = s;
        continue;
      }
      Map<String, Object> row = new java.util.LinkedHashMap<>();
      row.put("revision", r.number());
      row.put("at", r.at().toString());
      row.put("source", r.source());
      row.put("version", s.version());
      row.put(
          "changes",
          previous == null
              ? List.of("+ services." + service)
              : SpecDiff.between(new Spec(List.of(previous)), new Spec(List.of(s))));
      out.add(row);
      previous = s;
    }
    if (out.isEmpty()) {
      throw notFound(service, current);
    }
    return out;
  }

  /**
   * Returns a service to the spec it had at revision toRevision, or (0) at the revision before its
   * current spec, as a new revision.
   */
  Wire.ApplyResponse undo(String service, long toRevision) {
    Spec undone;
    long at;
    String source;
    synchronized (lock) {
      List<Revision> all = revisions.list();
      List<Map<String, Object>> h = history(service, all);
      long target;
      if (toRevision > 0) {
        target = toRevision;
      } else if (h.size() >= 2) {
        target = (Long) h.get(h.size() - 2).get("revision");
      } else {
        throw new ApiError(
            409,
            service + " has no earlier revision to go back to",
            "see 'pilothouse history " + service + "'");
      }
      ServiceSpec old =
          all.stream()
              .filter(r -> r.number() == target)
              .findFirst()
              .orElseThrow(
                  () ->
                      new ApiError(
                          404, "no revision " + target, "see 'pilothouse history " + service + "'"))
              .spec()
              .service(service)
              .orElseThrow(
                  () ->
                      new ApiError(
                          409,
                          service + " did not exist in revision " + target,
                          "pick another revision"));
      // An undo is a rollback: it aborts a deploy under way, and freeze windows do not hold it
      // back.
      if (underWay(service)) {
        rollouts.abort(service);
      }
      undone = current.with(old);
      at = revision;
      source = "undo " + service + " to revision " + target;
    }
    return apply(undone, source, new DeployOptions("", "", true), at);
  }

  /** Starts a rolling restart of a service. */
  void restart(String service) {
    Spec now = current;
    if (now.service(service).isEmpty()) {
      throw notFound(service, now);
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
