package dev.pilothouse.core.deploy;

import static java.util.Objects.requireNonNull;

import dev.pilothouse.core.event.EventSink;
import dev.pilothouse.core.event.NewEvent;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.rollout.RolloutController;
import dev.pilothouse.core.scaling.ScaleRepository;
import dev.pilothouse.core.scaling.ScaleState;
import dev.pilothouse.core.spec.ExperimentSpec;
import dev.pilothouse.core.spec.RegionSpec;
import dev.pilothouse.core.spec.Revision;
import dev.pilothouse.core.spec.Revisions;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Spec;
import dev.pilothouse.core.spec.SpecDiff;
import dev.pilothouse.core.spec.Strategy;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Deploy orchestration: apply, deploy, scale, undo and restart as revisions of the desired state;
 * pre-flight checks, freeze windows and backups before a new version; the effective desired state
 * the instance controller runs. It starts rollouts, and learns how they ended from the stored
 * rollouts on each {@link #tick}: a rolled-back rollout returns its service to the stable spec as a
 * new revision, a promoted one lets the new version through. The rollout controller never calls
 * back, so each controller keeps its own lock.
 */
public final class Deployments {
  private final Revisions revisions;
  private final Workloads controller;
  private final RolloutController rollouts;
  private final EventSink events;
  private final InstantSource clock;
  private final Preflight preflight;
  private final Backups backups;
  private final ScaleRepository scales;
  private final Object lock = new Object();
  private volatile Spec current;
  private volatile long revision;
  private Spec applied;

  /**
   * What a deploy carries besides the spec.
   *
   * @param commit the commit deployed, empty if unknown
   * @param commitTime when it was committed (ISO 8601), empty if unknown; DORA's lead time
   * @param ignoreFreeze deploy even inside a freeze window (an emergency fix)
   */
  public record Options(String commit, String commitTime, boolean ignoreFreeze) {
    public static final Options NONE = new Options("", "", false);

    public Options {
      commit = commit == null ? "" : commit;
      commitTime = commitTime == null ? "" : commitTime;
      if (!commitTime.isEmpty()) {
        try {
          commitTime = java.time.OffsetDateTime.parse(commitTime).toInstant().toString();
        } catch (java.time.format.DateTimeParseException e) {
          throw new DeployException(
              DeployException.Kind.INVALID,
              "invalid commit time '" + commitTime + "'",
              "give an ISO 8601 time with offset, e.g. 2026-11-26T09:30:00Z (git log -1"
                  + " --format=%cI)");
        }
      }
    }

    Map<String, String> labels() {
      Map<String, String> m = new HashMap<>();
      if (!commit.isEmpty()) {
        m.put("commit", commit);
      }
      if (!commitTime.isEmpty()) {
        m.put("commit_time", commitTime);
      }
      return m;
    }
  }

  /** The outcome of a change: the revision in force and what changed (empty: nothing). */
  public record Applied(long revision, boolean changed, List<String> changes) {}

  /** One revision that changed a service. */
  public record HistoryEntry(
      long revision, Instant at, String source, String version, List<String> changes) {}

  public Deployments(
      Revisions revisions,
      Workloads controller,
      RolloutController rollouts,
      EventSink events,
      InstantSource clock,
      Preflight preflight,
      Backups backups) {
    this(revisions, controller, rollouts, events, clock, preflight, backups, ScaleRepository.NONE);
  }

  /**
   * Deployments whose autoscaled services run the instance counts scales holds (the autoscaler's
   * decisions) in place of their declared replicas.
   */
  public Deployments(
      Revisions revisions,
      Workloads controller,
      RolloutController rollouts,
      EventSink events,
      InstantSource clock,
      Preflight preflight,
      Backups backups,
      ScaleRepository scales) {
    this.scales = requireNonNull(scales, "scales");
    this.revisions = requireNonNull(revisions, "revisions");
    this.controller = requireNonNull(controller, "controller");
    this.rollouts = requireNonNull(rollouts, "rollouts");
    this.events = requireNonNull(events, "events");
    this.clock = requireNonNull(clock, "clock");
    this.preflight = requireNonNull(preflight, "preflight");
    this.backups = requireNonNull(backups, "backups");
    Optional<Revision> latest = revisions.latest();
    this.current = latest.map(Revision::spec).orElse(Spec.empty());
    this.revision = latest.map(Revision::number).orElse(0L);
  }

  /** The number of the revision now in force, 0 before the first apply. */
  public long revision() {
    return revision;
  }

  /** The desired state now in force. */
  public Spec current() {
    return current;
  }

  /**
   * Follows the rollouts' outcomes: returns rolled-back services to their stable spec (a new
   * revision), and hands the instance controller the effective desired state when it changed. Call
   * on every reconcile tick, after the rollout controller's.
   */
  public void tick() {
    synchronized (lock) {
      List<Rollout> all = rollouts.all();
      for (Rollout r : all) {
        if (awaitsRevert(r)) {
          revert(r);
        }
      }
      Spec effective = effective(current, all);
      if (!effective.equals(applied)) {
        applied = effective;
        controller.apply(effective);
      }
    }
  }

  /**
   * A rollout that was rolled back while the desired state still holds its new version (the revert
   * was not stored yet: it happens on the next tick, also after a crash).
   */
  private boolean awaitsRevert(Rollout r) {
    if (r.phase() != Rollout.Phase.ROLLED_BACK) {
      return false;
    }
    Optional<ServiceSpec> now = current.service(r.service());
    Optional<ServiceSpec> after = r.after().service(r.service());
    // The rollout ran at the autoscaler's count; the desired state declares its own.
    return now.isPresent()
        && after.isPresent()
        && now.get().withReplicas(0).equals(after.get().withReplicas(0));
  }

  private void revert(Rollout r) {
    ServiceSpec stable = r.before().service(r.service()).orElseThrow();
    if (stable.autoscale() != null) {
      // The rollout ran with the autoscaler's count; the revision keeps the declared one.
      stable = stable.withReplicas(current.service(r.service()).orElseThrow().replicas());
    }
    Spec reverted = current.with(stable);
    Revision rev = revisions.append(reverted, "rollback of " + r.service());
    current = reverted;
    revision = rev.number();
    events.emit(
        new NewEvent(
            clock.instant(),
            "SpecApplied",
            r.service(),
            "",
            "applied revision " + rev.number() + ": " + r.service() + " back to its stable version",
            Map.of("revision", Long.toString(rev.number()))));
  }

  /**
   * What the instance controller runs: the desired state, except that a service with a rollout
   * under way (or rolled back, until its revert is stored) keeps its stable spec; the new version
   * runs as the rollout's canary. Experiments' variants run as services of their own.
   */
  private Spec effective(Spec desired, List<Rollout> all) {
    Spec out = desired.withVariants();
    for (Rollout r : all) {
      boolean keepStable =
          r.holdsStable() || (awaitsRevert(r) && r.plan() instanceof Strategy.Progressive);
      if (keepStable && out.service(r.service()).isPresent()) {
        ServiceSpec stable = r.before().service(r.service()).orElseThrow();
        out = out.with(stable);
        if (r.holdsStable() && r.plan() instanceof Strategy.Canary c && c.baseline()) {
          out = withService(out, baseline(stable, RolloutController.canarySize(r, c, r.weight())));
        }
      }
    }
    return scaled(out);
  }

  /**
   * The spec with each autoscaled service at the count its autoscaler chose (its declared replicas
   * before the first decision), held within its min and max.
   */
  private Spec scaled(Spec spec) {
    Map<String, ScaleState> chosen = scales.scales();
    Spec out = spec;
    for (ServiceSpec s : spec.services()) {
      if (s.autoscale() == null) {
        continue;
      }
      ScaleState st = chosen.get(s.name());
      int n = s.autoscale().clamp(st == null ? s.replicas() : st.replicas());
      if (n != s.replicas()) {
        out = out.with(s.withReplicas(n));
      }
    }
    return out;
  }

  /**
   * A canary's baseline: fresh instances of the stable spec, as a service of their own (unrouted;
   * the rollout's split sends them as much traffic as the canary).
   */
  private static ServiceSpec baseline(ServiceSpec stable, int replicas) {
    return stable.companion(
        RolloutController.baselineOf(stable.name()), stable.version(), stable.env(), replicas);
  }

  private static Spec withService(Spec spec, ServiceSpec extra) {
    List<ServiceSpec> all = new java.util.ArrayList<>(spec.services());
    all.removeIf(s -> s.name().equals(extra.name()));
    all.add(extra);
    return new Spec(
        spec.proxy(),
        all,
        spec.notifications(),
        spec.metrics(),
        spec.flags(),
        spec.experiments(),
        spec.alerting(),
        spec.backup(),
        spec.secrets(),
        spec.cost(),
        spec.chaos());
  }

  /** Applies a new desired state; returns its revision and what changed. */
  public Applied apply(Spec spec, String source) {
    return apply(spec, source, Options.NONE);
  }

  /**
   * Applies a new desired state. Every service whose launch template changes is deployed with its
   * strategy, after its pre-flight checks passed and its backup was taken; nothing is applied when
   * any of them fails.
   */
  public Applied apply(Spec spec, String source, Options opts) {
    return apply(spec, source, opts, -1);
  }

  /**
   * Applies spec. basedOn is the revision spec was derived from (scale, deploy, undo), or -1 for a
   * whole desired state; a derived spec whose revision was superseded meanwhile is refused. The
   * checks and the backup (which may run a long hook) run outside the lock; the revision is checked
   * again before anything is applied.
   */
  private Applied apply(Spec spec, String source, Options opts, long basedOn) {
    Spec before;
    long at;
    List<String> changes;
    List<ServiceSpec> deploys = new ArrayList<>();
    synchronized (lock) {
      before = current;
      at = revision;
      if (basedOn >= 0 && basedOn != at) {
        throw superseded();
      }
      changes = SpecDiff.between(before, spec);
      if (changes.isEmpty() && revision > 0) {
        return new Applied(revision, false, List.of());
      }
      for (ServiceSpec s : spec.services()) {
        var old = before.service(s.name());
        boolean templateChanged = old.isPresent() && !old.get().template().equals(s.template());
        if (templateChanged && underWay(s.name())) {
          throw new DeployException(
              DeployException.Kind.CONFLICT,
              "a rollout of " + s.name() + " is under way",
              "promote or abort it first: 'pilothouse rollout promote|abort " + s.name() + "'");
        }
        if (templateChanged) {
          deploys.add(s);
        }
      }
    }
    for (ServiceSpec s : deploys) {
      preflight(spec, s, opts);
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
      for (ServiceSpec s : deploys) {
        // Both sides at the running count: a canary's share is of the instances that serve.
        rollouts.start(
            s.name(),
            scaled(spec.with(before.service(s.name()).orElseThrow())),
            scaled(spec),
            s.plan(),
            opts.labels());
      }
      applied = effective(spec, rollouts.all());
      controller.apply(applied);
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
      return new Applied(r.number(), true, changes);
    }
  }

  private boolean underWay(String service) {
    return rollouts.status(service).map(r -> !r.phase().done()).orElse(false);
  }

  private static DeployException superseded() {
    return new DeployException(
        DeployException.Kind.CONFLICT,
        "the desired state changed while this change was being prepared",
        "nothing was applied; look at 'pilothouse history' and try again");
  }

  private void preflight(Spec spec, ServiceSpec s, Options opts) {
    List<Preflight.Result> results = preflight.check(spec, s, clock.instant(), opts.ignoreFreeze());
    if (results.isEmpty()) {
      return;
    }
    List<Preflight.Result> failed = results.stream().filter(x -> !x.passed()).toList();
    String summary =
        (failed.isEmpty() ? results : failed)
            .stream().map(x -> x.check() + ": " + x.message()).collect(Collectors.joining("; "));
    Map<String, String> fields = new HashMap<>();
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
      throw new DeployException(
          DeployException.Kind.CONFLICT,
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
    Backups.Result b = backups.run(previous, next, nextRevision, clock.instant());
    if (b == null) {
      return;
    }
    Map<String, String> fields = new HashMap<>();
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
      throw new DeployException(
          DeployException.Kind.CONFLICT,
          "backup before deploying " + next.name() + " failed: " + b.message(),
          "nothing was applied; the previous version keeps running");
    }
  }

  /** The desired state in force and its revision, read together. */
  private record InForce(Spec spec, long revision) {}

  private InForce inForce() {
    synchronized (lock) {
      return new InForce(current, revision);
    }
  }

  /**
   * Moves all of region from's traffic to region to (or, with to empty, to the other regions in
   * proportion to their weights) as a new revision: the built-in load balancer's next route table
   * sends from nothing. Its services keep running there.
   */
  public Applied failover(String from, String to) {
    InForce f = inForce();
    List<RegionSpec> regions = f.spec().regions();
    RegionSpec source = region(f.spec(), from);
    if (to != null && !to.isEmpty() && (region(f.spec(), to).name().equals(from))) {
      throw new DeployException(
          DeployException.Kind.INVALID,
          "cannot fail region " + from + " over to itself",
          "name another region with --to");
    }
    List<RegionSpec> others =
        regions.stream()
            .filter(r -> !r.name().equals(from))
            .filter(r -> to == null || to.isEmpty() || r.name().equals(to))
            .toList();
    if (others.isEmpty()) {
      throw new DeployException(
          DeployException.Kind.INVALID,
          "region " + from + " is the only region: there is nowhere to move its traffic",
          "declare another region under 'regions:' and apply the spec");
    }
    int moved = source.weight();
    int sum = others.stream().mapToInt(RegionSpec::weight).sum();
    Map<String, Integer> next = new java.util.LinkedHashMap<>();
    int given = 0;
    for (int i = 0; i < others.size(); i++) {
      RegionSpec r = others.get(i);
      int share =
          i == others.size() - 1
              ? moved - given // the rest, so that nothing of the moved weight is lost
              : sum == 0 ? moved / others.size() : (int) ((long) moved * r.weight() / sum);
      given += share;
      next.put(r.name(), Math.min(100, r.weight() + share));
    }
    next.put(from, 0);
    return regionWeights(
        next, "region failover " + from + (to == null || to.isEmpty() ? "" : " to " + to));
  }

  /** Sets regions' traffic weights (0–100) as a new revision; the others keep theirs. */
  public Applied regionWeights(Map<String, Integer> weights, String reason) {
    InForce f = inForce();
    for (Map.Entry<String, Integer> e : weights.entrySet()) {
      region(f.spec(), e.getKey());
      if (e.getValue() == null || e.getValue() < 0 || e.getValue() > 100) {
        throw new DeployException(
            DeployException.Kind.INVALID,
            "the weight of region " + e.getKey() + " must be 0–100, but is " + e.getValue(),
            "give a weight from 0 (no traffic) to 100");
      }
    }
    List<RegionSpec> next =
        f.spec().regions().stream()
            .map(r -> weights.containsKey(r.name()) ? r.withWeight(weights.get(r.name())) : r)
            .toList();
    if (next.stream().allMatch(r -> r.weight() == 0)) {
      throw new DeployException(
          DeployException.Kind.INVALID,
          "every region would get no traffic",
          "leave at least one region a weight above 0");
    }
    return apply(f.spec().withRegions(next), reason, Options.NONE, f.revision());
  }

  private static RegionSpec region(Spec spec, String name) {
    return spec.region(name)
        .orElseThrow(
            () ->
                new DeployException(
                    DeployException.Kind.NOT_FOUND,
                    "no region named '" + name + "'",
                    spec.regions().isEmpty()
                        ? "the spec declares no regions"
                        : "known regions: "
                            + String.join(
                                ", ", spec.regions().stream().map(RegionSpec::name).toList())));
  }

  /** Sets a service's replica count as a new revision. */
  public Applied scale(String service, int replicas) {
    if (replicas < 0 || replicas > 1000) {
      throw new DeployException(
          DeployException.Kind.INVALID,
          "replicas must be between 0 and 1000, but was " + replicas,
          "give a count from 0 to 1000");
    }
    InForce f = inForce();
    ServiceSpec s = f.spec().service(service).orElseThrow(() -> notFound(service, f.spec()));
    if (s.autoscale() != null) {
      throw new DeployException(
          DeployException.Kind.CONFLICT,
          service
              + " is autoscaled between "
              + s.autoscale().min()
              + " and "
              + s.autoscale().max()
              + " instances; its count is the autoscaler's",
          "change services."
              + service
              + ".autoscale.min/max in the spec and apply it, or remove autoscale; 'pilothouse"
              + " scale explain "
              + service
              + "' shows why it runs the count it does");
    }
    return apply(
        f.spec().with(s.withReplicas(replicas)),
        "scale " + service + " " + replicas,
        Options.NONE,
        f.revision());
  }

  /** Deploys a new version (and environment changes) of a service as a new revision. */
  public Applied deploy(String service, String version, Map<String, String> env, Options opts) {
    return deploy(service, version, env, "", opts);
  }

  /**
   * Deploys a new version (and environment changes) of a service as a new revision; a non-empty
   * image replaces the container image (the Kubernetes runtime).
   */
  public Applied deploy(
      String service, String version, Map<String, String> env, String image, Options opts) {
    if (version == null || version.isBlank()) {
      throw new DeployException(
          DeployException.Kind.INVALID, "a deploy needs a version", "pass --version V");
    }
    InForce f = inForce();
    ServiceSpec s = f.spec().service(service).orElseThrow(() -> notFound(service, f.spec()));
    Map<String, String> merged = new TreeMap<>(s.env());
    if (env != null) {
      merged.putAll(env);
    }
    ServiceSpec next = s.withRelease(version, merged);
    if (image != null && !image.isEmpty()) {
      if (!f.spec().runtime().kubernetes()) {
        throw new DeployException(
            DeployException.Kind.INVALID,
            "--image applies to services on the kubernetes runtime; " + service + " runs locally",
            "deploy without --image (the local runtime runs the service's command)");
      }
      if (!ServiceSpec.IMAGE.matcher(image).matches()) {
        throw new DeployException(
            DeployException.Kind.INVALID,
            "'" + image + "' is not a container image reference",
            "pass e.g. --image registry.example.com/shop/web:1.4.2");
      }
      next = next.withImage(image);
    }
    return apply(f.spec().with(next), "deploy " + service + " " + version, opts, f.revision());
  }

  /**
   * Ends an experiment as a new revision without it: promoting a variant gives the tested service
   * that variant's version and environment (deployed with the service's strategy; the control
   * changes nothing), a stop (variant null) leaves the service as declared.
   */
  public Applied endExperiment(String name, String variant) {
    InForce f = inForce();
    ExperimentSpec e =
        f.spec()
            .experiment(name)
            .orElseThrow(
                () ->
                    new DeployException(
                        DeployException.Kind.NOT_FOUND,
                        "no experiment named '" + name + "' is running",
                        "see 'pilothouse experiment status'"));
    Spec next = f.spec().withoutExperiment(name);
    if (variant == null) {
      return apply(next, "stop experiment " + name, Options.NONE, f.revision());
    }
    ExperimentSpec.Variant v =
        e.variant(variant)
            .orElseThrow(
                () ->
                    new DeployException(
                        DeployException.Kind.INVALID,
                        "experiment '" + name + "' has no variant '" + variant + "'",
                        "choose one of "
                            + String.join(
                                ", ",
                                e.variants().stream().map(ExperimentSpec.Variant::name).toList())));
    if (!v.control()) {
      Spec without = next;
      ServiceSpec s =
          without.service(e.service()).orElseThrow(() -> notFound(e.service(), without));
      Map<String, String> env = new TreeMap<>(s.env());
      env.putAll(v.env());
      next = next.with(s.withRelease(v.version(), env));
    }
    return apply(next, "promote " + variant + " of experiment " + name, Options.NONE, f.revision());
  }

  /** Revisions in which the service's spec changed, oldest first. */
  public List<HistoryEntry> history(String service) {
    return history(service, revisions.list());
  }

  private List<HistoryEntry> history(String service, List<Revision> all) {
    List<HistoryEntry> out = new ArrayList<>();
    ServiceSpec previous = null;
    for (Revision r : all) {
      ServiceSpec s = r.spec().service(service).orElse(null);
      if (s == null || s.equals(previous)) {
        previous = s;
        continue;
      }
      out.add(
          new HistoryEntry(
              r.number(),
              r.at(),
              r.source(),
              s.version(),
              previous == null
                  ? List.of("+ services." + service)
                  : SpecDiff.between(new Spec(List.of(previous)), new Spec(List.of(s)))));
      previous = s;
    }
    if (out.isEmpty()) {
      throw notFound(service, current);
    }
    return out;
  }

  /**
   * Returns a service to the spec it had at revision toRevision, or (0) at the revision before its
   * current spec, as a new revision. An undo is a rollback: it aborts a deploy under way, and
   * freeze windows do not hold it back.
   */
  public Applied undo(String service, long toRevision) {
    Spec undone;
    long at;
    String source;
    synchronized (lock) {
      List<Revision> all = revisions.list();
      List<HistoryEntry> h = history(service, all);
      long target;
      if (toRevision > 0) {
        target = toRevision;
      } else if (h.size() >= 2) {
        target = h.get(h.size() - 2).revision();
      } else {
        throw new DeployException(
            DeployException.Kind.CONFLICT,
            service + " has no earlier revision to go back to",
            "see 'pilothouse history " + service + "'");
      }
      ServiceSpec old =
          all.stream()
              .filter(r -> r.number() == target)
              .findFirst()
              .orElseThrow(
                  () ->
                      new DeployException(
                          DeployException.Kind.NOT_FOUND,
                          "no revision " + target,
                          "see 'pilothouse history " + service + "'"))
              .spec()
              .service(service)
              .orElseThrow(
                  () ->
                      new DeployException(
                          DeployException.Kind.CONFLICT,
                          service + " did not exist in revision " + target,
                          "pick another revision"));
      if (underWay(service)) {
        rollouts.abort(service);
      }
      undone = current.with(old);
      at = revision;
      source = "undo " + service + " to revision " + target;
    }
    return apply(undone, source, new Options("", "", true), at);
  }

  /** Starts a rolling restart of a service. */
  public void restart(String service) {
    Spec now = current;
    if (now.service(service).isEmpty()) {
      throw notFound(service, now);
    }
    controller.restart(service);
  }

  /** The refusal for an unknown service, naming the known ones. */
  public static DeployException notFound(String service, Spec spec) {
    List<String> names = spec.services().stream().map(ServiceSpec::name).toList();
    return new DeployException(
        DeployException.Kind.NOT_FOUND,
        "no service named '" + service + "'",
        names.isEmpty() ? "apply a spec first" : "known services: " + String.join(", ", names));
  }
}
