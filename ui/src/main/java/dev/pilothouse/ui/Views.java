package dev.pilothouse.ui;

import dev.pilothouse.client.Wire;
import java.util.List;
import java.util.Map;

/** What each page's template shows: built by {@link Pages} from the API's answers. */
public final class Views {
  private Views() {}

  /** The time ranges a chart offers. */
  public static final List<String> RANGES = List.of("15m", "1h", "6h", "24h", "7d");

  /**
   * What every page has: its title and place in the navigation, who is logged in, the form's CSRF
   * token, and a message left by the last action.
   */
  public record Page(
      String title,
      String nav,
      String user,
      String role,
      boolean canOperate,
      String csrf,
      String flash,
      String version) {}

  /** The daemon and its load balancer, as the overview shows them. */
  public record Daemon(
      long pid,
      String version,
      String startedAt,
      String proxyHealth,
      long proxyPid,
      int proxyPort,
      String proxyError,
      long standbyPid,
      long revision) {}

  /**
   * One service's line: versions, instances, RED figures over the last minute (null: no traffic
   * measured), the tightest SLO's remaining error budget, alerts firing and a rollout under way.
   */
  public record ServiceRow(
      String name,
      String version,
      String state,
      int ready,
      int desired,
      Double requestRate,
      Double errorRatio,
      Double p99Seconds,
      Double budgetRemaining,
      int alertsFiring,
      String rollout) {}

  public record Overview(
      Page page, Daemon daemon, List<ServiceRow> services, List<AlertRow> alerts) {}

  /** One instance as the API reports it, with its CPU (cores) and resident memory measured. */
  public record InstanceRow(Wire.Instance instance, Double cpuCores, Double memoryBytes) {}

  /** One revision of the spec that changed the service, with what changed. */
  public record RevisionRow(
      long revision, String at, String source, String version, List<String> changes) {}

  /** A chart the page's script draws from a range query (its numbers are on the page too). */
  public record Chart(String id, String title, String query, String unit) {}

  public record ServicePage(
      Page page,
      ServiceRow service,
      List<InstanceRow> instances,
      List<Chart> charts,
      String range,
      List<String> ranges,
      List<Wire.Event> events,
      List<RevisionRow> revisions,
      Wire.Autoscale autoscale,
      boolean hasRollout) {}

  /**
   * One step of a rollout: its number, what it does, and whether it is done, current or to come.
   */
  public record Step(int number, String what, String state) {}

  public record RolloutPage(
      Page page,
      Wire.Rollout rollout,
      List<Step> steps,
      boolean running,
      List<Chart> charts,
      String range) {}

  /** One series of a query's result: its labels and value (or last value of a range). */
  public record Result(String labels, String value) {}

  public record Explore(
      Page page,
      String query,
      String range,
      List<String> ranges,
      List<String> metricNames,
      List<Result> results,
      String resultType,
      String error,
      String hint) {}

  public record EventsPage(
      Page page,
      List<Wire.Event> events,
      String type,
      String service,
      int limit,
      Wire.ChainCheck chain,
      List<String> types,
      List<String> services) {}

  /** A figure of the DORA report, by its name. */
  public record Figure(String name, String value) {}

  public record Dora(
      Page page, String since, List<Figure> figures, Map<String, List<Figure>> services) {}

  /** An alert: its name, state, labels and what a silence of it matches. */
  public record AlertRow(
      String name,
      String state,
      String severity,
      String service,
      String summary,
      String activeAt,
      String labels,
      String matchers) {}

  /** A silence as Alertmanager lists it. */
  public record SilenceRow(
      String id,
      String state,
      String matchers,
      String startsAt,
      String endsAt,
      String createdBy,
      String comment) {}

  public record Alerts(
      Page page, List<AlertRow> alerts, List<SilenceRow> silences, String silenceMatchers) {}

  /** A hidden form field carried through a confirmation. */
  public record Field(String name, String value) {}

  /** Asks before a change when the browser runs no script to ask. */
  public record Confirm(
      Page page, String question, String action, List<Field> fields, String back) {}

  /** The login form, with why the last attempt failed. */
  public record Login(String error, String version, String next) {}

  /** A page that could not be drawn: what went wrong and what to do. */
  public record Problem(Page page, int status, String error, String hint) {}

  /** Incidents, open ones first, as the API lists them. */
  public record Incidents(Page page, com.fasterxml.jackson.databind.JsonNode incidents) {}

  /** One incident with its alerts and timeline. */
  public record Incident(Page page, com.fasterxml.jackson.databind.JsonNode incident) {}

  /** Each backed-up service's objectives, newest snapshot and last drill ({@code /api/v1/dr}). */
  public record Backups(Page page, com.fasterxml.jackson.databind.JsonNode dr) {}

  /** Chaos: the kill switch and the runs. */
  public record Chaos(
      Page page,
      com.fasterxml.jackson.databind.JsonNode status,
      com.fasterxml.jackson.databind.JsonNode runs) {}

  /** Cost by service (or another dimension) for a period, with budgets. */
  public record Cost(
      Page page,
      String by,
      String period,
      com.fasterxml.jackson.databind.JsonNode report,
      com.fasterxml.jackson.databind.JsonNode budgets,
      String error) {}

  /** The autoscaler's latest decision for each autoscaled service. */
  public record Autoscaling(Page page, List<com.fasterxml.jackson.databind.JsonNode> decisions) {}

  /** The audit log's verification and the API tokens (for an admin). */
  public record Security(
      Page page,
      com.fasterxml.jackson.databind.JsonNode audit,
      com.fasterxml.jackson.databind.JsonNode tokens,
      String tokensError) {}
}
