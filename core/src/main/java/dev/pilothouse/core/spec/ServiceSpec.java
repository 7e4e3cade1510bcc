package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One declared service: how to start an instance, how many to run, how to check and restart them.
 *
 * @param workdir absolute working directory for instances
 * @param liveness null when the service declares no liveness check
 * @param readiness null when the service declares no readiness check (ready once started)
 * @param route null when the load balancer does not route to the service
 * @param strategy null for the default rolling deploy; else how a new version is rolled out
 * @param deploy pre-flight checks and state backup before a new version starts
 * @param inheritEnv variables of the daemon's environment that instances get beyond the clean base
 *     ({@code ["*"]}: all of them)
 * @param autoscale null when the instance count is {@code replicas}; else how the count follows the
 *     load (replicas is then only the count before the autoscaler's first decision)
 * @param remediation runbooks: conditions, actions and guard rails that heal before paging
 * @param secretEnv variables whose values are secrets (by name), resolved at each start and never
 *     stored with the spec
 * @param image the container image a container runtime (Kubernetes) runs; empty for local
 *     processes, which run command
 * @param regions the regions the service runs in (a multi-region spec); empty: every region
 */
public record ServiceSpec(
    String name,
    String command,
    List<String> args,
    Map<String, String> env,
    String workdir,
    String version,
    int replicas,
    Probe liveness,
    Probe readiness,
    RestartPolicy restart,
    StopPolicy stop,
    Resources resources,
    RouteSpec route,
    Strategy strategy,
    DeploySpec deploy,
    List<String> inheritEnv,
    Autoscale autoscale,
    List<Remediation> remediation,
    Map<String, SecretRef> secretEnv,
    String image,
    List<String> regions) {

  /** A service placed in every region (or in a spec without regions). */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy,
      List<String> inheritEnv,
      Autoscale autoscale,
      List<Remediation> remediation,
      Map<String, SecretRef> secretEnv,
      String image) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        image,
        List.of());
  }

  /** A service run from its command, without a container image. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy,
      List<String> inheritEnv,
      Autoscale autoscale,
      List<Remediation> remediation,
      Map<String, SecretRef> secretEnv) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        "");
  }

  /** A service whose environment names no secrets. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy,
      List<String> inheritEnv,
      Autoscale autoscale,
      List<Remediation> remediation) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        Map.of());
  }

  /** A service without remediation runbooks. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy,
      List<String> inheritEnv,
      Autoscale autoscale) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        List.of());
  }

  /** A service whose instance count is declared, not autoscaled. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy,
      List<String> inheritEnv) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        null);
  }

  /** A service that inherits nothing beyond the clean base environment. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy,
      DeploySpec deploy) {
    this(
        name, command, args, env, workdir, version, replicas, liveness, readiness, restart, stop,
        resources, route, strategy, deploy, List.of());
  }

  /** A service with the default deploy checks. */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route,
      Strategy strategy) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        DeploySpec.defaults());
  }

  /** A service deployed by rolling replacement (no canary strategy). */
  public ServiceSpec(
      String name,
      String command,
      List<String> args,
      Map<String, String> env,
      String workdir,
      String version,
      int replicas,
      Probe liveness,
      Probe readiness,
      RestartPolicy restart,
      StopPolicy stop,
      Resources resources,
      RouteSpec route) {
    this(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        null,
        DeploySpec.defaults());
  }

  public ServiceSpec {
    requireNonNull(name, "name");
    requireNonNull(command, "command");
    args = List.copyOf(args);
    env = new TreeMap<>(env);
    requireNonNull(workdir, "workdir");
    requireNonNull(version, "version");
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must be >= 0, but was " + replicas);
    }
    requireNonNull(restart, "restart");
    requireNonNull(stop, "stop");
    requireNonNull(resources, "resources");
    deploy = deploy == null ? DeploySpec.defaults() : deploy;
    inheritEnv = inheritEnv == null ? List.of() : List.copyOf(inheritEnv); // older revisions
    remediation = remediation == null ? List.of() : List.copyOf(remediation);
    secretEnv = secretEnv == null ? Map.of() : new TreeMap<>(secretEnv); // older revisions
    image = image == null ? "" : image; // older revisions
    regions = regions == null ? List.of() : List.copyOf(regions); // older revisions
  }

  /** How a new version is rolled out: the declared strategy, or rolling with surge 1. */
  public Strategy plan() {
    return strategy == null ? Strategy.rolling() : strategy;
  }

  /** A copy with another deploy strategy. */
  public ServiceSpec withPlan(Strategy plan) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        plan,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        image,
        regions);
  }

  /** A copy with other deploy checks and backup. */
  public ServiceSpec withDeploy(DeploySpec d) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        d,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        image,
        regions);
  }

  /**
   * A companion service run beside this one (an experiment's variant, a canary's baseline): this
   * spec under another name, with its own release and instance count, no route, rolled plainly,
   * with no deploy checks of its own.
   */
  public ServiceSpec companion(
      String companionName, String newVersion, Map<String, String> newEnv, int count) {
    return new ServiceSpec(
        companionName,
        command,
        args,
        newEnv,
        workdir,
        newVersion,
        count,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        null,
        Strategy.rolling(),
        DeploySpec.defaults(),
        inheritEnv,
        null,
        List.of(),
        secretEnv,
        image,
        regions);
  }

  /** A copy with another version and environment (a deploy). */
  public ServiceSpec withRelease(String newVersion, Map<String, String> newEnv) {
    return new ServiceSpec(
        name,
        command,
        args,
        newEnv,
        workdir,
        newVersion,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        image,
        regions);
  }

  /** A copy with other autoscaling (null: none). */
  public ServiceSpec withAutoscale(Autoscale a) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        a,
        remediation,
        secretEnv,
        image,
        regions);
  }

  /** A copy with other remediation runbooks. */
  public ServiceSpec withRemediation(List<Remediation> r) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        r,
        secretEnv,
        image,
        regions);
  }

  /** A container image reference ([registry[:port]/]path[:tag][@digest]): no spaces, bounded. */
  public static final java.util.regex.Pattern IMAGE =
      java.util.regex.Pattern.compile("[a-z0-9][A-Za-z0-9._/:@-]{0,511}");

  /** A copy that runs another container image. */
  public ServiceSpec withImage(String newImage) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        replicas,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        newImage,
        regions);
  }

  /** A copy with another replica count. */
  public ServiceSpec withReplicas(int n) {
    return new ServiceSpec(
        name,
        command,
        args,
        env,
        workdir,
        version,
        n,
        liveness,
        readiness,
        restart,
        stop,
        resources,
        route,
        strategy,
        deploy,
        inheritEnv,
        autoscale,
        remediation,
        secretEnv,
        image,
        regions);
  }

  /**
   * The identity of an instance's launch template: instances whose template differs from the
   * desired one are replaced. Replica count, checks and policies do not change the template.
   */
  public String template() {
    String launch =
        String.join(
            "\u0000", command, String.join("\u0001", args), env.toString(), workdir, version);
    // Only a service that inherits variables hashes them: older templates keep their identity.
    if (!inheritEnv.isEmpty()) {
      launch += "\u0000" + String.join("\u0001", inheritEnv);
    }
    // Secrets count by name (a rotated value reaches instances through a rolling restart).
    if (!secretEnv.isEmpty()) {
      launch += "\u0000" + secretEnv;
    }
    if (!image.isEmpty()) { // only a container's template names its image
      launch += "\u0000image=" + image;
    }
    return Hashing.sha256Hex(launch).substring(0, 12);
  }
}
