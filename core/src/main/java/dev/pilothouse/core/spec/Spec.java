package dev.pilothouse.core.spec;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The desired state a user declares: named services and the load balancer in front of them.
 *
 * @param proxy the listener of the built-in load balancer; it runs when a service has a route
 * @param metrics the built-in metrics store and what it scrapes
 * @param flags feature flags the spec declares (created, and set whenever their definition here
 *     changes)
 * @param experiments A/B tests of routed services
 * @param alerting rule files and the rule groups read from them
 * @param backup repositories and each service's backups
 * @param secrets how named secrets are rotated
 * @param cost the bills' currency, their allocation to services, the host's cost and budgets
 * @param runtime where the services run: local processes (the default) or a Kubernetes namespace
 * @param regions several clusters, each a region with its own runtime (instead of runtime); a
 *     service runs in the regions it is placed in, and the built-in load balancer splits its
 *     traffic between the regions' endpoints by their weights
 */
public record Spec(
    ProxySpec proxy,
    List<ServiceSpec> services,
    NotificationsSpec notifications,
    MetricsSpec metrics,
    List<dev.pilothouse.core.flags.Flag> flags,
    List<ExperimentSpec> experiments,
    AlertingSpec alerting,
    BackupSpec backup,
    SecretsSpec secrets,
    CostSpec cost,
    ChaosSpec chaos,
    RuntimeSpec runtime,
    List<RegionSpec> regions) {
  /** A spec of one runtime (no regions). */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting,
      BackupSpec backup,
      SecretsSpec secrets,
      CostSpec cost,
      ChaosSpec chaos,
      RuntimeSpec runtime) {
    this(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        List.of());
  }

  /** A spec whose services run as local processes. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting,
      BackupSpec backup,
      SecretsSpec secrets,
      CostSpec cost,
      ChaosSpec chaos) {
    this(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        RuntimeSpec.local());
  }

  /** A spec without a chaos section. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting,
      BackupSpec backup,
      SecretsSpec secrets,
      CostSpec cost) {
    this(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        ChaosSpec.none());
  }

  /** A spec without a cost section. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting,
      BackupSpec backup,
      SecretsSpec secrets) {
    this(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        CostSpec.none());
  }

  /** A spec that declares no secret rotation. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting,
      BackupSpec backup) {
    this(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        SecretsSpec.none());
  }

  /** A spec without backups. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments,
      AlertingSpec alerting) {
    this(proxy, services, notifications, metrics, flags, experiments, alerting, BackupSpec.none());
  }

  /** A spec without alerting rules. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags,
      List<ExperimentSpec> experiments) {
    this(proxy, services, notifications, metrics, flags, experiments, AlertingSpec.none());
  }

  /** A spec without experiments. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics,
      List<dev.pilothouse.core.flags.Flag> flags) {
    this(proxy, services, notifications, metrics, flags, List.of());
  }

  /** A spec without flags. */
  public Spec(
      ProxySpec proxy,
      List<ServiceSpec> services,
      NotificationsSpec notifications,
      MetricsSpec metrics) {
    this(proxy, services, notifications, metrics, List.of());
  }

  /** A spec with the default metrics settings. */
  public Spec(ProxySpec proxy, List<ServiceSpec> services, NotificationsSpec notifications) {
    this(proxy, services, notifications, MetricsSpec.defaults());
  }

  /** A spec with the default proxy listener. */
  public Spec(List<ServiceSpec> services) {
    this(ProxySpec.defaults(), services);
  }

  /** A spec without notifications. */
  public Spec(ProxySpec proxy, List<ServiceSpec> services) {
    this(proxy, services, NotificationsSpec.none());
  }

  public Spec {
    requireNonNull(proxy, "proxy");
    // Revisions stored before notifications existed read them as null.
    notifications = notifications == null ? NotificationsSpec.none() : notifications;
    metrics = metrics == null ? MetricsSpec.defaults() : metrics;
    flags = flags == null ? List.of() : List.copyOf(flags); // revisions stored before flags
    experiments = experiments == null ? List.of() : List.copyOf(experiments);
    alerting = alerting == null ? AlertingSpec.none() : alerting; // revisions stored before it
    backup = backup == null ? BackupSpec.none() : backup; // revisions stored before it
    secrets = secrets == null ? SecretsSpec.none() : secrets; // revisions stored before it
    cost = cost == null ? CostSpec.none() : cost; // revisions stored before it
    chaos = chaos == null ? ChaosSpec.none() : chaos; // revisions stored before it
    runtime = runtime == null ? RuntimeSpec.local() : runtime; // revisions stored before it
    regions = regions == null ? List.of() : List.copyOf(regions); // revisions stored before it
    requireNonNull(services, "services");
    services = List.copyOf(services);
    Map<String, ServiceSpec> seen = new LinkedHashMap<>();
    for (ServiceSpec s : services) {
      if (seen.put(s.name(), s) != null) {
        throw new IllegalArgumentException("service '" + s.name() + "' is declared twice");
      }
    }
  }

  /** Whether any service is reachable through the load balancer. */
  public boolean routed() {
    return services.stream().anyMatch(s -> s.route() != null);
  }

  /** An empty spec: no services. */
  public static Spec empty() {
    return new Spec(List.of());
  }

  /** The service with this name, if declared. */
  public Optional<ServiceSpec> service(String name) {
    return services.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** A copy of this spec with one service replaced (matched by name). */
  public Spec with(ServiceSpec replacement) {
    return new Spec(
        proxy,
        services.stream().map(s -> s.name().equals(replacement.name()) ? replacement : s).toList(),
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        regions);
  }

  /** The region with this name, if declared. */
  public Optional<RegionSpec> region(String name) {
    return regions.stream().filter(r -> r.name().equals(name)).findFirst();
  }

  /** The regions a service runs in: its placement, or every region (none without regions). */
  public List<RegionSpec> placement(ServiceSpec s) {
    return regions.stream()
        .filter(r -> s.regions().isEmpty() || s.regions().contains(r.name()))
        .toList();
  }

  /** A copy of this spec with other regions (a failover moves their weights). */
  public Spec withRegions(List<RegionSpec> r) {
    return new Spec(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        r);
  }

  /** A copy with only the services that keep returns true (a region's share of the spec). */
  public Spec withServices(java.util.function.Predicate<ServiceSpec> keep) {
    return new Spec(
        proxy,
        services.stream().filter(keep).toList(),
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        regions);
  }

  /** A copy of this spec whose services run on another runtime. */
  public Spec withRuntime(RuntimeSpec r) {
    return new Spec(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        r);
  }

  /** A copy of this spec with other backups. */
  public Spec withBackup(BackupSpec b) {
    return new Spec(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments,
        alerting,
        b,
        secrets,
        cost,
        chaos,
        runtime,
        regions);
  }

  /** The experiment with this name, if declared. */
  public Optional<ExperimentSpec> experiment(String name) {
    return experiments.stream().filter(e -> e.name().equals(name)).findFirst();
  }

  /** A copy of this spec without the experiment of this name. */
  public Spec withoutExperiment(String name) {
    return new Spec(
        proxy,
        services,
        notifications,
        metrics,
        flags,
        experiments.stream().filter(e -> !e.name().equals(name)).toList(),
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        regions);
  }

  /**
   * What runs: these services plus one service per experiment variant other than the control
   * (SERVICE--VARIANT, the control's spec with the variant's version and environment, unrouted,
   * scraped like the control).
   */
  public Spec withVariants() {
    if (experiments.isEmpty()) {
      return this;
    }
    List<ServiceSpec> all = new java.util.ArrayList<>(services);
    Map<String, MetricsSpec.Endpoint> endpoints = new LinkedHashMap<>(metrics.endpoints());
    for (ExperimentSpec e : experiments) {
      if (service(e.service()).isEmpty()) {
        continue;
      }
      ServiceSpec control = service(e.service()).orElseThrow();
      for (ExperimentSpec.Variant v : e.variants()) {
        if (!v.control()) {
          all.add(e.specOf(control, v));
          MetricsSpec.Endpoint scraped = metrics.endpoints().get(e.service());
          if (scraped != null) {
            endpoints.put(e.serviceOf(v), scraped); // scraped like the control, as its own job
          }
        }
      }
    }
    return new Spec(
        proxy,
        all,
        notifications,
        metrics.withEndpoints(endpoints),
        flags,
        experiments,
        alerting,
        backup,
        secrets,
        cost,
        chaos,
        runtime,
        regions);
  }
}
