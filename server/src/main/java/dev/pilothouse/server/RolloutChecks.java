package dev.pilothouse.server;

import dev.pilothouse.client.load.LoadGenerator;
import dev.pilothouse.core.analysis.Verdict;
import dev.pilothouse.core.flags.FlagChecks;
import dev.pilothouse.core.flags.FlagRollout;
import dev.pilothouse.core.rollout.Ports;
import dev.pilothouse.core.rollout.Rollout;
import dev.pilothouse.core.rollout.RolloutController;
import dev.pilothouse.core.spec.RouteSpec;
import dev.pilothouse.core.spec.ServiceSpec;
import dev.pilothouse.core.spec.Strategy;
import dev.pilothouse.tsdb.promql.Condition;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the checks of rollouts that need I/O: smoke tests through the load balancer (targeted at the
 * new version by the preview header), custom webhook, command and PromQL checks (of deploys and of
 * gradual flag changes), and the load generator. Each runs on its own virtual thread; results come
 * back as verdicts.
 */
final class RolloutChecks implements Ports.Checks, FlagChecks, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RolloutChecks.class);
  private static final int MAX_BODY = 64 * 1024;

  private final Supplier<Integer> proxyPort;
  private final Supplier<dev.pilothouse.core.spec.Spec> spec;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final java.util.function.Function<
          dev.pilothouse.tsdb.promql.Ast.Expr, dev.pilothouse.tsdb.promql.Value>
      query;
  private final HttpClient http;

  /**
   * @param proxyPort the load balancer's port, or null while it does not listen
   * @param spec the desired state now in force (for routes and working directories)
   */
  private final String previewSecret;

  RolloutChecks(
      Supplier<Integer> proxyPort,
      Supplier<dev.pilothouse.core.spec.Spec> spec,
      java.util.function.Function<
              dev.pilothouse.tsdb.promql.Ast.Expr, dev.pilothouse.tsdb.promql.Value>
          query,
      String previewSecret) {
    this.previewSecret = previewSecret;
    this.proxyPort = proxyPort;
    this.spec = spec;
    this.query = query;
    this.http =
        HttpClient.newBuilder()
            .executor(executor)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public CompletableFuture<List<Verdict>> smoke(String service, List<Strategy.SmokeTest> tests) {
    return CompletableFuture.supplyAsync(
        () -> {
          List<Verdict> out = new ArrayList<>();
          for (Strategy.SmokeTest t : tests) {
            out.add(smokeOne(service, t));
          }
          return out;
        },
        executor);
  }

  /** How long a smoke test waits for the load balancer to send it to the new version. */
  static final Duration REACH_NEW_VERSION = Duration.ofSeconds(10);

  /**
   * One smoke test, sent again (every 250 ms, for up to {@link #REACH_NEW_VERSION}) while the
   * stable version answers it: the load balancer's table may not list the new instances yet, and a
   * stable answer says nothing of the new version.
   */
  private Verdict smokeOne(String service, Strategy.SmokeTest t) {
    long deadline = System.nanoTime() + REACH_NEW_VERSION.toNanos();
    while (true) {
      Verdict v = smokeOnce(service, t);
      if (v != NOT_THE_NEW_VERSION) {
        return v;
      }
      if (System.nanoTime() > deadline) {
        return fail(
            "smoke " + t.method() + " " + t.path(),
            Double.NaN,
            "the load balancer did not send "
                + t.method()
                + " "
                + t.path()
                + " to the new version within "
                + REACH_NEW_VERSION.toSeconds()
                + " s (the stable version answered)");
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail("smoke " + t.method() + " " + t.path(), Double.NaN, "interrupted");
      }
    }
  }

  private static final Verdict NOT_THE_NEW_VERSION =
      new Verdict("smoke", Verdict.Outcome.INCONCLUSIVE, Double.NaN, Double.NaN, "stable answered");

  private Verdict smokeOnce(String service, Strategy.SmokeTest t) {
    String name = "smoke " + t.method() + " " + t.path();
    Integer port = proxyPort.get();
    RouteSpec route = spec.get().service(service).map(ServiceSpec::route).orElse(null);
    if (port == null || route == null) {
      return fail(name, Double.NaN, "the load balancer does not route " + service);
    }
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + t.path()))
            .timeout(t.maxLatency().plusSeconds(5))
            .header(RolloutController.PREVIEW_HEADER, previewSecret)
            .method(t.method(), HttpRequest.BodyPublishers.noBody());
    if (!route.host().isEmpty()) {
      b.header("Host", route.host());
    }
    long start = System.nanoTime();
    try {
      HttpResponse<InputStream> res =
          http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
      String body;
      try (InputStream in = res.body()) {
        body = new String(in.readNBytes(MAX_BODY), StandardCharsets.UTF_8);
      }
      double ms = (System.nanoTime() - start) / 1e6;
      if (res.headers().firstValue(RolloutController.PREVIEW_SERVED_HEADER).isEmpty()) {
        return NOT_THE_NEW_VERSION;
      }
      String who = t.method() + " " + t.path();
      String version = res.headers().firstValue("x-pilothouse-version").orElse("");
      if (res.statusCode() != t.status()) {
        return fail(name, ms, who + " answered " + res.statusCode() + ", expected " + t.status());
      }
      if (!t.body().isEmpty() && !body.contains(t.body())) {
        return fail(name, ms, who + " answered without '" + t.body() + "' in its body");
      }
      if (ms > t.maxLatency().toMillis()) {
        return fail(
            name,
            ms,
            who
                + " took "
                + Math.round(ms)
                + " ms, more than the allowed "
                + t.maxLatency().toMillis()
                + " ms");
      }
      return new Verdict(
          name,
          Verdict.Outcome.PASS,
          Double.NaN,
          ms,
          who
              + " answered "
              + res.statusCode()
              + " in "
              + Math.round(ms)
              + " ms"
              + (version.isEmpty() ? "" : " from " + version));
    } catch (IOException e) {
      return fail(name, (System.nanoTime() - start) / 1e6, t.path() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail(name, Double.NaN, "interrupted");
    }
  }

  private static Verdict fail(String name, double ms, String reason) {
    return new Verdict(name, Verdict.Outcome.FAIL, Double.NaN, ms, reason);
  }

  @Override
  public CompletableFuture<List<Verdict>> custom(Rollout r, List<Strategy.Check> checks) {
    Path workdir = Path.of(r.after().service(r.service()).map(ServiceSpec::workdir).orElse("."));
    return run(context(r), workdir, checks);
  }

  /**
   * A gradual flag change's checks: webhooks get {@code {"flag", "variant", "from_variant",
   * "percent", "step"}}, commands the same as {@code PILOTHOUSE_*} variables and run in the
   * daemon's working directory.
   */
  @Override
  public CompletableFuture<List<Verdict>> run(FlagRollout r, List<Strategy.Check> checks) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("flag", r.key());
    m.put("variant", r.to());
    m.put("from_variant", r.from());
    m.put("percent", Integer.toString(r.percent()));
    m.put("step", Integer.toString(r.step()));
    return run(m, Path.of("."), checks);
  }

  private CompletableFuture<List<Verdict>> run(
      Map<String, String> context, Path workdir, List<Strategy.Check> checks) {
    List<CompletableFuture<Verdict>> each = new ArrayList<>();
    for (Strategy.Check c : checks) {
      each.add(
          CompletableFuture.supplyAsync(
              () ->
                  switch (c.kind()) {
                    case "webhook" -> webhook(context, c);
                    case "promql" -> promql(c);
                    default -> command(context, workdir, c);
                  },
              executor));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
  }

  /**
   * Asks each gate: POSTs the rollout's context (as webhook checks get it) with {@code "gate"}: the
   * gate's type; a 2xx answer is yes (unless its JSON says {"result": "fail"}).
   */
  @Override
  public CompletableFuture<List<Verdict>> gates(Rollout r, List<Strategy.Gate> gates) {
    List<CompletableFuture<Verdict>> each = new ArrayList<>();
    for (Strategy.Gate g : gates) {
      Strategy.Check asCheck = new Strategy.Check(g.name(), "webhook", g.url(), g.timeout());
      each.add(
          CompletableFuture.supplyAsync(
              () -> {
                Map<String, String> context = context(r);
                context.put("gate", g.type().wire());
                return webhook(context, asCheck);
              },
              executor));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
  }

  /** What a check is told about the rollout, as JSON body or environment. */
  private static Map<String, String> context(Rollout r) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("service", r.service());
    m.put("version", r.after().service(r.service()).map(ServiceSpec::version).orElse(""));
    m.put("stable_version", r.before().service(r.service()).map(ServiceSpec::version).orElse(""));
    m.put("step", Integer.toString(r.step()));
    m.put("weight", Integer.toString(r.weight()));
    m.put("step_started_at", r.stepStartedAt().toString());
    return m;
  }

  /**
   * POSTs the rollout's context as JSON; 2xx passes unless the answer's JSON says {"result":
   * "fail"} or "inconclusive" (with an optional "reason").
   */
  private Verdict webhook(Map<String, String> context, Strategy.Check c) {
    long start = System.nanoTime();
    try {
      String body = Api.JSON.writeValueAsString(context);
      HttpResponse<String> res =
          http.send(
              HttpRequest.newBuilder(URI.create(c.target()))
                  .timeout(c.timeout())
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      double ms = (System.nanoTime() - start) / 1e6;
      String result = "";
      String reason = "";
      if (res.body() != null && res.body().trim().startsWith("{")) {
        try {
          var node = Api.JSON.readTree(res.body());
          result = node.path("result").asText("");
          reason = node.path("reason").asText("");
        } catch (IOException e) {
          reason = "";
        }
      }
      boolean ok = res.statusCode() / 100 == 2;
      Verdict.Outcome outcome =
          !ok || result.equalsIgnoreCase("fail")
              ? Verdict.Outcome.FAIL
              : result.equalsIgnoreCase("inconclusive")
                  ? Verdict.Outcome.INCONCLUSIVE
                  : Verdict.Outcome.PASS;
      String why =
          c.name()
              + ": webhook answered "
              + res.statusCode()
              + (reason.isEmpty() ? "" : " (" + reason + ")");
      return new Verdict(c.name(), outcome, Double.NaN, ms, why);
    } catch (IOException e) {
      return fail(c.name(), Double.NaN, c.name() + ": webhook failed: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail(c.name(), Double.NaN, "interrupted");
    }
  }

  /**
   * Evaluates the PromQL expression now as a {@link Condition}: passes when it holds, fails naming
   * the first series for which it does not (with its value), and is inconclusive without data.
   */
  private Verdict promql(Strategy.Check c) {
    Condition.Result res;
    try {
      res = new Condition(query).evaluate(c.target());
    } catch (RuntimeException e) {
      return fail(c.name(), Double.NaN, c.name() + ": " + e.getMessage());
    }
    Verdict.Outcome outcome =
        switch (res.outcome()) {
          case TRUE -> Verdict.Outcome.PASS;
          case FALSE -> Verdict.Outcome.FAIL;
          case NO_DATA -> Verdict.Outcome.INCONCLUSIVE;
        };
    return new Verdict(c.name(), outcome, Double.NaN, res.value(), c.name() + ": " + res.detail());
  }

  /** Runs the command with sh -c; exit 0 passes. Its last output line is quoted in the reason. */
  private Verdict command(Map<String, String> context, Path workdir, Strategy.Check c) {
    ProcessBuilder pb = new ProcessBuilder("sh", "-c", c.target());
    pb.directory(workdir.toFile());
    pb.redirectErrorStream(true);
    context.forEach(
        (k, v) -> pb.environment().put("PILOTHOUSE_" + k.toUpperCase(java.util.Locale.ROOT), v));
    long start = System.nanoTime();
    try {
      Process p = pb.start();
      byte[] out;
      CompletableFuture<byte[]> reader =
          CompletableFuture.supplyAsync(
              () -> {
                try (InputStream in = p.getInputStream()) {
                  return in.readNBytes(MAX_BODY);
                } catch (IOException e) {
                  return new byte[0];
                }
              },
              executor);
      if (!p.waitFor(c.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        return fail(c.name(), Double.NaN, c.name() + ": timed out after " + human(c.timeout()));
      }
      out = reader.join();
      double ms = (System.nanoTime() - start) / 1e6;
      String text = new String(out, StandardCharsets.UTF_8).strip();
      String last = text.isEmpty() ? "" : text.substring(text.lastIndexOf('\n') + 1);
      int code = p.exitValue();
      return new Verdict(
          c.name(),
          code == 0 ? Verdict.Outcome.PASS : Verdict.Outcome.FAIL,
          Double.NaN,
          ms,
          c.name() + ": exit code " + code + (last.isEmpty() ? "" : " (" + last + ")"));
    } catch (IOException e) {
      return fail(c.name(), Double.NaN, c.name() + ": could not run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail(c.name(), Double.NaN, "interrupted");
    }
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  @Override
  public void drive(String service, Strategy.Load load, Duration duration) {
    Integer port = proxyPort.get();
    if (port == null) {
      return;
    }
    URI uri = URI.create("http://127.0.0.1:" + port + load.path());
    // The route's virtual host, as users' requests carry it (else the load reaches no route).
    String host =
        spec.get().service(service).map(ServiceSpec::route).map(RouteSpec::host).orElse("");
    executor.execute(
        () -> {
          try {
            LoadGenerator.run(
                new LoadGenerator.Options(
                    uri, load.rate(), duration, 4, Duration.ofSeconds(10), host),
                null);
          } catch (RuntimeException e) {
            log.warn("load generator for {} failed: {}", service, e.toString());
          }
        });
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
