package dev.pilothouse.core.spec;

import dev.pilothouse.core.alerting.RuleGroup;
import dev.pilothouse.core.alerting.routing.RoutingConfig;
import dev.pilothouse.core.anomaly.AnomalyDetection;
import dev.pilothouse.core.incident.OnCall;
import dev.pilothouse.core.slo.Slo;
import java.util.List;
import java.util.Optional;

/**
 * Alerting: the rule files a spec names and the groups read from them when it was applied (a
 * revision keeps the rules as they were, so undo restores them too), and where alerts go.
 *
 * @param ruleFiles the globs as written, relative to the spec file
 * @param groups the rule groups of every matching file, in file then group order
 * @param alertmanagerConfig the Alertmanager configuration file as written ("" for none)
 * @param routing what was read from it; null without one (alerts are then only events)
 * @param alertmanagers URLs of existing Alertmanagers that get every alert too (API v2)
 * @param builtinRules whether Pilothouse's rules about itself run (true unless turned off)
 * @param slos the services' service level objectives, compiled into rules by the alerting module
 * @param anomalies the series scored by anomaly detectors
 * @param oncall the people paged for incidents, their schedules and escalation policies
 */
public record AlertingSpec(
    List<String> ruleFiles,
    List<RuleGroup> groups,
    String alertmanagerConfig,
    RoutingConfig routing,
    List<String> alertmanagers,
    Boolean builtinRules,
    List<Slo> slos,
    List<AnomalyDetection> anomalies,
    OnCall oncall) {
  public AlertingSpec {
    oncall = oncall == null ? OnCall.none() : oncall;
    anomalies = anomalies == null ? List.of() : List.copyOf(anomalies);
    slos = slos == null ? List.of() : List.copyOf(slos);
    builtinRules = builtinRules == null ? Boolean.TRUE : builtinRules; // older revisions: on
    ruleFiles = ruleFiles == null ? List.of() : List.copyOf(ruleFiles);
    groups = groups == null ? List.of() : List.copyOf(groups);
    alertmanagerConfig = alertmanagerConfig == null ? "" : alertmanagerConfig;
    alertmanagers = alertmanagers == null ? List.of() : List.copyOf(alertmanagers);
  }

  /** Rules without routing. */
  public AlertingSpec(List<String> ruleFiles, List<RuleGroup> groups) {
    this(ruleFiles, groups, "", null, List.of(), true, List.of(), List.of(), OnCall.none());
  }

  /** No rules. */
  public static AlertingSpec none() {
    return new AlertingSpec(List.of(), List.of());
  }

  /** This alerting with the given SLOs. */
  public AlertingSpec withSlos(List<Slo> slos) {
    return new AlertingSpec(
        ruleFiles,
        groups,
        alertmanagerConfig,
        routing,
        alertmanagers,
        builtinRules,
        slos,
        anomalies,
        oncall);
  }

  /** This alerting with the given on-call configuration. */
  public AlertingSpec withOnCall(OnCall o) {
    return new AlertingSpec(
        ruleFiles,
        groups,
        alertmanagerConfig,
        routing,
        alertmanagers,
        builtinRules,
        slos,
        anomalies,
        o);
  }

  /** The routing configuration, when the spec gives one. */
  public Optional<RoutingConfig> routingConfig() {
    return Optional.ofNullable(routing);
  }
}
