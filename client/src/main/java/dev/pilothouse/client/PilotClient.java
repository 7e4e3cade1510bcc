package dev.pilothouse.client;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** A client of one daemon's API, found through its state directory. */
public final class PilotClient {
  /** How the API's JSON is read (also the daemon's published files). */
  public static final ObjectMapper JSON =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private final String base;
  private final String token;
  private final javax.net.ssl.SSLSocketFactory pinned;

  private PilotClient(String base, String token, String fingerprint) {
    this.base = base;
    this.token = token;
    this.pinned =
        fingerprint == null || fingerprint.isEmpty()
            ? null
            : Pinning.context(fingerprint).getSocketFactory();
  }

  /** A client for the API at base (such as http://127.0.0.1:9460) with this token. */
  public static PilotClient of(String base, String token) {
    return of(base, token, null);
  }

  /**
   * A client for the API at base with this token, trusting only the TLS certificate with this
   * SHA-256 fingerprint (null: the JDK's trust store, for a certificate signed by a known CA).
   */
  public static PilotClient of(String base, String token, String fingerprint) {
    return new PilotClient(
        requireNonNull(base, "base"), requireNonNull(token, "token"), fingerprint);
  }

  /** The daemon published in stateDir, if its files are there. */
  public static Optional<DaemonInfo> info(Path stateDir) {
    Path f = DaemonInfo.file(stateDir);
    if (!Files.exists(f)) {
      return Optional.empty();
    }
    try {
      return Optional.of(JSON.readValue(f.toFile(), DaemonInfo.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A client for the daemon of stateDir, or empty when none has published itself there. */
  public static Optional<PilotClient> forStateDir(Path stateDir) {
    Optional<DaemonInfo> info = info(stateDir);
    if (info.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          of(info.get().api(), DaemonInfo.readToken(stateDir), info.get().tlsFingerprint()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** The API's base address. */
  public String base() {
    return base;
  }

  public Wire.Status status() {
    return get("/api/v1/status", Wire.Status.class);
  }

  /** Who leads the daemons sharing a PostgreSQL store (404 from a daemon on SQLite). */
  public Wire.Leadership leader() {
    return get("/api/v1/leader", Wire.Leadership.class);
  }

  public Wire.ApplyResponse apply(Wire.ApplyRequest req) {
    return post("/api/v1/apply", req, Wire.ApplyResponse.class);
  }

  public Wire.Ack validate(Wire.ApplyRequest req) {
    return post("/api/v1/validate", req, Wire.Ack.class);
  }

  /** Takes an instance out of traffic, keeping it running for analysis for keep (e.g. "1h"). */
  public Wire.Ack quarantine(String service, String instance, String reason, String keep) {
    java.util.Map<String, String> body = new java.util.LinkedHashMap<>();
    body.put("reason", reason);
    body.put("keep", keep);
    return post(
        "/api/v1/services/" + enc(service) + "/instances/" + enc(instance) + "/quarantine",
        body,
        Wire.Ack.class);
  }

  public Wire.Ack restart(String service) {
    return post("/api/v1/services/" + enc(service) + "/restart", null, Wire.Ack.class);
  }

  /** The regions of the spec in force, with their weights. */
  public List<Wire.Region> regions() {
    return get("/api/v1/regions", new TypeReference<List<Wire.Region>>() {});
  }

  /** Moves all of region from's traffic to region to (empty: to the other regions). */
  public Wire.ApplyResponse failover(String from, String to) {
    return post(
        "/api/v1/regions/failover", new Wire.FailoverRequest(from, to), Wire.ApplyResponse.class);
  }

  /** Sets regions' traffic weights (0–100) as a new revision. */
  public Wire.ApplyResponse regionWeights(java.util.Map<String, Integer> weights) {
    return post(
        "/api/v1/regions/weights", new Wire.WeightsRequest(weights), Wire.ApplyResponse.class);
  }

  public Wire.ApplyResponse scale(String service, int replicas) {
    return post(
        "/api/v1/services/" + enc(service) + "/scale",
        new Wire.ScaleRequest(replicas),
        Wire.ApplyResponse.class);
  }

  public Wire.ApplyResponse deploy(
      String service, String version, java.util.Map<String, String> env) {
    return deploy(service, version, env, "", "", false);
  }

  /** Deploys a version; commit and commitTime (ISO 8601) may be empty. */
  public Wire.ApplyResponse deploy(
      String service,
      String version,
      java.util.Map<String, String> env,
      String commit,
      String commitTime,
      boolean ignoreFreeze) {
    return deploy(service, version, env, commit, commitTime, ignoreFreeze, "");
  }

  /** Deploys a version; a non-empty image replaces the container image (Kubernetes runtime). */
  public Wire.ApplyResponse deploy(
      String service,
      String version,
      java.util.Map<String, String> env,
      String commit,
      String commitTime,
      boolean ignoreFreeze,
      String image) {
    return post(
        "/api/v1/services/" + enc(service) + "/deploy",
        java.util.Map.of(
            "version",
            version,
            "env",
            env,
            "commit",
            commit,
            "commitTime",
            commitTime,
            "ignoreFreeze",
            ignoreFreeze,
            "image",
            image),
        Wire.ApplyResponse.class);
  }

  /** A PromQL instant query at time (Unix seconds; null for now): Prometheus's "data" object. */
  public java.util.Map<String, Object> query(String expr, Double time) {
    return promData(
        "/api/v1/query?query="
            + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8)
            + (time == null ? "" : "&time=" + time));
  }

  /** A PromQL range query (Unix seconds; step in seconds): Prometheus's "data" object. */
  public java.util.Map<String, Object> queryRange(
      String expr, double start, double end, double step) {
    return promData(
        "/api/v1/query_range?query="
            + java.net.URLEncoder.encode(expr, StandardCharsets.UTF_8)
            + "&start="
            + start
            + "&end="
            + end
            + "&step="
            + step);
  }

  @SuppressWarnings("unchecked")
  private java.util.Map<String, Object> promData(String path) {
    java.util.Map<String, Object> r =
        get(path, new TypeReference<java.util.Map<String, Object>>() {});
    return (java.util.Map<String, Object>) r.get("data");
  }

  /** The DORA metrics since a duration ago ("30d") or a timestamp. */
  public java.util.Map<String, Object> dora(String since) {
    return get(
        "/api/v1/dora?since=" + enc(since), new TypeReference<java.util.Map<String, Object>>() {});
  }

  public Wire.ApplyResponse undo(String service, long toRevision) {
    return undo(service, toRevision, false);
  }

  /** Undoes a service's spec and, withData, restores the data snapshot taken before that deploy. */
  public Wire.ApplyResponse undo(String service, long toRevision, boolean withData) {
    return post(
        "/api/v1/services/" + enc(service) + "/undo",
        java.util.Map.of("toRevision", toRevision, "withData", withData),
        Wire.ApplyResponse.class);
  }

  /** Revisions that changed the service: revision, at, source, version, changes. */
  public List<java.util.Map<String, Object>> history(String service) {
    return get(
        "/api/v1/services/" + enc(service) + "/history",
        new TypeReference<List<java.util.Map<String, Object>>>() {});
  }

  /**
   * The autoscaler's latest decision for a service: current, desired, each target's value and
   * proposal, and what limited the result.
   */
  public com.fasterxml.jackson.databind.JsonNode autoscale(String service) {
    return get(
        "/api/v1/services/" + enc(service) + "/autoscale",
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Right-sizing advice for a service from the last window of history (e.g. "7d"). */
  public com.fasterxml.jackson.databind.JsonNode advice(String service, String window) {
    return get(
        "/api/v1/services/"
            + enc(service)
            + "/advice?window="
            + URLEncoder.encode(window, StandardCharsets.UTF_8),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The pending and firing alerts, as Prometheus's /api/v1/alerts gives them (its "data"). */
  public com.fasterxml.jackson.databind.JsonNode alerts() {
    return get("/api/v1/alerts", com.fasterxml.jackson.databind.JsonNode.class).path("data");
  }

  /** The SLOs of one service (or of all with null) and where each stands: {"slos": [...]}. */
  public com.fasterxml.jackson.databind.JsonNode slos(String service) {
    return get(
        "/api/v1/slos"
            + (service == null
                ? ""
                : "?service=" + URLEncoder.encode(service, StandardCharsets.UTF_8)),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The rule groups with their rules' health, as Prometheus's /api/v1/rules (its "data"). */
  public com.fasterxml.jackson.databind.JsonNode rules() {
    return get("/api/v1/rules", com.fasterxml.jackson.databind.JsonNode.class).path("data");
  }

  /** Every silence, as Alertmanager's API v2 lists them. */
  public com.fasterxml.jackson.databind.JsonNode silences() {
    return get("/api/v2/silences", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Creates a silence from Alertmanager's JSON; returns its id. */
  public String addSilence(com.fasterxml.jackson.databind.JsonNode silence) {
    return post("/api/v2/silences", silence, com.fasterxml.jackson.databind.JsonNode.class)
        .path("silenceID")
        .asText();
  }

  /** Open incidents ({@code all}: the last 100, open or not): {"incidents": [...]}. */
  public com.fasterxml.jackson.databind.JsonNode incidents(boolean all) {
    return get(
        "/api/v1/incidents" + (all ? "?all=true" : ""),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** One incident with its alerts and timeline. */
  public com.fasterxml.jackson.databind.JsonNode incident(long id) {
    return get("/api/v1/incidents/" + id, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Acknowledges (action "ack") or resolves (action "resolve") an incident as someone. */
  public com.fasterxml.jackson.databind.JsonNode incidentAction(long id, String action, String by) {
    return post(
        "/api/v1/incidents/" + id + "/" + action + "?by=" + enc(by),
        null,
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The incident's postmortem draft, Markdown. */
  public String postmortem(long id) {
    return getText("/api/v1/incidents/" + id + "/postmortem");
  }

  /** Who is on call now per schedule: {"schedules": [...]}. */
  public com.fasterxml.jackson.databind.JsonNode oncall() {
    return get("/api/v1/oncall", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Expires a silence now. */
  public void expireSilence(String id) {
    send(request("/api/v2/silence/" + enc(id)).header("X-Pilothouse-Client", "cli").delete());
  }

  /** Every feature flag, as JSON objects (docs/flags.md). */
  public com.fasterxml.jackson.databind.JsonNode flags() {
    return get("/api/v1/flags", com.fasterxml.jackson.databind.JsonNode.class);
  }

  public com.fasterxml.jackson.databind.JsonNode flag(String key) {
    return get("/api/v1/flags/" + enc(key), com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Creates or replaces a flag from its JSON definition; the daemon validates it. */
  public com.fasterxml.jackson.databind.JsonNode putFlag(
      String key, com.fasterxml.jackson.databind.JsonNode definition) {
    try {
      Call req =
          request("/api/v1/flags/" + enc(key))
              .header("Content-Type", "application/json")
              .header("X-Pilothouse-Client", "cli")
              .put((JSON.writeValueAsString(definition)));
      return read(send(req), com.fasterxml.jackson.databind.JsonNode.class);
    } catch (JsonProcessingException e) {
      throw badAnswer(e);
    }
  }

  public void deleteFlag(String key) {
    send(request("/api/v1/flags/" + enc(key)).header("X-Pilothouse-Client", "cli").delete());
  }

  /**
   * Makes an API token: {name, role, services, grants, expires}; the answer holds its secret as
   * "token", shown this once (docs/security.md#roles).
   */
  public com.fasterxml.jackson.databind.JsonNode createToken(java.util.Map<String, Object> body) {
    return post("/api/v1/tokens", body, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Every API token (never a secret), revoked and expired ones too. */
  public com.fasterxml.jackson.databind.JsonNode tokens() {
    return get("/api/v1/tokens", com.fasterxml.jackson.databind.JsonNode.class);
  }

  public com.fasterxml.jackson.databind.JsonNode revokeToken(String name) {
    return read(
        send(request("/api/v1/tokens/" + enc(name)).delete()),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Sets a secret's value (a new version); the answer names the version and its users. */
  public com.fasterxml.jackson.databind.JsonNode setSecret(String name, String value) {
    try {
      Call req =
          request("/api/v1/secrets/" + enc(name))
              .header("Content-Type", "application/json")
              .put(JSON.writeValueAsString(java.util.Map.of("value", value)));
      return read(send(req), com.fasterxml.jackson.databind.JsonNode.class);
    } catch (JsonProcessingException e) {
      throw badAnswer(e);
    }
  }

  /** Every secret without its value (docs/security.md#secrets). */
  public com.fasterxml.jackson.databind.JsonNode secrets() {
    return get("/api/v1/secrets", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** A secret's current value: {name, version, value}. */
  public com.fasterxml.jackson.databind.JsonNode secret(String name) {
    return get(
        "/api/v1/secrets/" + enc(name) + "/value", com.fasterxml.jackson.databind.JsonNode.class);
  }

  public com.fasterxml.jackson.databind.JsonNode deleteSecret(String name) {
    return read(
        send(request("/api/v1/secrets/" + enc(name)).delete()),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Rotates a secret now: {name, version, kind, restarted}. */
  public com.fasterxml.jackson.databind.JsonNode rotateSecret(String name) {
    return post(
        "/api/v1/secrets/" + enc(name) + "/rotate",
        java.util.Map.of(),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /**
   * Captures a service's diagnostics (docs/runbooks/incident-response.md): the bundle, encrypted
   * with key (32 bytes, base64url), which the daemon does not keep.
   */
  public byte[] captureIncident(String service, String key) {
    try {
      Call c =
          request("/api/v1/services/" + enc(service) + "/capture")
              .header("Content-Type", "application/json")
              .post(JSON.writeValueAsString(java.util.Map.of("key", key)));
      Answer r = open(c);
      if (r.status() >= 300) {
        throw failure(r.status(), r.text());
      }
      try (InputStream in = r.body()) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /** Scans the host and services (or one service) for known vulnerabilities. */
  public com.fasterxml.jackson.databind.JsonNode scan(String service, boolean cyclonedx) {
    StringBuilder q = new StringBuilder("/api/v1/scan");
    String sep = "?";
    if (service != null) {
      q.append(sep).append("service=").append(enc(service));
      sep = "&";
    }
    if (cyclonedx) {
      q.append(sep).append("format=cyclonedx");
    }
    return get(q.toString(), com.fasterxml.jackson.databind.JsonNode.class);
  }

  /**
   * Ingests bill files on the daemon's host (docs/cost.md); the answer's JSON text, amounts exact.
   */
  public String costIngest(
      java.util.List<String> paths, java.util.Map<String, String> rates, boolean skipInvalid) {
    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("paths", paths);
    body.put("rates", rates);
    body.put("skipInvalid", skipInvalid);
    String json;
    try {
      json = JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialize request", e);
    }
    return send(
        request("/api/v1/cost/ingest").header("Content-Type", "application/json").post(json));
  }

  /**
   * A cost read ({@code bills}, {@code report}, {@code recommendations}, {@code budgets}, {@code
   * anomalies}) with its query parameters (null values left out); the answer's JSON text.
   */
  public String cost(String what, java.util.Map<String, String> params) {
    StringBuilder q = new StringBuilder("/api/v1/cost/").append(enc(what));
    String sep = "?";
    for (java.util.Map.Entry<String, String> e : params.entrySet()) {
      if (e.getValue() != null) {
        q.append(sep).append(enc(e.getKey())).append('=').append(enc(e.getValue()));
        sep = "&";
      }
    }
    return send(request(q.toString()));
  }

  /** Starts a chaos run of an experiment file's text (a dry run injects nothing). */
  public com.fasterxml.jackson.databind.JsonNode chaosStart(
      String file, String yaml, boolean dryRun) {
    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("file", file);
    body.put("yaml", yaml);
    body.put("dryRun", dryRun);
    return post("/api/v1/chaos/runs", body, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The chaos runs kept, newest first (summaries); of one experiment when it is not null. */
  public com.fasterxml.jackson.databind.JsonNode chaosRuns(String experiment) {
    return get(
        "/api/v1/chaos/runs?limit=500"
            + (experiment == null ? "" : "&experiment=" + enc(experiment)),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The kill switch, game days and the monkey. */
  public com.fasterxml.jackson.databind.JsonNode chaosStatus() {
    return get("/api/v1/chaos/status", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Turns the kill switch on: runs under way are aborted, nothing new starts. */
  public com.fasterxml.jackson.databind.JsonNode chaosDisable(String reason) {
    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("reason", reason);
    return post("/api/v1/chaos/disable", body, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Lifts the kill switch. */
  public com.fasterxml.jackson.databind.JsonNode chaosEnable() {
    return post(
        "/api/v1/chaos/enable", java.util.Map.of(), com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** One chaos run in full. */
  public com.fasterxml.jackson.databind.JsonNode chaosRun(String id) {
    return get("/api/v1/chaos/runs/" + enc(id), com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** One chaos run's report in Markdown. */
  public String chaosReport(String id) {
    return send(request("/api/v1/chaos/runs/" + enc(id) + "?format=md"));
  }

  /** Stops a chaos run; its rollbacks run at once. */
  public com.fasterxml.jackson.databind.JsonNode chaosAbort(String id) {
    return post(
        "/api/v1/chaos/runs/" + enc(id) + "/abort",
        java.util.Map.of(),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Imports OSV records from a directory or zip on the daemon's host. */
  public com.fasterxml.jackson.databind.JsonNode updateScanDatabase(String path) {
    return post(
        "/api/v1/scan/update",
        java.util.Map.of("path", path),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Audits the daemon's host against a profile (docs/security.md#host-audit). */
  public com.fasterxml.jackson.databind.JsonNode auditHost(String profile) {
    return post(
        "/api/v1/audit/host",
        java.util.Map.of("profile", profile),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Applies (or, with dryRun, lists) the audit's automatic fixes, then audits again. */
  public com.fasterxml.jackson.databind.JsonNode fixHost(String profile, boolean dryRun) {
    return post(
        "/api/v1/audit/host/fix",
        java.util.Map.of("profile", profile, "dryRun", dryRun),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Verifies the event log against its signed checkpoints (docs/security.md#audit-log). */
  public com.fasterxml.jackson.databind.JsonNode auditVerify() {
    return get("/api/v1/audit/verify", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** An inclusion proof of one event against the newest checkpoint covering it. */
  public com.fasterxml.jackson.databind.JsonNode auditProof(long seq) {
    return get("/api/v1/audit/proof/" + seq, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Signs a checkpoint over the events so far, if there are new ones. */
  public com.fasterxml.jackson.databind.JsonNode auditCheckpoint() {
    return post("/api/v1/audit/checkpoint", null, com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Copies the events after seq to out as JSON lines. */
  public void auditExport(long after, OutputStream out) {
    try {
      Answer r = open(request("/api/v1/audit/export?after=" + after));
      if (r.status() != 200) {
        throw failure(r.status(), r.text());
      }
      try (InputStream in = r.body()) {
        in.transferTo(out);
      }
      out.flush();
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /** Every experiment, or one by name (docs/experiments.md). */
  public com.fasterxml.jackson.databind.JsonNode experiments(String name) {
    return get(
        name == null ? "/api/v1/experiments" : "/api/v1/experiments/" + enc(name),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Promotes a variant of an experiment (null: stops it, the service as declared stays). */
  public com.fasterxml.jackson.databind.JsonNode endExperiment(String name, String variant) {
    return variant == null
        ? post(
            "/api/v1/experiments/" + enc(name) + "/stop",
            null,
            com.fasterxml.jackson.databind.JsonNode.class)
        : post(
            "/api/v1/experiments/" + enc(name) + "/promote",
            java.util.Map.of("variant", variant),
            com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Starts a gradual change of a flag: {"to", "steps", "every", "checks"} (docs/flags.md). */
  public com.fasterxml.jackson.databind.JsonNode startFlagRollout(
      String key, com.fasterxml.jackson.databind.JsonNode plan) {
    try {
      Call req =
          request("/api/v1/flags/" + enc(key) + "/rollout")
              .header("Content-Type", "application/json")
              .header("X-Pilothouse-Client", "cli")
              .post((JSON.writeValueAsString(plan)));
      return read(send(req), com.fasterxml.jackson.databind.JsonNode.class);
    } catch (JsonProcessingException e) {
      throw badAnswer(e);
    }
  }

  /** The newest gradual change of one flag, or of every flag when key is null. */
  public com.fasterxml.jackson.databind.JsonNode flagRollout(String key) {
    return get(
        key == null ? "/api/v1/flag-rollouts" : "/api/v1/flags/" + enc(key) + "/rollout",
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Aborts a flag's gradual change: everyone back on the old variant. */
  public com.fasterxml.jackson.databind.JsonNode abortFlagRollout(String key) {
    return read(
        send(
            request("/api/v1/flags/" + enc(key) + "/rollout")
                .header("X-Pilothouse-Client", "cli")
                .delete()),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Changes of one flag (or of all when key is null), newest first. */
  public com.fasterxml.jackson.databind.JsonNode flagHistory(String key, int limit) {
    return get(
        (key == null ? "/api/v1/flag-history" : "/api/v1/flags/" + enc(key) + "/history")
            + "?limit="
            + limit,
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The latest rollout of every service that had one. */
  public List<Wire.Rollout> rollouts() {
    return get("/api/v1/rollouts", new TypeReference<List<Wire.Rollout>>() {});
  }

  public Wire.Rollout rollout(String service) {
    return get("/api/v1/rollouts/" + enc(service), Wire.Rollout.class);
  }

  /** promote, pause, resume or abort. */
  public Wire.Rollout rolloutAction(String service, String action) {
    return post("/api/v1/rollouts/" + enc(service) + "/" + enc(action), null, Wire.Rollout.class);
  }

  public Wire.Ack shutdown(boolean stopInstances) {
    return post("/api/v1/shutdown?stopInstances=" + stopInstances, null, Wire.Ack.class);
  }

  /** Checks the event log's hash chain. */
  public Wire.ChainCheck verifyEvents() {
    return get("/api/v1/events/verify", Wire.ChainCheck.class);
  }

  public List<Wire.Event> events(long after, int limit) {
    return get(
        "/api/v1/events?after=" + after + "&limit=" + limit,
        new TypeReference<List<Wire.Event>>() {});
  }

  /** Follows the SSE event stream, calling sink per event, until the stream ends. */
  public void followEvents(long after, Consumer<Wire.Event> sink) {
    Call req =
        request("/api/v1/events/stream?after=" + after).header("Accept", "text/event-stream");

    try {
      Answer r = open(req);
      if (r.status() != 200) {
        throw failure(r.status(), r.text());
      }
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.startsWith("data:")) {
            sink.accept(JSON.readValue(line.substring(5).trim(), Wire.Event.class));
          }
        }
      }
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /** Copies a service's logs to out; with follow, keeps copying until the connection ends. */
  public void logs(
      String service, String instance, String since, boolean follow, OutputStream out) {
    StringBuilder q =
        new StringBuilder("/api/v1/services/" + enc(service) + "/logs?follow=" + follow);
    if (instance != null) {
      q.append("&instance=").append(enc(instance));
    }
    if (since != null) {
      q.append("&since=").append(enc(since));
    }
    try {
      Answer r = open(request(q.toString()));
      if (r.status() != 200) {
        throw failure(r.status(), r.text());
      }
      try (InputStream in = r.body()) {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      }
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /**
   * Backs up a service now: each progress line goes to progress; returns the snapshot.
   *
   * @throws ApiException when the backup fails (its message says why)
   */
  public com.fasterxml.jackson.databind.JsonNode backup(
      String service, Consumer<com.fasterxml.jackson.databind.JsonNode> progress) {
    return streamed("/api/v1/backups/" + enc(service), "{}", progress);
  }

  /** Restores a snapshot of a service (into target, or its own paths when target is null). */
  public com.fasterxml.jackson.databind.JsonNode restore(
      String service,
      String snapshot,
      String target,
      Consumer<com.fasterxml.jackson.databind.JsonNode> progress) {
    return restore(service, snapshot, target, null, progress);
  }

  /** Restores from a repository of the service's plan: its own (from null) or a replica. */
  public com.fasterxml.jackson.databind.JsonNode restore(
      String service,
      String snapshot,
      String target,
      String from,
      Consumer<com.fasterxml.jackson.databind.JsonNode> progress) {
    java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
    body.put("snapshot", snapshot);
    if (target != null) {
      body.put("target", target);
    }
    if (from != null) {
      body.put("from", from);
    }
    return restore(service, body, progress);
  }

  /**
   * Restores with a request body as the API takes it: snapshot, target, from, and for PostgreSQL
   * services time, lsn, name and timeline (point-in-time recovery).
   */
  public com.fasterxml.jackson.databind.JsonNode restore(
      String service,
      java.util.Map<String, Object> body,
      Consumer<com.fasterxml.jackson.databind.JsonNode> progress) {
    try {
      return streamed(
          "/api/v1/services/" + enc(service) + "/restore", JSON.writeValueAsString(body), progress);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /**
   * Archives a WAL file of a PostgreSQL service (its archive_command): path in its pg_wal, name as
   * PostgreSQL gives it. False when that very file was archived already.
   */
  public boolean walPush(String service, String path, String name) {
    return post(
            "/api/v1/backups/" + enc(service) + "/wal/push",
            java.util.Map.of("path", path, "name", name),
            com.fasterxml.jackson.databind.JsonNode.class)
        .path("archived")
        .asBoolean();
  }

  /**
   * Fetches an archived WAL file into a PostgreSQL service's pg_wal (its restore_command). False
   * when the archive has no such file.
   */
  public boolean walFetch(String service, String name, String path) {
    try {
      post(
          "/api/v1/backups/" + enc(service) + "/wal/fetch",
          java.util.Map.of("name", name, "path", path),
          com.fasterxml.jackson.databind.JsonNode.class);
      return true;
    } catch (ApiException e) {
      if (e.status() == 404) {
        return false;
      }
      throw e;
    }
  }

  /** The state of a PostgreSQL service's WAL archive. */
  public com.fasterxml.jackson.databind.JsonNode walStatus(String service) {
    return get(
        "/api/v1/backups/" + enc(service) + "/wal", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Runs a disaster-recovery drill of a service; answers when it is done. */
  public com.fasterxml.jackson.databind.JsonNode drill(String service) {
    return post(
        "/api/v1/services/" + enc(service) + "/drill",
        null,
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Each backed-up service against its recovery objectives: {"ok", "services": [...]}. */
  public com.fasterxml.jackson.databind.JsonNode drStatus() {
    return get("/api/v1/dr", com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** The snapshots of one service (or all, with null): {"snapshots": [...]}. */
  public com.fasterxml.jackson.databind.JsonNode backups(String service) {
    return get(
        "/api/v1/backups" + (service == null ? "" : "?service=" + enc(service)),
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Verifies repositories (one, or all with null), reading share (0..1) of their data. */
  public com.fasterxml.jackson.databind.JsonNode verifyBackups(String repository, double share) {
    return post(
        "/api/v1/backups/verify?readData="
            + share
            + (repository == null ? "" : "&repository=" + enc(repository)),
        null,
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** Applies retention and prunes (one service's repository, or all with null). */
  public com.fasterxml.jackson.databind.JsonNode pruneBackups(String service, boolean dryRun) {
    return post(
        "/api/v1/backups/prune?dryRun="
            + dryRun
            + (service == null ? "" : "&service=" + enc(service)),
        null,
        com.fasterxml.jackson.databind.JsonNode.class);
  }

  /** POSTs body and reads NDJSON: progress lines, then a result or an error line. */
  private com.fasterxml.jackson.databind.JsonNode streamed(
      String path, String body, Consumer<com.fasterxml.jackson.databind.JsonNode> progress) {
    Call req = request(path).header("Content-Type", "application/json").post((body));
    try {
      Answer r = open(req);
      if (r.status() != 200) {
        throw failure(r.status(), r.text());
      }
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(line);
          if (n.has("progress")) {
            progress.accept(n.get("progress"));
          } else if (n.has("result")) {
            return n.get("result");
          } else if (n.has("error")) {
            throw new ApiException(
                500, new Wire.Error(n.path("error").asText(), n.path("hint").asText(), List.of()));
          }
        }
      }
      throw new ApiException(
          0,
          new Wire.Error(
              "the daemon closed the connection before the result",
              "see 'pilothouse events'; the operation may still be running",
              List.of()));
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  /** GET of a path; the body as text. For endpoints without a wire record. */
  public String getText(String path) {
    return send(request(path));
  }

  private <T> T get(String path, Class<T> type) {
    return read(send(request(path)), type);
  }

  private <T> T get(String path, TypeReference<T> type) {
    try {
      return JSON.readValue(send(request(path)), type);
    } catch (JsonProcessingException e) {
      throw badAnswer(e);
    }
  }

  private <T> T post(String path, Object body, Class<T> type) {
    String json;
    try {
      json = body == null ? "{}" : JSON.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot serialize request", e);
    }
    Call req = request(path).header("Content-Type", "application/json").post((json));
    return read(send(req), type);
  }

  /** A GET of path, until a method and body are given. */
  private static Call request(String path) {
    return new Call(path);
  }

  /**
   * One request to the API. Sent through HttpURLConnection: java.net.http's client took a quarter
   * of a second to start in every CLI run (it loads the TLS trust store, even for plain http).
   */
  private static final class Call {
    final String path;
    final java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
    String method = "GET";
    byte[] body;

    Call(String path) {
      this.path = path;
    }

    Call header(String name, String value) {
      headers.put(name, value);
      return this;
    }

    Call post(String json) {
      return with("POST", json);
    }

    Call put(String json) {
      return with("PUT", json);
    }

    Call delete() {
      return with("DELETE", null);
    }

    private Call with(String m, String json) {
      method = m;
      body = json == null ? null : json.getBytes(StandardCharsets.UTF_8);
      return this;
    }
  }

  /** A response's status and body (the error body for a status of 400 or more). */
  private record Answer(int status, InputStream body) {
    String text() throws IOException {
      try (InputStream in = body) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
  }

  private Answer open(Call c) throws IOException {
    HttpURLConnection u = (HttpURLConnection) URI.create(base + c.path).toURL().openConnection();
    if (pinned != null && u instanceof javax.net.ssl.HttpsURLConnection https) {
      https.setSSLSocketFactory(pinned);
      https.setHostnameVerifier((host, session) -> true); // the pinned fingerprint is the check
    }
    u.setConnectTimeout((int) CONNECT_TIMEOUT.toMillis());
    u.setUseCaches(false);
    u.setInstanceFollowRedirects(false);
    u.setRequestMethod(c.method);
    u.setRequestProperty("Authorization", "Bearer " + token);
    c.headers.forEach(u::setRequestProperty);
    if (c.body != null) {
      u.setDoOutput(true);
      // a fixed length also means the request is never silently sent twice
      u.setFixedLengthStreamingMode(c.body.length);
      try (OutputStream out = u.getOutputStream()) {
        out.write(c.body);
      }
    }
    int status = u.getResponseCode();
    InputStream in = status >= 400 ? u.getErrorStream() : u.getInputStream();
    return new Answer(status, in == null ? InputStream.nullInputStream() : in);
  }

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(3);

  private String send(Call req) {
    try {
      Answer r = open(req);
      String body = r.text();
      if (r.status() >= 300) {
        throw failure(r.status(), body);
      }
      return body;
    } catch (IOException e) {
      throw unreachable(e);
    }
  }

  private static ApiException failure(int status, String body) {
    try {
      Wire.Error err = JSON.readValue(body, Wire.Error.class);
      if (err.error() != null) {
        return new ApiException(
            status,
            new Wire.Error(
                err.error(),
                err.hint() == null ? "" : err.hint(),
                err.problems() == null ? List.of() : err.problems()));
      }
    } catch (JsonProcessingException e) {
      // not one of our error bodies; fall through
    }
    return new ApiException(status, new Wire.Error("HTTP " + status + ": " + body, "", List.of()));
  }

  private ApiException unreachable(IOException e) {
    String why =
        e instanceof ConnectException ? "connection refused" : String.valueOf(e.getMessage());
    return new ApiException(
        0,
        new Wire.Error(
            "cannot reach the daemon at " + base + " (" + why + ")",
            "start it with 'pilothouse up', or check --state-dir",
            List.of()));
  }

  private static ApiException badAnswer(JsonProcessingException e) {
    return new ApiException(
        0,
        new Wire.Error(
            "the daemon sent an unreadable answer: " + e.getOriginalMessage(), "", List.of()));
  }

  private static <T> T read(String body, Class<T> type) {
    try {
      return JSON.readValue(body, type);
    } catch (JsonProcessingException e) {
      throw badAnswer(e);
    }
  }

  /**
   * One path segment or query value, percent-encoded ('+' means a plus in a path: space is %20).
   */
  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
