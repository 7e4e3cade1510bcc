package dev.pilothouse.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.pilothouse.client.Wire;
import dev.pilothouse.core.deploy.DeployException;
import dev.pilothouse.core.deploy.Deployments;
import dev.pilothouse.core.event.Event;
import dev.pilothouse.core.event.EventLog;
import dev.pilothouse.core.instance.InstanceStatus;
import dev.pilothouse.core.instance.ServiceStatus;
import dev.pilothouse.core.instance.Workloads;
import dev.pilothouse.core.security.Role;
import dev.pilothouse.core.spec.Revisions;
import dev.pilothouse.security.Access;
import dev.pilothouse.security.ApiGuard;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The REST API under /api/v1 and its SSE event stream. */
final class Api {
  private static final Logger log = LoggerFactory.getLogger(Api.class);
  static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /** What the API reads and drives. */
  record Deps(
      Workloads controller,
      Deployments deployments,
      dev.pilothouse.core.rollout.RolloutController rollouts,
      Revisions revisions,
      EventLog events,
      Traffic traffic,
      dev.pilothouse.core.instance.InstanceLogs logs,
      InstantSource clock,
      String token,
      String stateDir,
      String startedAt,
      Runnable shutdownKeepingInstances,
      Runnable shutdownStoppingInstances,
      Telemetry telemetry,
      dev.pilothouse.flags.Flags flags,
      dev.pilothouse.flags.FlagRollouts flagRollouts,
      String flagsToken,
      dev.pilothouse.experiment.Experiments experiments,
      dev.pilothouse.alerting.Rules rules,
      dev.pilothouse.alerting.routing.Router router,
      dev.pilothouse.anomaly.Anomalies anomalies,
      dev.pilothouse.incident.Incidents incidents,
      dev.pilothouse.core.incident.IncidentRepository incidentRepository,
      dev.pilothouse.scaling.Autoscaler autoscaler,
      dev.pilothouse.scaling.Advisor advisor,
      dev.pilothouse.backup.BackupService backups,
      dev.pilothouse.core.event.EventSink eventSink,
      dev.pilothouse.security.Tokens tokens,
      dev.pilothouse.security.AuditLog audit,
      dev.pilothouse.security.Secrets secrets,
      dev.pilothouse.security.Rotator rotator,
      dev.pilothouse.security.IncidentCapture capture,
      dev.pilothouse.cost.Costs costs,
      dev.pilothouse.chaos.Chaos chaos,
      java.util.function.Supplier<Wire.Leadership> leadership) {}

  private final Deps d;
  private volatile String address = "";
  private final ApiGuard guard;

  Api(Deps deps) {
    this.d = deps;
    this.guard = new ApiGuard(deps.tokens(), deps.eventSink(), deps.clock());
  }

  /** Starts listening over plain HTTP; returns the running server. */
  Javalin start(String host, int port) {
    return start(host, port, null, config -> {});
  }

