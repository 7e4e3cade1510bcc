package dev.pilothouse.store;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.pilothouse.core.spec.Autoscale;
import dev.pilothouse.core.spec.Remediation;
import dev.pilothouse.core.spec.Strategy;

/**
 * How specs, rollouts and events are written as JSON (in the store, in backups): ISO-8601 times and
 * durations, unknown fields ignored (older and newer versions read each other's rows), and a
 * strategy tagged with its spec type ({@code "type": "canary"}).
 */
public final class SpecJson {
  private SpecJson() {}

  /** A mapper builder with these settings; callers add their own (e.g. indentation). */
  public static JsonMapper.Builder builder() {
    return JsonMapper.builder()
        .addModule(new JavaTimeModule())
        .addMixIn(Strategy.class, StrategyTypes.class)
        .addMixIn(Autoscale.Target.class, TargetTypes.class)
        .addMixIn(Remediation.Condition.class, ConditionTypes.class)
        .addMixIn(Remediation.Action.class, ActionTypes.class)
        .addMixIn(dev.pilothouse.core.alerting.Rule.class, RuleTypes.class)
        .addMixIn(
            dev.pilothouse.core.alerting.routing.Receiver.Integration.class, IntegrationTypes.class)
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  /** The strategy's record is chosen by its "type", named as in spec files. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Strategy.Rolling.class, name = "rolling"),
    @JsonSubTypes.Type(value = Strategy.Canary.class, name = "canary"),
    @JsonSubTypes.Type(value = Strategy.BlueGreen.class, name = "blueGreen")
  })
  private interface StrategyTypes {}

  /** An autoscaling target's record is chosen by its "type", named as in spec files. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(
        value = Autoscale.Target.RequestsPerSecond.class,
        name = "requestsPerSecond"),
    @JsonSubTypes.Type(value = Autoscale.Target.Cpu.class, name = "cpu"),
    @JsonSubTypes.Type(value = Autoscale.Target.Memory.class, name = "memory"),
    @JsonSubTypes.Type(value = Autoscale.Target.InFlight.class, name = "inFlight"),
    @JsonSubTypes.Type(value = Autoscale.Target.LatencyP99.class, name = "latencyP99"),
    @JsonSubTypes.Type(value = Autoscale.Target.Promql.class, name = "promql")
  })
  private interface TargetTypes {}

  /** A remediation's condition is chosen by its "type", named as in spec files. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Remediation.Condition.Unready.class, name = "unready"),
    @JsonSubTypes.Type(value = Remediation.Condition.CrashLoop.class, name = "crashLoop"),
    @JsonSubTypes.Type(value = Remediation.Condition.Alert.class, name = "alert")
  })
  private interface ConditionTypes {}

  /** A remediation's action is chosen by its "type", named as in spec files. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Remediation.Action.Replace.class, name = "replace"),
    @JsonSubTypes.Type(value = Remediation.Action.Quarantine.class, name = "quarantine"),
    @JsonSubTypes.Type(value = Remediation.Action.Restart.class, name = "restart"),
    @JsonSubTypes.Type(value = Remediation.Action.Rollback.class, name = "rollback"),
    @JsonSubTypes.Type(value = Remediation.Action.ScaleOut.class, name = "scaleOut"),
    @JsonSubTypes.Type(value = Remediation.Action.Command.class, name = "command")
  })
  private interface ActionTypes {}

  /** A rule's record is chosen by its "type": recording or alerting. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.Rule.Recording.class,
        name = "recording"),
    @JsonSubTypes.Type(value = dev.pilothouse.core.alerting.Rule.Alerting.class, name = "alerting")
  })
  private interface RuleTypes {}

  /** A receiver's integration is chosen by its "type", as Alertmanager names its configs. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.routing.Receiver.Webhook.class,
        name = "webhook"),
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.routing.Receiver.Slack.class,
        name = "slack"),
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.routing.Receiver.Email.class,
        name = "email"),
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.routing.Receiver.PagerDuty.class,
        name = "pagerduty"),
    @JsonSubTypes.Type(
        value = dev.pilothouse.core.alerting.routing.Receiver.Teams.class,
        name = "msteams")
  })
  private interface IntegrationTypes {}
}