  /**
   * Starts listening, over HTTPS with this certificate unless it is null, with more routes (the
   * dashboard's) beside the API's.
   */
  Javalin start(
      String host,
      int port,
      dev.pilothouse.security.ApiCertificate tls,
      java.util.function.Consumer<io.javalin.config.JavalinConfig> more) {
    Javalin app =
        Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              config.startup.showOldJavalinVersionWarning = false;
              config.concurrency.useVirtualThreads = true;
              config.jetty.host = host;
              config.jetty.port = port;
              if (tls != null) {
                config.jetty.addConnector(
                    (server, http) -> Tls.connector(server, http, tls, host, port));
              }
              config.routes.before("/api/*", this::authenticate);
              config.routes.before("/api/*", this::refuseCrossSite);
              config.routes.before("/metrics", this::authenticate);
              config.routes.before("/ofrep/*", this::authenticate);
              config.routes.before("/ofrep/*", this::refuseCrossSite);
              ExperimentsApi experiments = new ExperimentsApi(d.experiments(), d.deployments());
              config.routes.get("/api/v1/experiments", experiments::list);
              config.routes.get("/api/v1/experiments/{name}", experiments::get);
              config.routes.post("/api/v1/experiments/{name}/promote", experiments::promote);
              config.routes.post("/api/v1/experiments/{name}/stop", experiments::stop);
              FlagsApi flags = new FlagsApi(d.flags(), d.flagRollouts());
              config.routes.post("/api/v1/flags/{key}/rollout", flags::startRollout);
              config.routes.get("/api/v1/flags/{key}/rollout", flags::rollout);
              config.routes.delete("/api/v1/flags/{key}/rollout", flags::abortRollout);
              config.routes.get("/api/v1/flag-rollouts", flags::rollouts);
              config.routes.get("/api/v1/flags", flags::list);
              config.routes.get("/api/v1/flags/{key}", flags::get);
              config.routes.put("/api/v1/flags/{key}", flags::put);
              config.routes.delete("/api/v1/flags/{key}", flags::delete);
              config.routes.get("/api/v1/flags/{key}/history", flags::history);
              config.routes.get("/api/v1/flag-history", flags::history);
              config.routes.post("/ofrep/v1/evaluate/flags/{key}", flags::evaluate);
              config.routes.post("/ofrep/v1/evaluate/flags", flags::evaluateAll);
              config.routes.get("/metrics", this::metrics);
              config.routes.get("/api/v1/status", this::status);
              config.routes.get("/api/v1/leader", this::leader);
              config.routes.post("/api/v1/apply", this::apply);
              config.routes.post("/api/v1/validate", this::validate);
              config.routes.get("/api/v1/revisions", this::revisions);
              config.routes.post("/api/v1/services/{name}/restart", this::restart);
              config.routes.post(
                  "/api/v1/services/{name}/instances/{id}/quarantine", this::quarantine);
              config.routes.post("/api/v1/services/{name}/capture", this::capture);
              config.routes.post("/api/v1/services/{name}/scale", this::scale);
              config.routes.get("/api/v1/regions", this::regions);
              config.routes.post("/api/v1/regions/failover", this::failover);
              config.routes.post("/api/v1/regions/weights", this::regionWeights);
              config.routes.post("/api/v1/services/{name}/deploy", this::deploy);
              config.routes.post("/api/v1/services/{name}/undo", this::undo);
              config.routes.get("/api/v1/services/{name}/history", this::history);
              config.routes.get("/api/v1/services/{name}/autoscale", this::autoscale);
              config.routes.get("/api/v1/services/{name}/advice", this::advice);
              config.routes.get("/api/v1/dora", this::dora);
              config.routes.after("/api/*", this::recordChange);
              AuditApi audit = new AuditApi(d.audit());
              HostAuditApi hostAudit =
                  new HostAuditApi(
                      java.nio.file.Path.of(d.stateDir()),
                      () ->
                          new dev.pilothouse.security.HostAudit.Context(
                              java.nio.file.Path.of(d.stateDir()),
                              address,
                              address.startsWith("https://"),
                              d.tokens().list()),
                      d.eventSink(),
                      d.clock());
              ScanApi scan =
                  new ScanApi(
                      new dev.pilothouse.security.Scanner(
                          java.nio.file.Path.of(d.stateDir()).resolve("osv"), HostAuditApi.root()),
                      () -> d.deployments().current());
              config.routes.get("/api/v1/scan", scan::scan);
              config.routes.post("/api/v1/scan/update", scan::update);
              config.routes.post("/api/v1/audit/host", hostAudit::audit);
              config.routes.post("/api/v1/audit/host/fix", hostAudit::fix);
              config.routes.get("/api/v1/audit/verify", audit::verify);
              config.routes.get("/api/v1/audit/proof/{seq}", audit::prove);
              config.routes.get("/api/v1/audit/export", audit::export);
              config.routes.post("/api/v1/audit/checkpoint", audit::checkpoint);
              TokensApi tokens = new TokensApi(d.tokens(), d.clock());
              config.routes.get("/api/v1/tokens", tokens::list);
              config.routes.post("/api/v1/tokens", tokens::create);
              config.routes.delete("/api/v1/tokens/{name}", tokens::revoke);
              SecretsApi secrets =
                  new SecretsApi(d.secrets(), d.rotator(), () -> d.deployments().current());
              config.routes.get("/api/v1/secrets", secrets::list);
              config.routes.put("/api/v1/secrets/{name}", secrets::set);
              config.routes.get("/api/v1/secrets/{name}/value", secrets::value);
              config.routes.delete("/api/v1/secrets/{name}", secrets::delete);
              config.routes.post("/api/v1/secrets/{name}/rotate", secrets::rotate);
              CostApi cost =
                  new CostApi(d.costs(), () -> d.deployments().current(), d.advisor(), d.clock());
              config.routes.post("/api/v1/cost/ingest", cost::ingest);
              config.routes.get("/api/v1/cost/ingest", cost::progress);
              config.routes.get("/api/v1/cost/bills", cost::bills);
              config.routes.get("/api/v1/cost/report", cost::report);
              config.routes.get("/api/v1/cost/recommendations", cost::recommendations);
              config.routes.get("/api/v1/cost/budgets", cost::budgets);
              config.routes.get("/api/v1/cost/anomalies", cost::anomalies);
              ChaosApi chaos = new ChaosApi(d.chaos());
              config.routes.post("/api/v1/chaos/runs", chaos::start);
              config.routes.get("/api/v1/chaos/runs", chaos::list);
              config.routes.get("/api/v1/chaos/runs/{id}", chaos::get);
              config.routes.post("/api/v1/chaos/runs/{id}/abort", chaos::abort);
              config.routes.get("/api/v1/chaos/status", chaos::status);
              config.routes.post("/api/v1/chaos/disable", chaos::disable);
              config.routes.post("/api/v1/chaos/enable", chaos::enable);
              BackupApi backup = new BackupApi(d.backups());
              config.routes.get("/api/v1/backups", backup::list);
              config.routes.post("/api/v1/backups/verify", backup::verify);
              config.routes.post("/api/v1/backups/prune", backup::prune);
              config.routes.post("/api/v1/backups/{service}", backup::run);
              config.routes.post("/api/v1/backups/{service}/wal/push", backup::walPush);
              config.routes.post("/api/v1/backups/{service}/wal/fetch", backup::walFetch);
              config.routes.get("/api/v1/backups/{service}/wal", backup::walStatus);
              config.routes.post("/api/v1/services/{name}/restore", backup::restore);
              config.routes.post("/api/v1/services/{name}/drill", backup::drill);
              config.routes.get("/api/v1/dr", ctx -> backup.status(ctx, d.events()));
              config.routes.get("/api/v1/services/{name}/logs", this::logs);
              config.routes.get("/api/v1/events", this::events);
              config.routes.get("/api/v1/events/verify", this::verifyEvents);
              config.routes.get("/api/v1/rollouts", this::rollouts);
              config.routes.get("/api/v1/rollouts/{name}", this::rollout);
              config.routes.post("/api/v1/rollouts/{name}/{action}", this::rolloutAction);
              config.routes.sse("/api/v1/events/stream", this::stream);
              config.routes.post("/api/v1/shutdown", this::shutdown);
              PromApi prom = new PromApi(d.telemetry(), d.clock());
              for (String path :
                  List.of(
                      "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels")) {
                PromApi.Handler h =
                    switch (path) {
                      case "/api/v1/query" -> prom::query;
                      case "/api/v1/query_range" -> prom::queryRange;
                      case "/api/v1/series" -> prom::series;
                      default -> prom::labels;
                    };
                config.routes.get(path, ctx -> prom.handle(ctx, h));
                config.routes.post(path, ctx -> prom.handle(ctx, h));
              }
              config.routes.get(
                  "/api/v1/label/{name}/values", ctx -> prom.handle(ctx, prom::labelValues));
              config.routes.get("/api/v1/metadata", ctx -> prom.handle(ctx, prom::metadata));
              config.routes.get("/api/v1/targets", ctx -> prom.handle(ctx, prom::targets));
              config.routes.get(
                  "/api/v1/status/buildinfo", ctx -> prom.handle(ctx, prom::buildinfo));
              // Prometheus's rules and alerts API, Alertmanager's silences API.
              AlertingApi alerting =
                  new AlertingApi(
                      d.rules(),
                      d.router(),
                      d.clock(),
                      () -> d.deployments().current().alerting().slos(),
                      new TsdbRuleStore(d.telemetry()));
              config.routes.get("/api/v1/slos", alerting::slos);
              IncidentsApi inc =
                  new IncidentsApi(
                      d.incidents(),
                      d.incidentRepository(),
                      d.events(),
                      new TsdbRuleStore(d.telemetry()),
                      () -> d.deployments().current().alerting().slos(),
                      d.clock());
              config.routes.get("/api/v1/incidents", inc::list);
              config.routes.get("/api/v1/incidents/{id}", inc::show);
              config.routes.post("/api/v1/incidents/{id}/ack", inc::acknowledge);
              config.routes.post("/api/v1/incidents/{id}/resolve", inc::resolve);
              config.routes.get("/api/v1/incidents/{id}/postmortem", inc::postmortem);
              config.routes.get("/api/v1/oncall", inc::oncall);
              config.routes.get(
                  "/api/v1/anomalies",
                  ctx -> send(ctx, 200, java.util.Map.of("detectors", d.anomalies().status())));
              config.routes.get("/api/v1/rules", ctx -> prom.handle(ctx, alerting::rules));
              config.routes.get("/api/v1/alerts", ctx -> prom.handle(ctx, alerting::alerts));
              config.routes.get("/api/v2/silences", alerting::silences);
              config.routes.post("/api/v2/silences", alerting::addSilence);
              config.routes.get("/api/v2/silence/{id}", alerting::silence);
              config.routes.delete("/api/v2/silence/{id}", alerting::expireSilence);
              config.routes.post("/api/v1/write", prom::write);
              // Grafana asks for exemplars next to queries; none are stored, so none are found.
              config.routes.get("/api/v1/query_exemplars", ctx -> prom.handle(ctx, c -> List.of()));
              config.routes.post(
                  "/api/v1/query_exemplars", ctx -> prom.handle(ctx, c -> List.of()));
              more.accept(config);
              config.routes.exception(ApiError.class, Api::refuse);
              config.routes.exception(
                  dev.pilothouse.backup.BackupException.class,
                  (e, ctx) ->
                      refuse(
                          new ApiError(
                              e.getMessage().contains("declares no backup") ? 404 : 409,
                              e.getMessage(),
                              "see docs/backup.md"),
                          ctx));
              config.routes.exception(
                  DeployException.class, (e, ctx) -> refuse(ApiError.of(e), ctx));
              config.routes.exception(
                  Exception.class,
                  (e, ctx) -> {
                    // The client gets an id to quote, never the exception's text.
                    String id = java.util.HexFormat.of().toHexDigits(ERROR_IDS.nextInt());
                    log.error(
                        "API request {} {} failed (error id {})", ctx.method(), ctx.path(), id, e);
                    send(
                        ctx,
                        500,
                        new Wire.Error(
                            "internal error " + id,
                            "see daemon.log in the state directory for error id " + id,
                            List.of()));
                  });
              config.routes.error(
                  404,
                  "*",
                  ctx -> {
                    if (ctx.result() == null || ctx.result().isEmpty()) {
                      send(
                          ctx,
                          404,
                          new Wire.Error(
                              "no such endpoint: " + ctx.method() + " " + ctx.path(),
                              "see docs/api.md",
                              List.of()));
                    }
                  });
            });
    app.start();
    address = (tls == null ? "http://" : "https://") + host + ":" + app.port();
    return app;
  }

  private static final java.util.random.RandomGenerator ERROR_IDS =
      new java.security.SecureRandom();

  /**
   * Refuses state-changing requests a browser could be made to send on a user's behalf (CSRF). A
   * browser sends its stored basic-auth credentials cross-site, but never a bearer token, never a
   * non-form Content-Type without asking first (CORS preflight), and always its Origin. So a POST
   * needs a bearer token or a Content-Type that no plain form can send (JSON, protobuf), and a
   * foreign Origin is refused. Prometheus's query endpoints only read and are left alone.
   */
  private void refuseCrossSite(Context ctx) {
    if (!ctx.method().name().equals("POST") || PROMETHEUS_READS.contains(ctx.path())) {
      return;
    }
    String origin = ctx.header("Origin");
    if (origin != null && !origin.isEmpty() && !origin.equals(address)) {
      throw new ApiError(
          403,
          "cross-site request from " + origin + " refused",
          "call the API from the CLI or a script, not from a web page");
    }
    boolean bearer =
        Optional.ofNullable(ctx.header("Authorization"))
            .orElse("")
            .regionMatches(true, 0, "Bearer ", 0, 7);
    String type = Optional.ofNullable(ctx.header("Content-Type")).orElse("");
    String base = type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    boolean formType =
        base.isEmpty()
            || base.equals("application/x-www-form-urlencoded")
            || base.equals("multipart/form-data")
            || base.equals("text/plain");
    if (!bearer && formType) {
      throw new ApiError(
          415,
          "a state-changing request with basic auth needs 'Content-Type: application/json'; got '"
              + type
              + "'",
          "send JSON with Content-Type: application/json, or the token as 'Authorization: Bearer"
              + " TOKEN' (see docs/api.md)");
    }
  }

  private static boolean same(String given, String token) {
    return !given.isEmpty()
        && token != null
        && MessageDigest.isEqual(
            given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
  }

  /** Prometheus endpoints that clients may POST a form to, and that only read. */
  private static final java.util.Set<String> PROMETHEUS_READS =
      java.util.Set.of(
          "/api/v1/query",
          "/api/v1/query_range",
          "/api/v1/series",
          "/api/v1/labels",
          "/api/v1/query_exemplars");

  private void authenticate(Context ctx) {
    String header = Optional.ofNullable(ctx.header("Authorization")).orElse("");
    String given = "";
    if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      given = header.substring(7).trim();
    } else if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
      try {
        String decoded =
            new String(
                Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        given = colon < 0 ? "" : decoded.substring(colon + 1);
      } catch (IllegalArgumentException e) {
        given = "";
      }
    }
    // The flags token reads flags over OFREP and nothing else (services hold it, not the API's).
    // A PostgreSQL service's WAL token archives and fetches that service's WAL and nothing else.
    Optional<ApiGuard.Caller> builtin = daemonCaller(given);
    if (builtin.isEmpty()
        && ((ctx.path().startsWith("/ofrep/") && same(given, d.flagsToken()))
            || walCall(ctx.path(), given))) {
      builtin = Optional.of(new ApiGuard.Caller("service-token", null));
    }
    ApiGuard.Outcome o =
        guard.check(ctx.ip(), ctx.method().name(), ctx.path(), !header.isEmpty(), given, builtin);
    if (o.refusal() == null) {
      ctx.attribute(CALLER, o.caller());
      return;
    }
    switch (o.refusal()) {
      case LOCKED_OUT -> {
        ctx.header("Retry-After", Long.toString(o.retryAfterSeconds()));
        throw new ApiError(
            429, o.reason(), "check the token the client sends (docs/security.md#roles)");
      }
      case FORBIDDEN ->
          throw new ApiError(
              403,
              o.reason(),
              "use a token with that role ('pilothouse token create --role ROLE';"
                  + " docs/security.md)");
      case UNAUTHENTICATED -> {
        ctx.header("WWW-Authenticate", "Bearer realm=\"pilothouse\", Basic realm=\"pilothouse\"");
        throw new ApiError(
            401,
            o.reason(),
            "send the token from "
                + d.stateDir()
                + "/api-token, or one made by 'pilothouse token create', as 'Authorization: Bearer"
                + " TOKEN' or as the password of HTTP basic auth");
      }
    }
  }

  /** The caller of the daemon's own token (an admin), when that is the token given. */
  private Optional<ApiGuard.Caller> daemonCaller(String given) {
    return same(given, d.token())
        ? Optional.of(new ApiGuard.Caller("daemon-token", Role.ADMIN))
        : Optional.empty();
  }

  private static final String CALLER = "pilothouse.caller";

  /** Records a call that changed something (the audit log, docs/security.md). */
  private void recordChange(Context ctx) {
    guard.recordChange(ctx.attribute(CALLER), ctx.method().name(), ctx.path(), ctx.statusCode());
  }

  private boolean walCall(String path, String given) {
    var m = Access.WAL_CALL.matcher(path);
    return m.matches() && d.backups().walTokenMatches(m.group(1), given);
  }

  private void status(Context ctx) {
    long revision = d.deployments().revision();
    var decisions = d.autoscaler().decisions();
    List<Wire.Service> services =
        d.controller().status().stream()
            .map(Api::wire)
            .map(
                w -> {
                  var a = decisions.get(w.name());
                  return a == null
                      ? w
                      : new Wire.Service(
                          w.name(),
                          w.version(),
                          w.state(),
                          w.desiredReplicas(),
                          w.readyReplicas(),
                          w.generation(),
                          w.instances(),
                          new Wire.Autoscale(a.min(), a.max(), a.desired(), a.state(), a.reason()));
                })
            .toList();
    send(
        ctx,
        200,
        new Wire.Status(
            ProcessHandle.current().pid(),
            Version.current(),
            d.stateDir(),
            address,
            revision,
            d.startedAt(),
            proxy(d.traffic()),
            services,
            d.leadership() == null ? null : d.leadership().get(),
            d.traffic().clusterStatus().stream()
                .map(
                    c ->
                        new Wire.ClusterProxy(
                            c.address(), c.pid(), c.version(), c.connected(), c.error()))
                .toList()));
  }

  /** {@code GET /api/v1/leader}: who leads the daemons sharing this PostgreSQL store. */
  private void leader(Context ctx) {
    if (d.leadership() == null) {
      throw new ApiError(
          404,
          "this daemon keeps its state in its state directory: it is the only one, no election",
          "several daemons share one PostgreSQL store (docs/scale-out.md)");
    }
    send(ctx, 200, d.leadership().get());
  }

  /** {@code GET /api/v1/services/NAME/autoscale}: the autoscaler's latest decision, explained. */
  private void autoscale(Context ctx) {
    String name = ctx.pathParam("name");
    var spec = d.deployments().current();
    var service = spec.service(name).orElseThrow(() -> Deployments.notFound(name, spec));
    if (service.autoscale() == null) {
      throw new ApiError(
          404,
          name + " is not autoscaled",
          "add 'autoscale:' to services." + name + " in the spec (docs/autoscaling.md)");
    }
    var decision = d.autoscaler().explain(name);
    if (decision.isEmpty()) {
      throw new ApiError(
          503, "the autoscaler has not decided for " + name + " yet", "try again in a second");
    }
    var x = decision.get();
    java.util.Map<String, Object> view = new java.util.LinkedHashMap<>();
    view.put("service", x.service());
    view.put("at", x.at().toString());
    view.put("current", x.current());
    view.put("desired", x.desired());
    view.put("min", x.min());
    view.put("max", x.max());
    view.put("state", x.state());
    view.put("recommended", x.recommended());
    view.put("limitedBy", x.limitedBy());
    view.put("reason", x.reason());
    view.put("targets", x.targets());
    view.put("floor", x.floor());
    view.put("cap", x.cap());
    view.put("bounds", x.bounds());
    view.put("prediction", x.prediction());
    send(ctx, 200, view);
  }

  /**
   * {@code GET /api/v1/services/NAME/advice[?window=7d]}: right-sizing advice from the store's
   * history (window 1h to the retention, default 7 days).
   */
  private void advice(Context ctx) {
    String name = ctx.pathParam("name");
    var spec = d.deployments().current();
    var service = spec.service(name).orElseThrow(() -> Deployments.notFound(name, spec));
    String w = ctx.queryParam("window") == null ? "7d" : ctx.queryParam("window");
    java.time.Duration window = Since.duration(w);
    if (window == null
        || window.compareTo(java.time.Duration.ofHours(1)) < 0
        || window.compareTo(java.time.Duration.ofDays(90)) > 0) {
      throw new ApiError(
          400, "invalid window '" + w + "'", "give a duration from 1h to 90d, e.g. 7d");
    }
    var a = d.advisor().advise(service, window, d.clock().instant());
    java.util.Map<String, Object> view = new java.util.LinkedHashMap<>();
    view.put("service", a.service());
    view.put("window", a.window());
    java.util.Map<String, Object> cpu = new java.util.LinkedHashMap<>();
    cpu.put("current", service.resources().cpu() > 0 ? service.resources().cpu() : null);
    cpu.put("p95", finite(a.cpuP95()));
    cpu.put("max", finite(a.cpuMax()));
    cpu.put("recommended", a.cpu() > 0 ? a.cpu() : null);
    view.put("cpu", cpu);
    java.util.Map<String, Object> mem = new java.util.LinkedHashMap<>();
    mem.put(
        "current",
        service.resources().memoryBytes() > 0 ? service.resources().memoryBytes() : null);
    mem.put("max", finite(a.memoryMax()));
    mem.put("recommended", a.memory() > 0 ? a.memory() : null);
    view.put("memory", mem);
    java.util.Map<String, Object> inst = new java.util.LinkedHashMap<>();
    inst.put(
        "currentMin", service.autoscale() == null ? service.replicas() : service.autoscale().min());
    inst.put(
        "currentMax", service.autoscale() == null ? service.replicas() : service.autoscale().max());
    inst.put("recommendedMin", a.min() > 0 ? a.min() : null);
    inst.put("recommendedMax", a.max() > 0 ? a.max() : null);
    inst.put("peakCpu", finite(a.peakCpu()));
    inst.put("troughCpu", finite(a.troughCpu()));
    inst.put("peakRps", finite(a.peakRps()));
    inst.put("troughRps", finite(a.troughRps()));
    view.put("instances", inst);
    view.put("notes", a.notes());
    send(ctx, 200, view);
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private static Wire.Proxy proxy(Traffic t) {
    var p = t.status();
    Optional<Integer> port = t.port();
    return new Wire.Proxy(
        port.isPresent(),
        port.orElse(0),
        p.error(),
        p.pid(),
        p.version(),
        p.health(),
        p.transport(),
        p.standbyPid());
  }

  static Wire.Service wire(ServiceStatus s) {
    return new Wire.Service(
        s.name(),
        s.version(),
        s.state(),
        s.desiredReplicas(),
        s.readyReplicas(),
        s.generation(),
        s.instances().stream().map(Api::wire).toList());
  }

  static Wire.Instance wire(InstanceStatus i) {
    return new Wire.Instance(
        i.id(),
        i.slot(),
        i.pid(),
        i.port(),
        i.state(),
        i.ready(),
        i.startedAt().toString(),
        i.restarts(),
        i.version());
  }

  static Wire.Event wire(Event e) {
    return new Wire.Event(
        e.seq(),
        e.at().toString(),
        e.type(),
        e.service(),
        e.instance(),
        e.message(),
        e.fields(),
        e.hash());
  }

  private void metrics(Context ctx) {
    ctx.status(200)
        .contentType("text/plain; version=0.0.4; charset=utf-8")
        .result(d.telemetry().selfText());
  }

  /** The daemon's own gauges and the load balancer's RED metrics, in Prometheus text. */
  String metricsText() {
    StringBuilder b = new StringBuilder();
    b.append("# HELP pilothouse_instances Instances by service and state.\n");
    b.append("# TYPE pilothouse_instances gauge\n");
    for (ServiceStatus s : d.controller().status()) {
      java.util.Map<String, Long> byState = new java.util.TreeMap<>();
      for (String st : List.of("starting", "running", "stopping")) {
        byState.put(st, 0L);
      }
      s.instances().forEach(i -> byState.merge(i.state(), 1L, Long::sum));
      byState.forEach(
          (st, n) ->
              b.append("pilothouse_instances{service=\"")
                  .append(s.name())
                  .append("\",state=\"")
                  .append(st)
                  .append("\"} ")
                  .append(n)
                  .append('\n'));
    }
    b.append("# HELP pilothouse_instances_ready Ready instances by service.\n");
    b.append("# TYPE pilothouse_instances_ready gauge\n");
    for (ServiceStatus s : d.controller().status()) {
      b.append("pilothouse_instances_ready{service=\"")
          .append(s.name())
          .append("\"} ")
          .append(s.readyReplicas())
          .append('\n');
    }
    b.append(d.traffic().metricsText());
    b.append(d.rules().metricsText());
    b.append(d.anomalies().metricsText());
    b.append(d.router().metricsText());
    b.append(d.backups().metricsText());
    b.append(d.rotator().metricsText());
    return b.toString();
  }

  /** {@code GET /api/v1/rollouts}: the latest rollout of every service that had one. */
  private void rollouts(Context ctx) {
    List<Wire.Rollout> out = new java.util.ArrayList<>();
    for (ServiceStatus s : d.controller().status()) {
      d.rollouts()
          .status(s.name())
          .ifPresent(
              r ->
                  out.add(
                      RolloutView.of(
                          r, d.rollouts().previewSecret(), d.rollouts().liveVerdict(s.name()))));
    }
    send(ctx, 200, out);
  }

  /** The API's base address once it listens ("" before). */
  String address() {
    return address;
  }

  /**
   * Checks a token typed into the dashboard's login form as a call to the API from that address
   * would be checked: the same lockout after failures, the same events.
   */
  dev.pilothouse.ui.Dashboard.Login login(String ip, String token) {
    ApiGuard.Outcome o = guard.check(ip, "GET", "/api/v1/status", true, token, daemonCaller(token));
    if (o.refusal() != null) {
      return dev.pilothouse.ui.Dashboard.Login.refused(o.reason(), o.retryAfterSeconds());
    }
    return dev.pilothouse.ui.Dashboard.Login.accepted(
        o.caller().name(), o.caller().role() == null ? "viewer" : o.caller().role().id());
  }

  private void rollout(Context ctx) {
    String name = ctx.pathParam("name");
    var r =
        d.rollouts()
            .status(name)
            .orElseThrow(
                () ->
                    new ApiError(
                        404,
                        "no rollout of '" + name + "' yet",
                        "deploy a new version: change it in the spec and apply, or 'pilothouse deploy'"));
    send(ctx, 200, RolloutView.of(r, d.rollouts().previewSecret(), d.rollouts().liveVerdict(name)));
  }

  private void rolloutAction(Context ctx) {
    String name = ctx.pathParam("name");
    String action = ctx.pathParam("action");
    requireService(name);
    try {
      var r =
          switch (action) {
            case "promote" -> d.rollouts().promote(name);
            case "pause" -> d.rollouts().pause(name);
            case "resume" -> d.rollouts().resume(name);
            case "abort" -> d.rollouts().abort(name);
            default ->
                throw new ApiError(
                    404,
                    "unknown rollout action '" + action + "'",
                    "use promote, pause, resume or abort");
          };
      send(ctx, 200, RolloutView.of(r, d.rollouts().previewSecret()));
    } catch (dev.pilothouse.core.rollout.RolloutController.RefusedException e) {
      throw new ApiError(409, e.getMessage(), "see 'pilothouse rollout status " + name + "'");
    }
  }

  /** Every refusal, with its reason: bad tokens, cross-site calls, bad bodies, refused changes. */
  private static void refuse(ApiError e, Context ctx) {
    log.warn(
        "API refused {} {} from {} ({}): {}",
        ctx.method(),
        ctx.path(),
        ctx.ip(),
        e.status,
        e.getMessage());
    send(ctx, e.status, e.body());
  }

  private static Wire.ApplyResponse wire(Deployments.Applied a) {
    return new Wire.ApplyResponse(a.revision(), a.changed(), a.changes());
  }

  private void apply(Context ctx) {
    Wire.ApplyRequest req = body(ctx, Wire.ApplyRequest.class);
    var spec = SpecRequests.parse(req);
    List<String> missing = SecretsApi.missing(spec, d.rotator());
    if (!missing.isEmpty()) {
      throw new ApiError(
          400,
          "the spec names secrets that are not set: " + String.join(", ", missing),
          "set each with 'pilothouse secrets set NAME' (value on stdin), then apply again");
    }
    send(
        ctx,
        200,
        wire(
            d.deployments()
                .apply(
                    spec,
                    req.file(),
                    new Deployments.Options(req.commit(), req.commitTime(), req.ignoreFreeze()))));
  }

  private void validate(Context ctx) {
    Wire.ApplyRequest req = body(ctx, Wire.ApplyRequest.class);
    var spec = SpecRequests.parse(req);
    send(ctx, 200, new Wire.Ack(req.file() + " is valid: " + spec.services().size() + " services"));
  }

  private void revisions(Context ctx) {
    send(
        ctx,
        200,
        d.revisions().list().stream()
            .map(
                r ->
                    new RevisionView(
                        r.number(), r.at().toString(), r.source(), r.spec().services().size()))
            .toList());
  }

  /** One revision in a listing. */
  record RevisionView(long number, String at, String source, int services) {}

  private void restart(Context ctx) {
    String name = ctx.pathParam("name");
    d.deployments().restart(name);
    send(ctx, 202, new Wire.Ack("rolling restart of " + name + " started"));
  }

  /** {@code POST /api/v1/services/NAME/capture {key}}: the encrypted diagnostics bundle. */
  record CaptureRequest(String key) {}

  private void capture(Context ctx) {
    String name = ctx.pathParam("name");
    requireService(name);
    CaptureRequest b = body(ctx, CaptureRequest.class);
    byte[] key;
    try {
      key = dev.pilothouse.client.IncidentBundle.key(b.key());
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, e.getMessage(), "send {\"key\": \"43 base64url characters\"}");
    }
    dev.pilothouse.security.IncidentCapture.Bundle bundle = d.capture().capture(name);
    byte[] sealed = dev.pilothouse.client.IncidentBundle.seal(key, bundle.zip());
    d.eventSink()
        .emit(
            new dev.pilothouse.core.event.NewEvent(
                d.clock().instant(),
                "IncidentCaptured",
                name,
                "",
                "diagnostics of "
                    + bundle.instances()
                    + " instances captured ("
                    + sealed.length
                    + " bytes, encrypted)",
                java.util.Map.of(
                    "instances", Integer.toString(bundle.instances()),
                    "bytes", Integer.toString(sealed.length))));
    ctx.status(200)
        .contentType("application/octet-stream")
        .header("X-Pilothouse-Instances", Integer.toString(bundle.instances()))
        .result(sealed);
  }

  /** Longest an instance may be kept in quarantine by hand. */
  static final java.time.Duration MAX_QUARANTINE = java.time.Duration.ofDays(7);

  /**
   * {@code POST /api/v1/services/NAME/instances/ID/quarantine {reason, keep}}: the instance leaves
   * traffic and its service's count (a fresh one takes its slot) and keeps running for analysis
   * until keep (default 1h) has passed (docs/runbooks/incident-response.md).
   */
  record QuarantineRequest(String reason, String keep) {}

  private void quarantine(Context ctx) {
    String name = ctx.pathParam("name");
    String id = ctx.pathParam("id");
    requireService(name);
    boolean known =
        d.controller().status().stream()
            .filter(s -> s.name().equals(name))
            .flatMap(s -> s.instances().stream())
            .anyMatch(i -> i.id().equals(id));
    if (!known) {
      throw new ApiError(
          404,
          "service " + name + " has no instance " + id,
          "see 'pilothouse status' for its instances");
    }
    QuarantineRequest b =
        ctx.body().isBlank()
            ? new QuarantineRequest(null, null)
            : body(ctx, QuarantineRequest.class);
    String keepText = b.keep() == null ? "1h" : b.keep();
    java.time.Duration keep = Since.duration(keepText);
    if (keep == null || keep.isZero() || keep.compareTo(MAX_QUARANTINE) > 0) {
      throw new ApiError(
          400, "keep: '" + keepText + "' is not a duration up to 7d", "write e.g. 30m or 2h");
    }
    String reason = b.reason() == null ? "quarantined by hand" : b.reason();
    if (reason.length() > 500) {
      throw new ApiError(400, "reason: at most 500 characters", "say it shorter");
    }
    try {
      d.controller().quarantine(id, reason, keep);
    } catch (IllegalStateException e) {
      throw new ApiError(409, e.getMessage(), "see 'pilothouse status " + name + "'");
    }
    send(
        ctx,
        202,
        new Wire.Ack(
            "instance "
                + id
                + " of "
                + name
                + " is out of traffic and kept running for "
                + keepText
                + "; a fresh instance takes its place"));
  }

  /** {@code GET /api/v1/regions}. */
  private void regions(Context ctx) {
    dev.pilothouse.core.spec.Spec spec = d.deployments().current();
    send(
        ctx,
        200,
        spec.regions().stream()
            .map(
                r ->
                    new Wire.Region(
                        r.name(),
                        r.weight(),
                        r.endpoint().toString(),
                        r.runtime().namespace(),
                        spec.services().stream()
                            .filter(s -> spec.placement(s).contains(r))
                            .map(dev.pilothouse.core.spec.ServiceSpec::name)
                            .toList()))
            .toList());
  }

  /** {@code POST /api/v1/regions/failover}. */
  private void failover(Context ctx) {
    Wire.FailoverRequest req = body(ctx, Wire.FailoverRequest.class);
    if (req.from() == null || req.from().isBlank()) {
      throw new ApiError(400, "'from' names the region to move traffic away from", "give from");
    }
    send(ctx, 200, wire(d.deployments().failover(req.from(), req.to())));
  }

  /** {@code POST /api/v1/regions/weights}. */
  private void regionWeights(Context ctx) {
    Wire.WeightsRequest req = body(ctx, Wire.WeightsRequest.class);
    if (req.weights() == null || req.weights().isEmpty()) {
      throw new ApiError(400, "'weights' is empty", "give e.g. {\"weights\": {\"eu\": 50}}");
    }
    send(
        ctx,
        200,
        wire(
            d.deployments()
                .regionWeights(
                    req.weights(),
                    "region weights "
                        + req.weights().entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue())
                            .collect(java.util.stream.Collectors.joining(" ")))));
  }

  private void scale(Context ctx) {
    Wire.ScaleRequest req = body(ctx, Wire.ScaleRequest.class);
    send(ctx, 200, wire(d.deployments().scale(ctx.pathParam("name"), req.replicas())));
  }

  /** {@code POST /api/v1/services/NAME/deploy}. */
  record DeployRequest(
      String version,
      java.util.Map<String, String> env,
      String commit,
      String commitTime,
      boolean ignoreFreeze,
      String image) {}

  /** {@code POST /api/v1/services/NAME/undo}. */
  record UndoRequest(long toRevision, boolean withData) {}

  private void deploy(Context ctx) {
    DeployRequest req = body(ctx, DeployRequest.class);
    send(
        ctx,
        200,
        wire(
            d.deployments()
                .deploy(
                    ctx.pathParam("name"),
                    req.version(),
                    req.env(),
                    req.image() == null ? "" : req.image(),
                    new Deployments.Options(req.commit(), req.commitTime(), req.ignoreFreeze()))));
  }

  private void undo(Context ctx) throws Exception {
    UndoRequest req = body(ctx, UndoRequest.class);
    String name = ctx.pathParam("name");
    dev.pilothouse.backup.Snapshot data = null;
    if (req.withData()) {
      // chosen before the undo, whose own pre-deploy snapshot holds the data of now
      data =
          d.backups()
              .dataBefore(name, req.toRevision())
              .orElseThrow(
                  () ->
                      new ApiError(
                          409,
                          "no pre-deploy snapshot of " + name + "'s data to go back to",
                          "deploys take one only when the service has 'backup:' in the spec;"
                              + " undo without --with-data, or restore a snapshot"));
    }
    var applied = d.deployments().undo(name, req.toRevision());
    if (data != null) {
      d.backups()
          .restore(
              name,
              data.id().substring(0, 16),
              null,
              new dev.pilothouse.backup.Restorer.Counters());
    }
    send(ctx, 200, wire(applied));
  }

  /** {@code GET /api/v1/dora?since=30d}: the DORA metrics of the period up to now. */
  private void dora(Context ctx) {
    String sinceText = Optional.ofNullable(ctx.queryParam("since")).orElse("30d");
    java.time.Instant now = d.clock().instant();
    java.time.Instant since = Since.parse(sinceText, now);
    List<Event> all = new java.util.ArrayList<>();
    long after = 0;
    while (true) {
      List<Event> page = d.events().after(after, 10_000);
      for (Event e : page) {
        if (DORA_TYPES.contains(e.type())) {
          all.add(e);
        }
      }
      if (page.size() < 10_000) {
        break;
      }
      after = page.get(page.size() - 1).seq();
    }
    java.util.Map<String, Object> view =
        doraView(
            dev.pilothouse.core.rollout.Dora.compute(
                all, since, now, java.time.Duration.ofHours(1)));
    try {
      reliability(view, java.time.Duration.between(since, now), now);
    } catch (RuntimeException e) {
      log.warn("availability and SLO attainment left out of the DORA report: {}", e.getMessage());
    }
    send(ctx, 200, view);
  }

  /**
   * Adds what users see of reliability to a DORA report: availability (requests without a 5xx or
   * proxy error, as the load balancer saw them) overall and per service, and each SLO's attainment
   * over the period. Without metrics (the store is off or empty) the fields are null.
   */
  @SuppressWarnings("unchecked")
  private void reliability(
      java.util.Map<String, Object> view, java.time.Duration period, java.time.Instant now) {
    TsdbRuleStore store = new TsdbRuleStore(d.telemetry());
    java.util.function.Supplier<java.util.Map<String, Object>> none = java.util.LinkedHashMap::new;
    view.put(
        "availability",
        dev.pilothouse.alerting.slo.SloStatus.availability("service!=\"\"", period, store, now));
    java.util.Map<String, Object> per =
        (java.util.Map<String, Object>) view.computeIfAbsent("services", k -> none.get());
    for (var s : d.deployments().current().services()) {
      if (s.route() == null) {
        continue;
      }
      Double a =
          dev.pilothouse.alerting.slo.SloStatus.availability(
              "service=\"" + s.name() + "\"", period, store, now);
      if (a != null) {
        ((java.util.Map<String, Object>) per.computeIfAbsent(s.name(), k -> none.get()))
            .put("availability", a);
      }
    }
    if (per.isEmpty()) {
      view.remove("services");
    }
    List<Object> slos = new java.util.ArrayList<>();
    for (var o : d.deployments().current().alerting().slos()) {
      java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
      Double sli = dev.pilothouse.alerting.slo.SloStatus.sliOver(o, period, store, now);
      m.put("service", o.service());
      m.put("name", o.name());
      m.put("objective", o.objective());
      m.put("attainment", sli);
      m.put("met", sli == null ? null : sli >= o.objective());
      slos.add(m);
    }
    view.put("slos", slos);
  }

  private static java.util.Map<String, Object> doraView(dev.pilothouse.core.rollout.Dora.Report r) {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("since", r.since().toString());
    m.put("until", r.until().toString());
    m.put("deployments", r.deployments());
    m.put("successful", r.successful());
    m.put("failed", r.failed());
    m.put("in_progress", r.inProgress());
    m.put("deployment_frequency_per_day", r.deploymentsPerDay());
    m.put("lead_time_seconds", statView(r.leadTime()));
    m.put("change_failure_rate", r.changeFailureRate());
    m.put("time_to_restore_seconds", statView(r.timeToRestore()));
    m.put("levels", r.levels());
    if (!r.perService().isEmpty()) {
      java.util.Map<String, Object> per = new java.util.LinkedHashMap<>();
      r.perService().forEach((k, v) -> per.put(k, doraView(v)));
      m.put("services", per);
    }
    return m;
  }

  private static java.util.Map<String, Object> statView(dev.pilothouse.core.rollout.Dora.Stat s) {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("samples", s.samples());
    m.put("median", s.medianSeconds());
    m.put("p90", s.p90Seconds());
    return m;
  }

  private static final java.util.Set<String> DORA_TYPES =
      java.util.Set.of(
          "RolloutStarted",
          "RolloutStep",
          "RolloutPromoted",
          "RolloutRolledBack",
          "CrashLoop",
          "IncidentOpened",
          "IncidentResolved",
          "InstanceReady");

  private void history(Context ctx) {
    send(
        ctx,
        200,
        d.deployments().history(ctx.pathParam("name")).stream()
            .map(
                h -> {
                  java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
                  row.put("revision", h.revision());
                  row.put("at", h.at().toString());
                  row.put("source", h.source());
                  row.put("version", h.version());
                  row.put("changes", h.changes());
                  return row;
                })
            .toList());
  }

  /** Refuses a call about a service that does not exist: 404, naming it. */
  private void requireService(String name) {
    if (d.controller().status().stream().noneMatch(s -> s.name().equals(name))) {
      throw new ApiError(
          404, "no service named '" + name + "'", "see 'pilothouse status' for the services");
    }
  }

  private void logs(Context ctx) throws IOException {
    String name = ctx.pathParam("name");
    requireService(name);
    boolean follow = Boolean.parseBoolean(ctx.queryParam("follow"));
    Optional<String> instance =
        Optional.ofNullable(ctx.queryParam("instance")).filter(s -> !s.isEmpty());
    String sinceText = ctx.queryParam("since");
    var since =
        sinceText == null || sinceText.isEmpty()
            ? java.time.Instant.EPOCH
            : Since.parse(sinceText, d.clock().instant());
    if (instance.isPresent() && !d.logs().has(name, instance.get())) {
      throw new ApiError(
          404,
          "no instance '" + instance.get() + "' of " + name + " has logs",
          "instance ids: 'pilothouse status' (an instance that exited keeps its log for a while)");
    }
    ctx.status(200).contentType("text/plain; charset=utf-8");
    try {
      // The raw servlet stream: Javalin's own one buffers (for compression) and holds back -f.
      d.logs().stream(name, instance, since, follow, ctx.res().getOutputStream());
    } catch (IOException e) {
      // the client went away while following
    }
  }

  private void verifyEvents(Context ctx) {
    send(ctx, 200, chainCheck(d.events().verify()));
  }

  static Wire.ChainCheck chainCheck(EventLog.Verification v) {
    return new Wire.ChainCheck(
        v.events(),
        v.intact(),
        v.intact() ? null : v.broken().seq(),
        v.intact() ? "" : v.broken().reason());
  }

  private void events(Context ctx) {
    long after = parseLong(ctx.queryParam("after"), -1);
    int limit = limit(ctx, 100, 10_000);
    List<Event> list = after < 0 ? d.events().latest(limit) : d.events().after(after, limit);
    send(ctx, 200, list.stream().map(Api::wire).toList());
  }

  private void stream(SseClient client) {
    long after = parseLong(client.ctx().queryParam("after"), -1);
    LinkedBlockingQueue<Event> queue = new LinkedBlockingQueue<>(10_000);
    try (AutoCloseable sub = d.events().subscribe(queue::offer)) {
      client.keepAlive();
      long last = after;
      List<Event> backlog = after < 0 ? List.of() : d.events().after(after, 10_000);
      for (Event e : backlog) {
        client.sendEvent("event", JSON.writeValueAsString(wire(e)), Long.toString(e.seq()));
        last = e.seq();
      }
      while (!client.terminated()) {
        Event e = queue.poll(15, TimeUnit.SECONDS);
        if (e == null) {
          client.sendComment("keep-alive");
          continue;
        }
        if (e.seq() <= last) {
          continue;
        }
        client.sendEvent("event", JSON.writeValueAsString(wire(e)), Long.toString(e.seq()));
        last = e.seq();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.debug("event stream ended: {}", e.toString());
    } finally {
      client.close();
    }
  }

  private void shutdown(Context ctx) {
    boolean stopInstances = !"false".equals(ctx.queryParam("stopInstances"));
    send(
        ctx,
        202,
        new Wire.Ack(
            stopInstances ? "stopping all instances, then the daemon" : "stopping the daemon"));
    Thread.ofVirtual()
        .start(stopInstances ? d.shutdownStoppingInstances() : d.shutdownKeepingInstances());
  }

  /**
   * The {@code limit} query parameter: how many items a list answers with, dflt when absent; 400
   * outside 1..max (never clamped in silence: a script asking for 0 or a million learns it).
   */
  static int limit(Context ctx, int dflt, int max) {
    String text = ctx.queryParam("limit");
    if (text == null || text.isEmpty()) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(text);
      if (n >= 1 && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new ApiError(
        400, "limit must be 1-" + max + ", but was '" + text + "'", "e.g. ?limit=" + dflt);
  }

  private static long parseLong(String s, long dflt) {
    if (s == null || s.isEmpty()) {
      return dflt;
    }
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new ApiError(400, "'" + s + "' is not a number", "give a whole number");
    }
  }

  static <T> T body(Context ctx, Class<T> type) {
    try {
      T t = JSON.readValue(ctx.body(), type);
      if (t == null) {
        throw new ApiError(400, "the request body is empty", "send a JSON object");
      }
      return t;
    } catch (JsonProcessingException e) {
      throw new ApiError(
          400,
          "the request body is not valid JSON for "
              + type.getSimpleName()
              + ": "
              + e.getOriginalMessage(),
          "send a JSON object as documented in docs/api.md");
    }
  }

  static void send(Context ctx, int status, Object body) {
    try {
      ctx.status(status).contentType("application/json").result(JSON.writeValueAsString(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("serializing " + body.getClass().getSimpleName(), e);
    }
  }
}
